// SPDX-License-Identifier: GPL-2.0-only
/* /metrics' top destinations, kept from each report's changed flows (and the flows that
 * ended or were forgotten), against the full rebuild over every flow of the table that
 * the page showed before: the same lines after every harvest of random traffic, names
 * that change, interfaces that go and flows that idle out. */
#define CHECK_SUITE "metrics"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <netinet/in.h>
#include "check.h"
#include "core/datapath.h"
#include "core/flowtab.h"
#include "core/report.h"
#include "sinks/metrics.h"
#include "util/fmt.h"

#define TOP 7

struct ref {
	__u8 addr[16];
	const char *name;
	int ip_version;
	__u64 bytes;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	return c ? c : g_strcmp0(x->name, y->name);
}

/* The lines the full rebuild gives: every flow of the table, by far side and name. */
static char *reference(struct flowtab *ft)
{
	size_t n, nref = 0;
	struct flow **v = flowtab_list(ft, &n);
	struct ref *refs = calloc(n + 1, sizeof(*refs));
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < n; i++) {
		const struct flow *f = v[i];
		size_t j;

		for (j = 0; j < nref; j++)
			if (!memcmp(refs[j].addr, flow_far(&f->key), 16) &&
			    !g_strcmp0(refs[j].name, f->dest.name))
				break;
		if (j == nref) {
			memcpy(refs[j].addr, flow_far(&f->key), 16);
			refs[j].name = f->dest.name;
			refs[j].ip_version = f->key.ip_version;
			nref++;
		}
		refs[j].bytes += f->bytes;
	}
	qsort(refs, nref, sizeof(*refs), ref_cmp);
	for (size_t j = 0; j < nref && j < TOP; j++) {
		char a[ADDR_STRLEN];

		fmt_addr(refs[j].addr, refs[j].ip_version, a);
		g_string_append_printf(s,
		                       "tunflow_top_destination_bytes{address=\"%s\",name=\"%s\"} "
		                       "%llu\n",
		                       a, refs[j].name ? refs[j].name : "",
		                       (unsigned long long)refs[j].bytes);
	}
	free(refs);
	return g_string_free(s, FALSE);
}

/* The top destination lines of the page. */
static char *top_of_page(struct metrics *m)
{
	size_t len;
	char *page = metrics_page(m, &len), *p;
	GString *s = g_string_new(NULL);

	for (p = page; p && *p;) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (!strncmp(p, "tunflow_top_destination_bytes{", 30))
			g_string_append_len(s, p, l);
		p += l;
	}
	free(page);
	return g_string_free(s, FALSE);
}

static struct flow_key key(int k)
{
	struct flow_key fk = {.ifindex = 3 + k % 4, .ip_version = 4, .proto = IPPROTO_TCP};

	fk.dir = k % 3 ? DIR_INGRESS : DIR_EGRESS;
	fk.src[10] = fk.src[11] = fk.dst[10] = fk.dst[11] = 0xff;
	fk.src[12] = 10, fk.src[15] = k % 200;
	fk.dst[12] = 198, fk.dst[13] = 51, fk.dst[14] = 100, fk.dst[15] = k % 23;
	fk.sport = 1000 + k;
	fk.dport = 443;
	return fk;
}

static void top_follows_changes(void)
{
	static const char *const names[] = {NULL, "a.example", "b.example", "c.example"};
	static const __u64 counters[CNT_ALL];
	char addr[32];
	struct metrics_cfg cfg = {.top = TOP};
	struct metrics *m;
	struct flowtab *ft = flowtab_new(150);
	unsigned seed = 7;
	int bad = 0, nonempty = 0;
	size_t forgotten = 0;
	char *first_bad = NULL;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", 20000 + getpid() % 20000);
	cfg.addr = addr;
	m = metrics_start(&cfg);
	CHECK("metrics server started", m != NULL);
	if (!m)
		return;
	for (int h = 1; h <= 200; h++) {
		__u64 t0 = h * 1000, gen = flowtab_begin(ft);
		struct report r = {.counters = counters, .gen = gen, .nifaces = 1};
		int gone[1] = {3 + h % 4};
		char *want, *got;

		for (int i = 0; i < 30 + (int)(rand_r(&seed) % 60); i++) {
			int k = rand_r(&seed) % 700;
			struct flow_key fk = key(k);
			struct flow_stats st = {1 + rand_r(&seed) % 5, 40 + rand_r(&seed) % 3000, t0,
			                        t0 + rand_r(&seed) % 1000, 0, 0, {0}};
			struct flow *f = flowtab_add(ft, &fk, &st);

			/* a name comes (or changes) with packets */
			if (f && rand_r(&seed) % 4 == 0)
				f->dest.name = names[rand_r(&seed) % 4];
		}
		if (h % 13 == 0)
			flowtab_end_ifaces(ft, gone, 1, END_IFACE_GONE);
		r.changed = flowtab_changed(ft, &r.nchanged);
		r.forgotten = flowtab_forgotten(ft, &r.nforgotten);
		forgotten += r.nforgotten;
		r.ntable = flowtab_count(ft);
		metrics_update(m, &r);
		want = reference(ft);
		got = top_of_page(m);
		nonempty += *got != 0;
		if (strcmp(want, got)) {
			if (!bad++)
				first_bad = g_strdup_printf("harvest %d:\nwant\n%sgot\n%s", h, want, got);
		}
		g_free(want);
		g_free(got);
		flowtab_drop_ended(ft);
		flowtab_expire(ft, t0 > 3000 ? t0 - 3000 + rand_r(&seed) % 2000 : 0);
	}
	if (first_bad)
		fprintf(stderr, "%s", first_bad);
	g_free(first_bad);
	CHECK_INT("top destinations: as the full rebuild after every harvest", bad, 0);
	CHECK_INT("top destinations: shown", nonempty, 200);
	CHECK("evictions happened", flowtab_evicted(ft) > 100);
	CHECK("expiry happened", forgotten > 100);
	metrics_stop(m);
	flowtab_free(ft);
}

int main(void)
{
	top_follows_changes();
	return check_done();
}
