// SPDX-License-Identifier: GPL-2.0-only
/* The user-space flow table: merging harvested deltas, generations, expiry, the end of
 * interfaces, and the bound (longest idle evicted first). */
#define CHECK_SUITE "flowtab"
#include <stdlib.h>
#include <netinet/in.h>
#include "check.h"
#include "core/flowtab.h"

/* An IPv4 TCP key from 10.0.0.<host>:<sport> to 192.0.2.1:443 on ifindex. */
static struct flow_key key(__u32 ifindex, int host, __u16 sport)
{
	struct flow_key k = {.ifindex = ifindex, .ip_version = 4, .proto = IPPROTO_TCP};

	k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
	k.src[12] = 10, k.src[15] = host;
	k.dst[12] = 192, k.dst[14] = 2, k.dst[15] = 1;
	k.sport = sport;
	k.dport = 443;
	return k;
}

static struct flow *add(struct flowtab *ft, struct flow_key k, __u64 pkts, __u64 bytes,
			__u64 first, __u64 last, __u8 flags)
{
	struct flow_stats st = {pkts, bytes, first, last, flags, 0, {0}};

	return flowtab_add(ft, &k, &st);
}

static struct flow *find(struct flowtab *ft, struct flow_key k)
{
	size_t n;
	struct flow **v = flowtab_list(ft, &n);

	for (size_t i = 0; i < n; i++)
		if (!memcmp(&v[i]->key, &k, sizeof(k)))
			return v[i];
	return NULL;
}

static size_t count(struct flowtab *ft)
{
	size_t n;

	flowtab_list(ft, &n);
	return n;
}

static void merge_and_generations(void)
{
	struct flowtab *ft = flowtab_new(0);
	struct flow_key a = key(2, 1, 1000), b = key(2, 2, 1000);
	struct flow *f;

	CHECK_INT("first generation", flowtab_begin(ft), 1);
	add(ft, a, 3, 300, 100, 200, 0x02);
	add(ft, b, 1, 60, 150, 150, 0x02);
	CHECK_INT("second generation", flowtab_begin(ft), 2);
	f = add(ft, a, 2, 100, 300, 400, 0x10);
	/* the same key twice in one harvest (never from the kernel, but merged all the same) */
	add(ft, a, 1, 40, 250, 450, 0x01);
	CHECK_INT("two flows", count(ft), 2);
	CHECK_INT("totals: packets", f->packets, 6);
	CHECK_INT("totals: bytes", f->bytes, 440);
	CHECK_INT("delta of this harvest: packets", f->d_packets, 3);
	CHECK_INT("delta of this harvest: bytes", f->d_bytes, 140);
	CHECK_INT("generation of the last delta", f->gen, 2);
	CHECK_INT("first packet: earliest seen", f->first_ns, 100);
	CHECK_INT("last packet: latest seen", f->last_ns, 450);
	CHECK_INT("tcp flags: all", f->tcp_flags, 0x13);
	CHECK_INT("tcp flags: this harvest", f->d_tcp_flags, 0x11);
	f = find(ft, b);
	CHECK_INT("an untouched flow keeps its generation", f->gen, 1);
	CHECK_INT("... and its last delta", f->d_packets, 1);
	flowtab_begin(ft);
	f = add(ft, b, 4, 400, 500, 600, 0);
	CHECK_INT("a new harvest's delta starts at zero", f->d_packets, 4);
	CHECK_INT("... while the total goes on", f->packets, 5);
	flowtab_free(ft);
}

