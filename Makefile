# SPDX-License-Identifier: GPL-2.0-only
# tunflow: tc/eBPF flow monitor for VPN tunnels.
#   make          build tunflow and the test tools
#   make demo     install dependencies, build, show tunflow on a tun in a throwaway namespace
#   make test     install dependencies, build, run the whole test suite
#   make deps     install the Debian packages tunflow and its tests need
#   make bench    measure (QUICK=1: datapath only) and write docs/BENCHMARKS.md
#   make fuzz     run every libFuzzer target FUZZ_SECONDS (default 600) each
#   make lint     clang-format and clang-tidy over the sources
#   make install  binary, session hook, unit, man page, docs, example config
#                 (PREFIX=/usr/local, DESTDIR); make uninstall removes them
#   make deb      the Debian package, into build/deb/

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH    := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
OUT     := build

PKGS    := libbpf glib-2.0 libmnl libcap libmicrohttpd libfixbuf yaml-0.1 gnutls libloc ncursesw nettle sqlite3 libcurl libpcap
INCS    := -I$(OUT) -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS  ?= -O2 -g
CFLAGS  += -Wall -Wextra -std=gnu11 -MMD -MP $(INCS)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lcrypt -lm
BPF_CFLAGS := -g -O2 -Wall -Wextra -target bpf -D__TARGET_ARCH_$(ARCH) \
	-I/usr/include/$(MULTIARCH) -Isrc
FUZZ_CFLAGS := -O1 -g -Wall -Wextra -std=gnu11 -MMD -MP $(INCS) \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined

# src/ (main.c, the option table), src/core, src/sources, src/sinks, src/util
APP_SRCS  := $(wildcard src/*.c src/*/*.c)
APP_SRCS  := $(filter-out src/bpf/%,$(APP_SRCS))
APP_OBJS  := $(patsubst src/%.c,$(OUT)/obj/%.o,$(APP_SRCS))
LIB_OBJS  := $(filter-out $(OUT)/obj/main.o,$(APP_OBJS))
FUZZ_LIB  := $(patsubst $(OUT)/obj/%,$(OUT)/fuzz/obj/%,$(LIB_OBJS))
TEST_LIB  := $(OUT)/pkt.o
# plain C unit tests: tests/unit/test_*.c other than the BPF ones
UNIT_SRCS := $(filter-out tests/unit/test_bpf.c,$(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))
TOOLS     := $(OUT)/test_bpf $(OUT)/fuzz_bpf $(OUT)/tunpkt $(OUT)/hookq $(OUT)/other.bpf.o \
	     $(OUT)/bench $(OUT)/storebench $(OUT)/tunrelay $(OUT)/ipfixsplit $(OUT)/connhold $(OUT)/geodb \
	     $(OUT)/ipfixfeed $(OUT)/metricsfeed $(OUT)/tuibench $(OUT)/chbench $(OUT)/replayfloor $(UNIT_BINS)

.PHONY: all clean deps demo test bench fuzz fuzz-build lint
.DELETE_ON_ERROR:
all: $(OUT)/tunflow $(TOOLS)

$(OUT):
	mkdir -p $@

$(OUT)/tunflow.bpf.o: src/bpf/tunflow.bpf.c src/bpf/parse.bpf.h src/flow.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/other.bpf.o: tests/tools/other.bpf.c | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# written whole or not at all: a failed bpftool leaves no empty skeleton behind
$(OUT)/tunflow.skel.h: $(OUT)/tunflow.bpf.o
	$(BPFTOOL) gen skeleton $< name tunflow_bpf > $@.tmp
	mv $@.tmp $@

