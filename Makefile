# SPDX-License-Identifier: GPL-2.0-only
# tunflow: tc/eBPF flow monitor for VPN tunnels.
#   make          build tunflow and the test tools
#   make demo     install dependencies, build, show tunflow on a tun in a throwaway namespace
#   make test     install dependencies, build, run the whole test suite
#   make deps     install the Debian packages tunflow and its tests need
#   make bench    measure (QUICK=1: datapath only) and write docs/BENCHMARKS.md

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH    := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
OUT     := build

PKGS    := libbpf glib-2.0 libmnl libcap libmicrohttpd libfixbuf
CFLAGS  ?= -O2 -g
CFLAGS  += -Wall -Wextra -std=gnu11 -I$(OUT) -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz
BPF_CFLAGS := -g -O2 -Wall -Wextra -target bpf -D__TARGET_ARCH_$(ARCH) \
	-I/usr/include/$(MULTIARCH) -Isrc

APP_SRCS  := $(wildcard src/*.c)
APP_OBJS  := $(patsubst src/%.c,$(OUT)/%.o,$(APP_SRCS))
LIB_OBJS  := $(filter-out $(OUT)/main.o,$(APP_OBJS))
TEST_LIB  := $(OUT)/pkt.o
TOOLS     := $(OUT)/test_bpf $(OUT)/tunpkt $(OUT)/hookq $(OUT)/other.bpf.o $(OUT)/bench $(OUT)/tunrelay \
	     $(OUT)/ipfixsplit

.PHONY: all clean deps demo test bench
all: $(OUT)/tunflow $(TOOLS)

$(OUT):
	mkdir -p $@

$(OUT)/tunflow.bpf.o: src/bpf/tunflow.bpf.c src/bpf/parse.bpf.h src/flow.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/other.bpf.o: tests/tools/other.bpf.c | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/tunflow.skel.h: $(OUT)/tunflow.bpf.o
	$(BPFTOOL) gen skeleton $< name tunflow_bpf > $@

$(OUT)/%.o: src/%.c $(wildcard src/*.h) $(OUT)/tunflow.skel.h | $(OUT)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/tunflow: $(APP_OBJS)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/pkt.o: tests/lib/pkt.c tests/lib/pkt.h | $(OUT)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/test_bpf: tests/unit/test_bpf.c $(TEST_LIB) $(LIB_OBJS) $(OUT)/tunflow.skel.h
	$(CC) $(CFLAGS) -Itests/lib $< $(TEST_LIB) $(LIB_OBJS) $(LDLIBS) -o $@

$(OUT)/tunpkt: tests/tools/tunpkt.c $(TEST_LIB)
	$(CC) $(CFLAGS) -Itests/lib $< $(TEST_LIB) -o $@

$(OUT)/hookq: tests/tools/hookq.c
	$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

$(OUT)/plain.bpf.o: bench/plain.bpf.c src/flow.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/tunrelay: bench/tunrelay.c | $(OUT)
	$(CC) $(CFLAGS) $< -o $@

$(OUT)/ipfixsplit: tests/tools/ipfixsplit.c | $(OUT)
	$(CC) $(CFLAGS) $< -o $@

$(OUT)/bench: bench/bench.c $(TEST_LIB) $(LIB_OBJS) $(OUT)/plain.bpf.o
	$(CC) $(CFLAGS) -Itests/lib $< $(TEST_LIB) $(LIB_OBJS) $(LDLIBS) -o $@

deps:
	@scripts/deps.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh

test: deps
	$(MAKE) all
	tests/run.sh

bench: deps
	$(MAKE) all
	QUICK=$(QUICK) bench/run.sh

clean:
	rm -rf $(OUT)