static void expiry(void)
{
	struct flowtab *ft = flowtab_new(0);

	flowtab_begin(ft);
	add(ft, key(2, 1, 1), 1, 40, 10, 100, 0);
	add(ft, key(2, 2, 1), 1, 40, 10, 199, 0);
	add(ft, key(2, 3, 1), 1, 40, 10, 200, 0);
	add(ft, key(2, 4, 1), 1, 40, 10, 300, 0);
	CHECK_INT("expire: flows whose last packet is before 200", flowtab_expire(ft, 200), 2);
	CHECK_INT("expire: the others stay", count(ft), 2);
	CHECK("expire: last packet at 200 stays", find(ft, key(2, 3, 1)) != NULL);
	CHECK("expire: last packet at 100 went", find(ft, key(2, 1, 1)) == NULL);
	CHECK_INT("expire: nothing more to forget", flowtab_expire(ft, 200), 0);
	/* a flow that comes back after it was forgotten starts over */
	CHECK_INT("a forgotten flow starts over",
		  add(ft, key(2, 1, 1), 2, 80, 400, 500, 0)->packets, 2);
	flowtab_free(ft);
}

static void end_of_interfaces(void)
{
	struct flowtab *ft = flowtab_new(0);
	int gone[] = {7, 9};

	flowtab_begin(ft);
	add(ft, key(7, 1, 1), 1, 40, 1, 1, 0);
	add(ft, key(7, 2, 1), 1, 40, 1, 1, 0);
	add(ft, key(8, 3, 1), 1, 40, 1, 1, 0);
	add(ft, key(9, 4, 1), 1, 40, 1, 1, 0);
	CHECK_INT("end ifaces: no interface, nothing ends",
		  flowtab_end_ifaces(ft, gone, 0, END_IFACE_GONE), 0);
	CHECK_INT("end ifaces: the flows of 7 and 9",
		  flowtab_end_ifaces(ft, gone, 2, END_IFACE_GONE), 3);
	CHECK_INT("end ifaces: the reason", find(ft, key(7, 2, 1))->end, END_IFACE_GONE);
	CHECK_INT("end ifaces: other interfaces go on", find(ft, key(8, 3, 1))->end, END_NONE);
	CHECK_INT("end ifaces: ended flows stay for their report", count(ft), 4);
	CHECK_INT("end ifaces: ending twice ends nothing more",
		  flowtab_end_ifaces(ft, gone, 2, END_IFACE_GONE), 0);
	CHECK_INT("drop ended: three", flowtab_drop_ended(ft), 3);
	CHECK_INT("drop ended: one left", count(ft), 1);
	CHECK_STR("end names: interface gone", end_names[END_IFACE_GONE], "interface gone");
	CHECK_STR("end names: evicted", end_names[END_EVICTED], "evicted");
	flowtab_free(ft);
}

static void eviction_order(void)
{
	struct flowtab *ft = flowtab_new(3);
	struct flow_key a = key(2, 1, 1), b = key(2, 2, 1), c = key(2, 3, 1), d = key(2, 4, 1),
			e = key(2, 5, 1), f = key(2, 6, 1);
	int gone[] = {2};

	flowtab_begin(ft);
	/* harvested in the order a, b, c; idle longest: b, then c, then a */
	add(ft, a, 1, 40, 500, 500, 0);
	add(ft, b, 1, 40, 100, 100, 0);
	add(ft, c, 1, 40, 300, 300, 0);
	CHECK_INT("at the bound, nothing evicted", flowtab_evicted(ft), 0);
	flowtab_begin(ft);
	add(ft, d, 2, 80, 700, 700, 0);
	CHECK_INT("a new flow past the bound evicts one", flowtab_evicted(ft), 1);
	CHECK_INT("the longest idle goes first (not the first harvested)", find(ft, b)->end,
		  END_EVICTED);
	CHECK_INT("the others stay", find(ft, a)->end + find(ft, c)->end, END_NONE);
	add(ft, e, 1, 40, 650, 650, 0);
	CHECK_INT("then the next longest idle", find(ft, c)->end, END_EVICTED);
	add(ft, a, 1, 40, 800, 800, 0);
	CHECK_INT("an existing flow evicts nothing", flowtab_evicted(ft), 2);
	CHECK_INT("evicted flows stay for their report", count(ft), 5);
	CHECK_INT("an evicted flow keeps its totals", find(ft, b)->packets, 1);
	CHECK_INT("drop ended: the two evicted", flowtab_drop_ended(ft), 2);
	flowtab_begin(ft);
	/* live: d (700), e (650) from the last harvest, a (800) touched in it too */
	add(ft, f, 1, 40, 900, 900, 0);
	CHECK_INT("across harvests: e (650) before d (700) and a (800)", find(ft, e)->end,
		  END_EVICTED);
	flowtab_drop_ended(ft);
	add(ft, b, 3, 120, 950, 950, 0);
	CHECK_INT("then d (700)", find(ft, d)->end, END_EVICTED);
	CHECK_INT("an evicted flow that comes back starts over", find(ft, b)->packets, 3);
	flowtab_drop_ended(ft);
	/* ended flows are not live: they make room without an eviction */
	CHECK_INT("interface gone: a, f, b end",
		  flowtab_end_ifaces(ft, gone, 1, END_IFACE_GONE), 3);
	flowtab_drop_ended(ft);
	add(ft, key(3, 1, 1), 1, 40, 1000, 1000, 0);
	CHECK_INT("no eviction into a table with room", flowtab_evicted(ft), 4);
	flowtab_free(ft);

	/* within one harvest, the order the harvest found them in */
	ft = flowtab_new(2);
	flowtab_begin(ft);
	add(ft, a, 1, 40, 300, 300, 0);
	add(ft, b, 1, 40, 100, 100, 0);
	add(ft, c, 1, 40, 200, 200, 0);
	CHECK_INT("same harvest: the first found goes", find(ft, a)->end, END_EVICTED);
	CHECK_INT("same harvest: one evicted", flowtab_evicted(ft), 1);
	flowtab_free(ft);
}

