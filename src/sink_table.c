// SPDX-License-Identifier: GPL-2.0-only
/* The live table: every flow's totals and current rate, most bytes first, under 80
 * columns unless --wide; a footer with totals and every non-zero loss counter. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "fmt.h"
#include "harvest.h"
#include "sink.h"

struct table_sink {
	struct sink s;
	FILE *out;
	struct table_opts o;
	struct flow **top; /* the rows shown, most bytes first */
	size_t cap;
};

/* The k flows with most bytes, in order, into ts->top. Most flows fail the first
 * comparison against the smallest kept one, so this is linear in practice. */
static size_t pick_top(struct table_sink *ts, struct flow **flows, size_t n, size_t k)
{
	size_t have = 0;

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
	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (have == k && flow_cmp_bytes(&flows[i], &ts->top[k - 1]) >= 0)
			continue;
		j = have < k ? have++ : k - 1;
		while (j > 0 && flow_cmp_bytes(&flows[i], &ts->top[j - 1]) < 0) {
			ts->top[j] = ts->top[j - 1];
			j--;
		}
		ts->top[j] = flows[i];
	}
	return have;
}

/* Column widths: interface, endpoints. */
struct widths {
	int ifc, ep;
};

/* Fit s into w columns, keeping its end (the port) and marking the cut with '~'. */
static const char *fit(const char *s, int w, char *buf)
{
	int len = strlen(s);

	if (len <= w)
		return s;
	buf[0] = '~';
	memcpy(buf + 1, s + len - (w - 1), w);
	return buf;
}

static int rows_available(const struct table_sink *ts)
{
	struct winsize ws;

	if (ts->o.top > 0)
		return ts->o.top;
	if (!ts->o.tty)
		return -1;
	if (ioctl(fileno(ts->out), TIOCGWINSZ, &ws) || ws.ws_row < 8)
		return 20;
	return ws.ws_row - 6; /* title, header, footer lines */
}

static void table_report(struct sink *s, const struct report *r)
{
	struct table_sink *ts = (struct table_sink *)s;
	struct widths w = ts->o.wide ? (struct widths){15, 47} : (struct widths){6, 20};
	__u64 tot_pkts = 0, tot_bytes = 0;
	double tot_rate = 0;
	int rows = rows_available(ts);
	size_t shown;
	char now[32], pb[8], a[ENDPOINT_STRLEN], b[ENDPOINT_STRLEN], fa[64], fb[64], ib[64];
	char np[8], nb[8], nr[8];
	FILE *out = ts->out;

	if (ts->o.tty && !r->final)
		fputs("\033[H\033[2J", out);
	fmt_time(r->now_real_ns, now);
	fprintf(out, "tunflow  %d interface%s  %zu flow%s  %s%s\n", r->nifaces,
		r->nifaces == 1 ? "" : "s", r->nflows, r->nflows == 1 ? "" : "s", now,
		r->final ? "  (final)" : "");
	fprintf(out, "%-*s %-3s %-5s %-*s %-*s %6s %6s %6s\n", w.ifc, "IFACE", "DIR", "PROTO",
		w.ep, "SOURCE", w.ep, "DESTINATION", "PKTS", "BYTES", "BIT/S");
	for (size_t i = 0; i < r->nflows; i++) {
		tot_pkts += r->flows[i]->packets;
		tot_bytes += r->flows[i]->bytes;
		tot_rate += r->flows[i]->rate_bps;
	}
	shown = pick_top(ts, r->flows, r->nflows, rows < 0 ? r->nflows : (size_t)rows);
	for (size_t i = 0; i < shown; i++) {
		const struct flow *f = ts->top[i];

		fmt_endpoint(&f->key, true, a);
		fmt_endpoint(&f->key, false, b);
		fmt_si(f->packets, np, sizeof(np));
		fmt_si(f->bytes, nb, sizeof(nb));
		fmt_si(f->rate_bps, nr, sizeof(nr));
		fprintf(out, "%-*s %-3s %-5s %-*s %-*s %6s %6s %6s\n", w.ifc,
			fit(iface_name(f->key.ifindex), w.ifc, ib),
			f->key.dir == DIR_INGRESS ? "in" : "out", proto_name(f->key.proto, pb), w.ep,
			fit(a, w.ep, fa), w.ep, fit(b, w.ep, fb), np, nb, nr);
	}
	if (shown < r->nflows)
		fprintf(out, "... %zu more flow%s\n", r->nflows - shown,
			r->nflows - shown == 1 ? "" : "s");
	fmt_si(tot_pkts, np, sizeof(np));
	fmt_si(tot_bytes, nb, sizeof(nb));
	fmt_si(tot_rate, nr, sizeof(nr));
	fprintf(out, "total  %s packets  %s bytes  %s bit/s\n", np, nb, nr);

	bool lost = r->harvest_errors > 0;
	for (int c = 0; c < CNT_MAX; c++)
		lost |= r->counters[c] > 0;
	if (lost) {
		fputs("not in flows:", out);
		for (int c = 0; c < CNT_MAX; c++)
			if (r->counters[c])
				fprintf(out, " %s %llu", counter_names[c],
					(unsigned long long)r->counters[c]);
		if (r->harvest_errors)
			fprintf(out, " harvest_errors %llu", (unsigned long long)r->harvest_errors);
		fputc('\n', out);
	}
	if (!ts->o.tty)
		fputc('\n', out);
	fflush(out);
}

static void table_close(struct sink *s)
{
	free(((struct table_sink *)s)->top);
	free(s);
}

struct sink *sink_table_new(FILE *out, const struct table_opts *o)
{
	struct table_sink *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	ts->s.report = table_report;
	ts->s.close = table_close;
	ts->out = out;
	ts->o = *o;
	return &ts->s;
}
