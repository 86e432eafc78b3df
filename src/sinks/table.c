// SPDX-License-Identifier: GPL-2.0-only
/* The live table: every flow's totals and current rate, most bytes first, under 80
 * columns unless --wide; a footer with totals and every non-zero loss counter. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <glib.h>
#include "util/fmt.h"
#include "util/log.h"
#include "util/text.h"
#include "core/datapath.h"
#include "core/naming.h"
#include "sinks/sink.h"
#include "util/topk.h"

struct table_sink {
	struct stream_sink st;
	struct table_opts o;
	enum group_by group;
	struct user_totals *users; /* --group-by user: totals since start */
	struct flow **top;         /* the rows shown, most bytes first */
	size_t cap;
	struct out_errors errors;
};

/* The k flows with most bytes, in order, into ts->top. */
static size_t top_flows(struct table_sink *ts, struct flow **flows, size_t n, size_t k)
{
	struct topk top;

	if (k > n)
		k = n;
	if (k > ts->cap) {
		struct flow **t = realloc(ts->top, k * sizeof(*t));

		if (!t)
			return 0;
		ts->top = t;
		ts->cap = k;
	}
	if (k == n) {
		memcpy(ts->top, flows, n * sizeof(*flows));
		qsort(ts->top, n, sizeof(*flows), flow_cmp_bytes);
		return n;
	}
	topk_init(&top, ts->top, sizeof(*flows), k, flow_cmp_bytes);
	for (size_t i = 0; i < n; i++)
		topk_offer(&top, &flows[i]);
	return top.n;
}

/* Column widths: interface, endpoints, user (0: no user column). */
struct widths {
	int ifc, ep, user;
};

/* Columns a character takes on a terminal. */
static int char_cols(long cp)
{
	return g_unichar_iszerowidth(cp) ? 0 : g_unichar_iswide(cp) ? 2 : 1;
}

/* s as a cell of exactly w terminal columns, padded with spaces: made safe first (a
 * control or invalid byte the table is handed shows as "\xHH", whatever its source
 * let through), and when too wide cut on a character boundary keeping its end (the
 * port of an endpoint), the cut marked with '~'. buf holds CELL_MAX bytes. */
#define CELL_MAX 256
static const char *cell(const char *s, int w, char *buf)
{
	char *clean = text_is_clean(s) ? NULL : text_clean(s, strlen(s), (size_t)-1);
	const char *t = clean ? clean : s;
	size_t n = strlen(t), start = n, len, o = 0;
	int cols = 0, total = 0;

	for (size_t i = 0; i < n; i += len)
		total += char_cols(utf8_next(t + i, n - i, &len));
	if (total <= w && n + w < CELL_MAX) {
		start = 0;
		cols = total;
	} else {
		/* from the end, as many characters as fit in w - 1 columns after the '~' */
		while (start > 0) {
			size_t b = start - 1;
			int c;

			while (b > 0 && ((unsigned char)t[b] & 0xc0) == 0x80)
				b--;
			c = char_cols(utf8_next(t + b, n - b, &len));
			if (cols + c > w - 1 || n - b + w + 2 >= CELL_MAX)
				break;
			cols += c;
			start = b;
		}
		buf[o++] = '~';
		cols++;
	}
	memcpy(buf + o, t + start, n - start);
	o += n - start;
	for (; cols < w; cols++)
		buf[o++] = ' ';
	buf[o] = 0;
	g_free(clean);
	return buf;
}

static int rows_available(const struct table_sink *ts)
{
	struct winsize ws;

	if (ts->o.top > 0)
		return ts->o.top;
	if (!ts->o.tty)
		return -1;
	if (ioctl(fileno(ts->st.out), TIOCGWINSZ, &ws) || ws.ws_row < 8)
		return 20;
	return ws.ws_row - 6; /* title, header, footer lines */
}

/* Naming's own counters (and the kernel's name_drops): events or parses lost, never
 * packets. One line "names: ..." when any is non-zero. */
static void print_name_losses(FILE *out, const struct report *r)
{
	bool lost = r->counters[CNT_NAME_DROPS] > 0;

	for (int c = 0; r->name_counters && c < NCNT_MAX; c++)
		lost |= r->name_counters[c] > 0;
	if (!lost)
		return;
	fputs("names:", out);
	for (int c = CNT_PKT_MAX; c < CNT_MAX; c++)
		if (r->counters[c])
			fprintf(out, " %s %llu", counter_names[c],
			        (unsigned long long)r->counters[c]);
	for (int c = 0; r->name_counters && c < NCNT_MAX; c++)
		if (r->name_counters[c])
			fprintf(out, " %s %llu", naming_counter_names[c],
			        (unsigned long long)r->name_counters[c]);
	fputc('\n', out);
}