/* A scan: 1000 new flows in each of 20 harvests through a bound of 2500. */
static void bounded_under_a_scan(void)
{
	struct flowtab *ft = flowtab_new(2500);
	size_t most = 0;

	for (int h = 0; h < 20; h++) {
		flowtab_begin(ft);
		for (int i = 0; i < 1000; i++) {
			__u64 t = h * 1000 + i;

			add(ft, key(2, h, i), 1, 40, t, t, 0);
		}
		if (count(ft) > most)
			most = count(ft);
		flowtab_drop_ended(ft);
	}
	CHECK_INT("scan: evicted all but the bound", flowtab_evicted(ft), 20000 - 2500);
	CHECK_INT("scan: at most the bound plus one harvest", most, 3500);
	CHECK_INT("scan: the bound after the drop", count(ft), 2500);
	CHECK("scan: the newest stay", find(ft, key(2, 19, 999)) && find(ft, key(2, 17, 500)));
	CHECK("scan: the oldest went", !find(ft, key(2, 17, 499)));
	flowtab_free(ft);
}

/* Random harvests against a model of the table kept here: the changed list holds
 * exactly the flows with packets in this harvest and those that ended, each once; drop
 * takes exactly the ended ones; expiry exactly the flows whose last packet is before
 * the threshold (found by walking the idle end, not the table), and says which. */
#define NKEYS 3000