$(OUT)/obj/%.o: src/%.c | $(OUT)/tunflow.skel.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/tunflow: $(APP_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/pkt.o: tests/lib/pkt.c | $(OUT)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/test_bpf: tests/unit/test_bpf.c $(TEST_LIB) $(LIB_OBJS) | $(OUT)/tunflow.skel.h
	$(CC) $(CFLAGS) -Itests/lib $< $(TEST_LIB) $(LIB_OBJS) $(LDLIBS) -o $@

$(OUT)/fuzz_bpf: tests/unit/fuzz_bpf.c $(TEST_LIB) $(LIB_OBJS) | $(OUT)/tunflow.skel.h
	$(CC) $(CFLAGS) -Itests/lib $< $(TEST_LIB) $(LIB_OBJS) $(LDLIBS) -o $@

$(OUT)/test_%: tests/unit/test_%.c $(LIB_OBJS) | $(OUT)/tunflow.skel.h
	$(CC) $(CFLAGS) -Itests/unit $< $(LIB_OBJS) $(LDLIBS) -o $@

$(OUT)/tunpkt: tests/tools/tunpkt.c $(TEST_LIB)
	$(CC) $(CFLAGS) -Itests/lib $< $(TEST_LIB) -o $@

$(OUT)/hookq: tests/tools/hookq.c | $(OUT)
	$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

$(OUT)/plain.bpf.o: bench/plain.bpf.c src/flow.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/storebench: bench/storebench.c $(LIB_OBJS)
	$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

$(OUT)/tunrelay: bench/tunrelay.c | $(OUT)
	$(CC) $(CFLAGS) $< -o $@

# the floor under tunflow -r: libpcap alone, and an empty program per packet
$(OUT)/replayfloor: bench/replayfloor.c | $(OUT)
	$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

$(OUT)/ipfixsplit: tests/tools/ipfixsplit.c | $(OUT)
	$(CC) $(CFLAGS) $< -o $@

$(OUT)/connhold: tests/tools/connhold.c | $(OUT)
	$(CC) $(CFLAGS) $< -o $@

# records with names and AS into the IPFIX exporter (tests/net/ipfix_names.sh)
$(OUT)/ipfixfeed: tests/tools/ipfixfeed.c $(LIB_OBJS) | $(OUT)/tunflow.skel.h
	$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

# flows with names into /metrics (tests/net/metrics_dest.sh)
$(OUT)/metricsfeed: tests/tools/metricsfeed.c $(LIB_OBJS) | $(OUT)/tunflow.skel.h
	$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

# a location database for the tests (libloc's writer)
$(OUT)/geodb: tests/tools/geodb.c tests/lib/geodb.h | $(OUT)
	$(CC) $(CFLAGS) -Itests/lib $< $(LDLIBS) -o $@

$(OUT)/bench: bench/bench.c $(TEST_LIB) $(LIB_OBJS) $(OUT)/plain.bpf.o
	$(CC) $(CFLAGS) -Itests/lib $< $(TEST_LIB) $(LIB_OBJS) $(LDLIBS) -o $@

# bench-only builds of tunflow's program, each without one piece of its hot path
# (bench/ablate.bpf.c: full is the program as shipped)
ABLATE_OBJS := $(patsubst %,$(OUT)/ablate_%.bpf.o,full direct two_maps no_gso no_stamp fixed_parse)
$(OUT)/ablate_%.bpf.o: bench/ablate.bpf.c src/bpf/tunflow.bpf.c src/bpf/parse.bpf.h src/flow.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) $(if $(filter full,$*),,-DTUNFLOW_ABLATE_$(shell echo $* | tr a-z A-Z)) -c $< -o $@
$(OUT)/bench: $(ABLATE_OBJS)

$(OUT)/tuibench: bench/tuibench.c $(LIB_OBJS)
	$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

$(OUT)/chbench: bench/chbench.c $(LIB_OBJS)
	$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

# libFuzzer targets (clang, ASan, UBSan) over the same sources
$(OUT)/fuzz/obj/%.o: src/%.c | $(OUT)/tunflow.skel.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) $(LDLIBS) -o $@

fuzz-build: $(FUZZ_BINS)

deps:
	@scripts/deps.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh

test: deps
	$(MAKE) all fuzz-build
	tests/run.sh

bench: deps
	$(MAKE) all
	QUICK=$(QUICK) bench/run.sh

# a few minutes of ~2000 new flows/s on a tun: memory and descriptors flat, nothing lost
# (SOAK_SECONDS, default 180); not part of make test
.PHONY: soak
soak: all
	tests/soak.sh