void print_losses(FILE *out, const char *prefix, const struct report *r)
{
	bool lost = r->harvest_errors > 0 || r->attach_errors > 0 || r->evicted > 0 ||
	            r->lost_link_events > 0 || r->malformed_lines > 0 ||
	            (r->export && r->export->failures > 0) ||
	            (r->store && r->store->failures > 0) ||
	            (r->clickhouse && r->clickhouse->failures > 0);

	for (int c = 0; c < CNT_ALL; c++)
		lost |= counter_is_packet(c) && r->counters[c] > 0;
	if (lost) {
		fputs(prefix, out);
		for (int c = 0; c < CNT_ALL; c++)
			if (counter_is_packet(c) && r->counters[c])
				fprintf(out, " %s %llu", counter_names[c],
				        (unsigned long long)r->counters[c]);
		if (r->harvest_errors)
			fprintf(out, " harvest_errors %llu", (unsigned long long)r->harvest_errors);
		if (r->attach_errors)
			fprintf(out, " attach_errors %lu", r->attach_errors);
		if (r->evicted)
			fprintf(out, " evicted %llu", (unsigned long long)r->evicted);
		if (r->lost_link_events)
			fprintf(out, " lost_link_events %lu", r->lost_link_events);
		if (r->malformed_lines)
			fprintf(out, " malformed_lines %lu", r->malformed_lines);
		if (r->export && r->export->failures)
			fprintf(out, " export_failures %llu",
			        (unsigned long long)r->export->failures);
		if (r->store && r->store->failures)
			fprintf(out, " store_failures %llu store_backlog %llu",
			        (unsigned long long)r->store->failures,
			        (unsigned long long)r->store->backlog);
		if (r->clickhouse && r->clickhouse->failures)
			fprintf(out, " clickhouse_failures %llu clickhouse_backlog %llu",
			        (unsigned long long)r->clickhouse->failures,
			        (unsigned long long)r->clickhouse->backlog);
		fputc('\n', out);
	}
	print_name_losses(out, r);
}

void say_losses(const struct report *r)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	print_losses(f, "not in flows:", r);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		pr_warn("%s", line);
	free(buf);
}

static void footer(FILE *out, const struct report *r, __u64 pkts, __u64 bytes, double rate)
{
	char np[8], nb[8], nr[8];

	fmt_si(pkts, np, sizeof(np));
	fmt_si(bytes, nb, sizeof(nb));
	fmt_si(rate, nr, sizeof(nr));
	fprintf(out, "total  %s packets  %s bytes  %s bit/s\n", np, nb, nr);
	print_losses(out, "not in flows:", r);
}

static void title(struct table_sink *ts, const struct report *r)
{
	char now[32];

	if (ts->o.tty && !r->final)
		fputs("\033[H\033[2J", ts->st.out);
	fmt_time(r->now_real_ns, now);
	fprintf(ts->st.out, "tunflow  %d interface%s  %zu flow%s  %s%s\n", r->nifaces,
	        r->nifaces == 1 ? "" : "s", r->nflows, r->nflows == 1 ? "" : "s", now,
	        r->final ? "  (final)" : "");
}

/* --group-by user: one row per user, most bytes first, with totals since start; SENT is
 * ingress on the tunnel (what the user sent), RECV egress. */
static void users_report(struct table_sink *ts, const struct report *r)
{
	int uw = ts->o.wide ? 24 : 12, rows = rows_available(ts);
	size_t n, shown;
	struct user_total *t = user_totals_update(ts->users, r->flows, r->nflows, r->gen, &n);
	__u64 pkts = 0, bytes = 0;
	double rate = 0;
	char ub[CELL_MAX], ni[8], no[8], nr[8], nf[8], dn[CELL_MAX];
	FILE *out = ts->st.out;

	title(ts, r);
	fprintf(out, "%-*s %6s %6s %6s %6s  %s\n", uw, "USER", "FLOWS", "SENT", "RECV", "BIT/S",
	        ts->o.numeric ? "TOP REMOTE ADDRESSES" : "TOP DESTINATIONS");
	shown = rows < 0 || (size_t)rows > n ? n : (size_t)rows;
	for (size_t i = 0; i < n; i++) {
		pkts += t[i].packets[0] + t[i].packets[1];
		bytes += t[i].bytes[0] + t[i].bytes[1];
		rate += t[i].rate_bps;
	}
	for (size_t i = 0; i < shown; i++) {
		int room = ts->o.wide ? 200 : 79 - uw - 30;

		fmt_si(t[i].flows, nf, sizeof(nf));
		fmt_si(t[i].bytes[0], ni, sizeof(ni)); /* sent */
		fmt_si(t[i].bytes[1], no, sizeof(no)); /* received */
		fmt_si(t[i].rate_bps, nr, sizeof(nr));
		fprintf(out, "%s %6s %6s %6s %6s ", cell(t[i].user ? t[i].user : "-", uw, ub), nf,
		        ni, no, nr);
		for (int d = 0; d < t[i].ntop; d++) {
			/* by name where there is one (names are [a-z0-9._-]): with -w its
			 * source too; -n: always the address */
			if (t[i].top[d].name && !ts->o.numeric)
				snprintf(dn, sizeof(dn), ts->o.wide ? "%s (%s)" : "%s",
				         t[i].top[d].name, name_source_names[t[i].top[d].name_src]);
			else
				fmt_addr(t[i].top[d].addr, t[i].top[d].ip_version, dn);
			if ((int)strlen(dn) + 1 > room)
				break;
			room -= fprintf(out, " %s", dn);
		}
		fputc('\n', out);
	}
	if (shown < n)
		fprintf(out, "... %zu more user%s\n", n - shown, n - shown == 1 ? "" : "s");
	footer(out, r, pkts, bytes, rate);
	free(t);
}