static void changed_and_expiry_exact(void)
{
	struct flowtab *ft = flowtab_new(0);
	__u64 last[NKEYS] = {0}; /* model: last packet, 0 when not in the table */
	unsigned seed = 1;
	int bad_changed = 0, bad_expire = 0, bad_forgot = 0, bad_drop = 0, bad_count = 0;
	size_t forgot_total = 0;

	for (int h = 1; h <= 300; h++) {
		__u64 t0 = h * 1000, gen = flowtab_begin(ft);
		bool in[NKEYS] = {0}, ended[NKEYS] = {0};
		size_t n, want = 0, nended = 0, nheld = 0;
		struct flow **v;
		int gone[1] = {3 + h % 5};

		for (int i = 0; i < 40 + h % 60; i++) {
			int k = rand_r(&seed) % NKEYS;
			__u64 a = t0 + rand_r(&seed) % 1000, b = t0 + rand_r(&seed) % 1000;
			struct flow_key fk = key(3 + k % 5, k % 250, k);

			add(ft, fk, 1, 40, a < b ? a : b, a < b ? b : a, 0);
			if (!in[k])
				want++;
			in[k] = true;
			if (!last[k] || (a > b ? a : b) > last[k])
				last[k] = a > b ? a : b;
		}
		if (h % 17 == 0) { /* an interface goes: its flows end */
			flowtab_end_ifaces(ft, gone, 1, END_IFACE_GONE);
			for (int k = 0; k < NKEYS; k++)
				if (last[k] && 3 + k % 5 == gone[0]) {
					ended[k] = true;
					nended++;
					want += !in[k];
				}
		}
		v = flowtab_changed(ft, &n);
		bad_changed += n != want;
		for (size_t i = 0; i < n; i++) {
			int k = v[i]->key.sport;

			bad_changed += !(in[k] ? v[i]->gen == gen : ended[k]);
			bad_changed += (v[i]->end != 0) != ended[k];
			in[k] = false; /* each once */
			ended[k] = false;
			nheld += v[i]->held;
		}
		bad_drop += flowtab_drop_ended(ft) != nended;
		for (int k = 0; k < NKEYS; k++)
			if (last[k] && 3 + k % 5 == gone[0] && h % 17 == 0)
				last[k] = 0;
		/* forget what is 5 harvests old */
		if (h > 5) {
			__u64 before = t0 - 5000 + rand_r(&seed) % 1000;
			size_t want_exp = 0, nf;
			struct flow **fv;

			for (int k = 0; k < NKEYS; k++)
				if (last[k] && last[k] < before)
					want_exp++;
			bad_expire += flowtab_expire(ft, before) != want_exp;
			fv = flowtab_forgotten(ft, &nf);
			forgot_total += nf;
			bad_forgot += nf != want_exp;
			for (size_t i = 0; i < nf; i++) {
				int k = fv[i]->key.sport;

				bad_forgot += !(last[k] && last[k] < before);
				last[k] = 0;
			}
		}
		{
			size_t m = 0;

			for (int k = 0; k < NKEYS; k++)
				m += last[k] != 0;
			bad_count += flowtab_count(ft) != m;
		}
		(void)nheld;
	}
	CHECK_INT("random: changed list exact", bad_changed, 0);
	CHECK_INT("random: drop takes exactly the ended", bad_drop, 0);
	CHECK_INT("random: expiry exact", bad_expire, 0);
	CHECK_INT("random: forgotten list exact", bad_forgot, 0);
	CHECK_INT("random: table size follows the model", bad_count, 0);
	CHECK("random: expiry had work", forgot_total > 1000);
	flowtab_free(ft);
}

/* A held flow is never forgotten, and what expiry forgot stays readable until the
 * next expiry; a forgotten flow leaves the changed list. */
static void expiry_held_and_forgotten(void)
{
	struct flowtab *ft = flowtab_new(0);
	struct flow *f, **v;
	size_t n;

	flowtab_begin(ft);
	f = add(ft, key(2, 1, 1), 1, 40, 10, 10, 0);
	f->held = true;
	add(ft, key(2, 2, 1), 1, 40, 10, 20, 0);
	add(ft, key(2, 3, 1), 1, 40, 10, 500, 0);
	CHECK_INT("held: not forgotten", flowtab_expire(ft, 100), 1);
	v = flowtab_forgotten(ft, &n);
	CHECK_INT("forgotten: one", n, 1);
	CHECK_INT("forgotten: readable", n ? v[0]->last_ns : 0, 20);
	flowtab_changed(ft, &n);
	CHECK_INT("forgotten: off the changed list", n, 2);
	f->held = false;
	flowtab_begin(ft);
	CHECK_INT("released: forgotten from the idle end", flowtab_expire(ft, 100), 1);
	CHECK_INT("one left", count(ft), 1);
	flowtab_free(ft);
}

int main(void)
{
	merge_and_generations();
	expiry();
	end_of_interfaces();
	eviction_order();
	bounded_under_a_scan();
	changed_and_expiry_exact();
	expiry_held_and_forgotten();
	return check_done();
}