# FUZZ_SECONDS per target (default 600: about 10 minutes a target); new inputs that
# reach new code are kept in tests/fuzz/corpus/TARGET
fuzz: deps
	$(MAKE) fuzz-build
	tests/fuzz/run.sh long $(or $(FUZZ_SECONDS),600)

# clang-tidy: checks that found real problems here once (unchecked comparisons, sscanf
# numbers, unbounded copies, dead stores); the tree is clean of them and stays so
TIDY_CHECKS := -*,bugprone-suspicious-string-compare,bugprone-suspicious-memset-usage,$\
	bugprone-signed-char-misuse,bugprone-not-null-terminated-result,bugprone-integer-division,$\
	cert-err34-c,clang-analyzer-security.insecureAPI.strcpy,clang-analyzer-unix.cstring.*,$\
	clang-analyzer-deadcode.DeadStores
lint: $(OUT)/tunflow.skel.h
	clang-format --dry-run -Werror $(wildcard src/*.[ch] src/*/*.[ch])
	clang-tidy -quiet --warnings-as-errors='*' --checks='$(TIDY_CHECKS)' $(APP_SRCS) -- \
		-std=gnu11 $(INCS)

# ---- install and uninstall (PREFIX, DESTDIR; the Debian package uses PREFIX=/usr and
# UNITDIR=/lib/systemd/system). The example config is installed only where there is no
# config yet, and uninstalled only while it is still the example.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/tunflow
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/tunflow
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
INSTALL    ?= install
DOCS       := README.md $(wildcard docs/*.md)
DASHBOARDS := $(wildcard docs/grafana/*)
CONF       := $(DESTDIR)$(SYSCONFDIR)/tunflow/tunflow.conf

.PHONY: install uninstall
install: $(OUT)/tunflow
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/grafana $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/tunflow
	$(INSTALL) -m 0755 $(OUT)/tunflow $(DESTDIR)$(SBINDIR)/tunflow
	$(INSTALL) -m 0755 scripts/tunflow-session-hook $(DESTDIR)$(LIBEXECDIR)/
	$(INSTALL) -m 0644 docs/tunflow.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 $(DASHBOARDS) $(DESTDIR)$(DOCDIR)/grafana/
	$(INSTALL) -m 0644 dist/tunflow.conf $(DESTDIR)$(DOCDIR)/tunflow.conf.example
	@# the unit names the installed binary and config
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/tunflow.service.in > $(DESTDIR)$(UNITDIR)/tunflow.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tunflow.service
	@if [ -e $(CONF) ]; then echo "install: keeping $(CONF)"; \
	else echo "$(INSTALL) -m 0644 dist/tunflow.conf $(CONF)"; \
		$(INSTALL) -m 0644 dist/tunflow.conf $(CONF); fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tunflow $(DESTDIR)$(LIBEXECDIR)/tunflow-session-hook \
		$(DESTDIR)$(MANDIR)/man8/tunflow.8 $(DESTDIR)$(UNITDIR)/tunflow.service \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)) tunflow.conf.example) \
		$(addprefix $(DESTDIR)$(DOCDIR)/grafana/,$(notdir $(DASHBOARDS)))
	rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR)/grafana $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@if cmp -s dist/tunflow.conf $(CONF); then echo "rm -f $(CONF)"; rm -f $(CONF); \
	elif [ -e $(CONF) ]; then echo "uninstall: keeping $(CONF) (changed)"; fi
	rmdir $(DESTDIR)$(SYSCONFDIR)/tunflow 2>/dev/null || true

# The Debian package, built from a copy in DEBDIR/src (the source tree stays clean);
# the .deb lands in DEBDIR (default build/deb)
DEBDIR ?= $(OUT)/deb
.PHONY: deb
deb:
	rm -rf $(DEBDIR)
	mkdir -p $(DEBDIR)/src
	git ls-files -z --cached --others --exclude-standard | \
		xargs -0 cp -P --parents -t $(DEBDIR)/src
	@# a clean environment: no MAKEFLAGS (CFLAGS=, -j) from an outer make into debian/rules
	cd $(DEBDIR)/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b

clean:
	rm -rf $(OUT)

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