/* An endpoint shown by the far side's name: "name:port" (just the name without ports). */
static void far_name(const struct flow_key *k, const char *name, char out[ENDPOINT_STRLEN])
{
	__u16 port = flow_far_port(k);

	if (proto_has_ports(k->proto))
		snprintf(out, ENDPOINT_STRLEN, "%.*s:%u", ENDPOINT_STRLEN - 7, name, port);
	else
		snprintf(out, ENDPOINT_STRLEN, "%.*s", ENDPOINT_STRLEN - 1, name);
}

static int table_report(struct sink *s, const struct report *r)
{
	struct table_sink *ts = (struct table_sink *)s;
	struct widths w = ts->o.wide ? (struct widths){15, 47, 0} : (struct widths){6, 20, 0};
	bool names = !ts->o.numeric; /* -n: addresses, never names */
	__u64 tot_pkts = 0, tot_bytes = 0;
	double tot_rate = 0;
	int rows = rows_available(ts);
	size_t shown;
	char pb[8], a[ENDPOINT_STRLEN], b[ENDPOINT_STRLEN], fa[CELL_MAX], fb[CELL_MAX];
	char ib[CELL_MAX], ub[CELL_MAX];
	char np[8], nb[8], nr[8];
	FILE *out = ts->st.out;

	if (ts->group == GROUP_USER) {
		users_report(ts, r);
		goto done;
	}
	if (r->users) /* make room for the user within 80 columns */
		w = ts->o.wide ? (struct widths){15, 47, 16} : (struct widths){6, 16, 7};
	title(ts, r);
	fprintf(out, "%-*s %-3s %-5s ", w.ifc, "IFACE", "DIR", "PROTO");
	if (w.user)
		fprintf(out, "%-*s ", w.user, "USER");
	fprintf(out, "%-*s %-*s %6s %6s %6s%s\n", w.ep, "SOURCE", w.ep, "DESTINATION", "PKTS",
	        "BYTES", "BIT/S", ts->o.wide && names ? "  NAME" : "");
	for (size_t i = 0; i < r->nflows; i++) {
		tot_pkts += r->flows[i]->packets;
		tot_bytes += r->flows[i]->bytes;
		tot_rate += r->flows[i]->rate_bps;
	}
	shown = top_flows(ts, r->flows, r->nflows, rows < 0 ? r->nflows : (size_t)rows);
	for (size_t i = 0; i < shown; i++) {
		const struct flow *f = ts->top[i];

		fmt_endpoint(&f->key, true, a);
		fmt_endpoint(&f->key, false, b);
		if (f->dest.name && names && !ts->o.wide) /* the far side's name, not address */
			far_name(&f->key, f->dest.name, flow_user_sent(&f->key) ? b : a);
		fmt_si(f->packets, np, sizeof(np));
		fmt_si(f->bytes, nb, sizeof(nb));
		fmt_si(f->rate_bps, nr, sizeof(nr));
		fprintf(out, "%s %-3s %-5s ", cell(iface_name(f->key.ifindex), w.ifc, ib),
		        dir_short(f->key.dir), proto_name(f->key.proto, pb));
		if (w.user)
			fprintf(out, "%s ", cell(f->user ? f->user : "-", w.user, ub));
		fprintf(out, "%s %s %6s %6s %6s", cell(a, w.ep, fa), cell(b, w.ep, fb), np, nb, nr);
		if (ts->o.wide && names && f->dest.name)
			fprintf(out, "  %s (%s)", f->dest.name, /* names are [a-z0-9._-] */
			        name_source_names[f->dest.name_src]);
		fputc('\n', out);
	}
	if (shown < r->nflows)
		fprintf(out, "... %zu more flow%s\n", r->nflows - shown,
		        r->nflows - shown == 1 ? "" : "s");
	footer(out, r, tot_pkts, tot_bytes, tot_rate);
done:
	if (!ts->o.tty)
		fputc('\n', out);
	return out_check_report(out, &ts->errors);
}

static void table_close(struct sink *s)
{
	out_errors_say(&((struct table_sink *)s)->errors, "table output");
	free(((struct table_sink *)s)->top);
	user_totals_free(((struct table_sink *)s)->users);
	free(s);
}

struct sink *sink_table_new(FILE *out, const struct table_opts *o, enum group_by group)
{
	struct table_sink *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	stream_sink_init(&ts->st, out);
	ts->st.s.report = table_report;
	ts->st.s.close = table_close;
	ts->o = *o;
	ts->group = group;
	if (group == GROUP_USER && !(ts->users = user_totals_new())) {
		free(ts);
		return NULL;
	}
	return &ts->st.s;
}
