// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/datapath.h"
#include "core/filter.h"
#include "core/flowtab.h"
#include "core/naming.h"
#include "core/peers.h"
#include "core/pipeline.h"
#include "core/side.h"
#include "names/geo.h"
#include "sources/ifwatch.h"
#include "sources/users.h"
#include "sources/wireguard.h"
#include "util/log.h"

int pipeline_init(struct pipeline *p, const struct pipeline_cfg *cfg, struct datapath *dp,
                  struct ifwatch *w, struct users *users)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->dp = dp;
	p->w = w;
	p->users = users;
	p->sinks = g_ptr_array_new();
	p->shown = g_ptr_array_new();
	p->changed = g_ptr_array_new();
	p->held = g_ptr_array_new();
	p->ifacc = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	p->ft = flowtab_new(cfg->max_table_flows);
	p->peers = peers_new();
	if (cfg->geo) {
		char err[256];

		if (!(p->geo = geo_open(cfg->geo_db, err, sizeof(err))))
			pr_warn("%s; running without AS and country", err);
	}
	if (cfg->filter && *cfg->filter) {
		char err[256];

		p->filter = filter_parse(cfg->filter, err, sizeof(err));
		if (!p->filter) {
			pr_err("%s", err);
			return -EINVAL;
		}
	}
	if (cfg->names && !(p->names = naming_new(&cfg->naming, dp, users)))
		return -ENOMEM;
	return p->ft ? 0 : -ENOMEM;
}

int pipeline_add_sink(struct pipeline *p, struct sink *s)
{
	if (s->record && !p->records && !(p->records = records_new(&p->cfg.rec))) {
		s->close(s);
		return -ENOMEM;
	}
	g_ptr_array_add(p->sinks, s);
	/* with a filter, what the table holds is what matches: counted over every flow */
	if (!s->changes_only || p->filter)
		p->list_all = true;
	return 0;
}

void pipeline_start(struct pipeline *p) { p->last_harvest_ns = clock_now(); }

static struct iface_total *acc_of(struct pipeline *p, int ifindex)
{
	struct iface_total *acc = p->last_acc;

	if (acc && acc->ifindex == ifindex)
		return acc;
	acc = g_hash_table_lookup(p->ifacc, GINT_TO_POINTER(ifindex));
	if (!acc) {
		acc = g_new0(struct iface_total, 1);
		acc->ifindex = ifindex;
		acc->seen_ns = clock_now();
		g_hash_table_insert(p->ifacc, GINT_TO_POINTER(ifindex), acc);
	}
	return p->last_acc = acc;
}

/* WireGuard: the flow's peer and endpoint, looked up again whenever the sources changed,
 * so that a flow follows its address to another peer (allowed IPs moved, a peer
 * removed) and its endpoint when the peer roams; the user goes with the peer. Deltas
 * are attributed after each harvest: one that spans the change goes to the new peer. */
static void attribute_peer(struct pipeline *p, struct flow *f, unsigned gen)
{
	const struct wg_peer *wp;
	const char *peer = NULL, *endpoint = NULL;

	if (f->peer_gen == gen)
		return;
	f->peer_gen = gen;
	wp = users_wg_peer(p->users, &f->key, iface_name(f->key.ifindex));
	if (wp) {
		peer = peers_intern(p->peers, wp->key);
		endpoint = wp->has_endpoint ? peers_intern(p->peers, wp->endpoint) : NULL;
	}
	if (peer != f->peer) {
		f->user = users_lookup(p->users, &f->key, iface_name(f->key.ifindex));
		f->user_gen = gen;
	}
	f->peer = peer;
	f->endpoint = endpoint;
}

/* One drained flow: into the table, the records and its interface's totals. */
static void on_flow(const struct flow_key *key, const struct flow_stats *st, void *ctx)
{
	struct pipeline *p = ctx;
	struct iface_total *acc = acc_of(p, key->ifindex);
	struct flow *f = flowtab_add(p->ft, key, st);

	if (!f) {
		p->harvest_errors++;
		return;
	}
	if (p->users && !f->user_gen && !f->peer_gen) {
		/* new: named before its first delta goes into a record */
		unsigned gen = users_gen(p->users);

		attribute_peer(p, f, gen);
		if (!f->user) {
			f->user = users_lookup(p->users, &f->key, iface_name(f->key.ifindex));
			f->user_gen = gen;
		}
	}
	/* a server's session interface: its users stay near even when they talk to the
	 * gateway's own address (core/side.h) */
	if (f->packets == st->packets) {
		if (p->users && !side_is_session((int)key->ifindex) &&
		    users_has_session(p->users, key->ifindex))
			side_set_session((int)key->ifindex);
		side_learn(key);
	}
	if (p->geo && f->packets == st->packets) /* new: its far side's AS, once */
		geo_fill(p->geo, flow_far(&f->key), &f->dest);
	if (p->names)
		naming_flow(p->names, f, f->packets == st->packets);
	if (p->records && records_add(p->records, key, st, f))
		p->harvest_errors++;
	p->packets += st->packets;
	p->bytes += st->bytes;
	acc->packets[key->dir] += st->packets;
	acc->bytes[key->dir] += st->bytes;
	if (f->packets == st->packets) {
		acc->flows++; /* new to the table (or back after idling out) */
		p->flows++;
	}
	if (!acc->first_ns || st->first_ns < acc->first_ns)
		acc->first_ns = st->first_ns;
}

/* Whether a flow nobody is known for should wait for its session: its interface was
 * first seen less than hold_s ago, session events are on, and no session of that
 * interface is known yet (a new vpnsN carries the kernel's own packets before the VPN
 * server runs its connect script). */
static bool wait_for_session(struct pipeline *p, const struct flow *f, __u64 now)
{
	struct iface_total *acc;

	if (f->end || !users_follow_sessions(p->users) ||
	    users_has_session(p->users, f->key.ifindex))
		return false;
	acc = g_hash_table_lookup(p->ifacc, GINT_TO_POINTER(f->key.ifindex));
	return acc && now - acc->seen_ns < p->cfg.hold_s * 1e9;
}

/* Give these flows, whose user is unknown, a fresh look when the sources changed. */
static void attribute(struct pipeline *p, struct flow **flows, size_t n)
{
	unsigned gen = users_gen(p->users);

	for (size_t i = 0; i < n; i++) {
		struct flow *f = flows[i];

		attribute_peer(p, f, gen);
		if (!f->user && f->user_gen != gen) {
			f->user = users_lookup(p->users, &f->key, iface_name(f->key.ifindex));
			f->user_gen = gen;
		}
	}
}

/* Hold the flows with packets now that should wait for their session, release the held
 * ones (reported now, with all they added while held) once it is known or they waited
 * long enough. Names the changed and held flows, and every flow when a sink shows them
 * all (only flows with news are reported to the others: their names are looked up when
 * they have packets). */
static void hold(struct pipeline *p, __u64 gen_now, __u64 now, bool final)
{
	size_t n, k = 0, nheld;
	struct flow **chg = flowtab_changed(p->ft, &n);

	if (!p->users)
		return;
	if (p->list_all) {
		size_t nall;
		struct flow **all = flowtab_list(p->ft, &nall);

		attribute(p, all, nall);
	} else {
		attribute(p, chg, n);
		attribute(p, (struct flow **)p->held->pdata, p->held->len);
	}
	nheld = p->held->len;
	for (size_t i = 0; i < nheld; i++) {
		struct flow *f = p->held->pdata[i];

		if (final || f->user || !wait_for_session(p, f, now)) {
			f->held = false;
			f->gen = gen_now;
			if (f->listed != gen_now) /* else on the changed list already */
				g_ptr_array_add(p->changed, f);
		} else {
			p->held->pdata[k++] = f;
		}
	}
	g_ptr_array_set_size(p->held, k);
	for (size_t i = 0; i < n; i++) {
		struct flow *f = chg[i];

		if (!final && !f->user && !f->held && f->gen == gen_now &&
		    wait_for_session(p, f, now)) {
			f->held = true;
			g_ptr_array_add(p->held, f);
		}
	}
}

/* The interfaces that went: their totals for the report, in the order they went. */
static struct iface_total *gone_totals(struct pipeline *p, const int *gone_if, size_t ngone,
                                       __u64 now)
{
	struct iface_total *t = calloc(ngone, sizeof(*t));

	for (size_t i = 0; t && i < ngone; i++) {
		int ifindex = gone_if[i];
		struct iface_total *acc = g_hash_table_lookup(p->ifacc, GINT_TO_POINTER(ifindex));

		if (acc)
			t[i] = *acc;
		t[i].ifindex = ifindex;
		t[i].last_ns = now;
		if (p->users)
			t[i].user = users_of_iface(p->users, ifindex, iface_name(ifindex));
	}
	return t;
}

struct emit_ctx {
	struct pipeline *p;
	const struct report *r;
};

/* A record that is due: to every sink that takes records, with its user. */
static void on_record(const struct record *rec, void *ctx)
{
	struct emit_ctx *x = ctx;
	struct record named = *rec;

	if (!named.user && x->p->users)
		named.user = users_lookup(x->p->users, &rec->key, iface_name(rec->key.ifindex));
	if (!filter_record(x->p->filter, &named))
		return;
	if (!named.peer && x->p->users) {
		const struct wg_peer *wp =
		    users_wg_peer(x->p->users, &rec->key, iface_name(rec->key.ifindex));

		if (wp) {
			named.peer = peers_intern(x->p->peers, wp->key);
			named.endpoint =
			    wp->has_endpoint ? peers_intern(x->p->peers, wp->endpoint) : NULL;
		}
	}
	for (guint i = 0; i < x->p->sinks->len; i++) {
		struct sink *s = x->p->sinks->pdata[i];

		if (s->record)
			s->record(s, &named, x->r);
	}
}

/* Forget what is reported for the last time: ended flows, interfaces that went. */
static void forget(struct pipeline *p, const int *gone_if, size_t ngone, __u64 now)
{
	flowtab_drop_ended(p->ft);
	for (size_t i = 0; i < ngone; i++) {
		if (p->last_acc && p->last_acc->ifindex == gone_if[i])
			p->last_acc = NULL;
		g_hash_table_remove(p->ifacc, GINT_TO_POINTER(gone_if[i]));
		if (p->users)
			users_iface_gone(p->users, gone_if[i]);
	}
	if (now > p->cfg.forget_s * 1e9)
		flowtab_expire(p->ft, now - (__u64)(p->cfg.forget_s * 1e9));
}

/* What was captured for names up to the swap, read between the swap and the drain: a
 * flow's harvest finds the DNS answers and first packets that came with or before the
 * packets it drains (read before the swap, a ClientHello that came between the read and
 * the swap would reach its flow a harvest late, after a record of it). */
static void poll_names(void *ctx)
{
	struct pipeline *p = ctx;

	if (p->names && naming_poll(p->names) < 0)
		p->harvest_errors++;
}

/* Drain the kernel's flows into the table and the records; its counters into
 * p->counters. */
static void drain(struct pipeline *p, struct report *r)
{
	__u64 start = now_ns(CLOCK_MONOTONIC);
	long n;

	r->gen = flowtab_begin(p->ft);
	n = dp_harvest(p->dp, on_flow, poll_names, p);
	r->harvest_s = (now_ns(CLOCK_MONOTONIC) - start) / 1e9;
	if (n < 0) {
		p->harvest_errors++;
		pr_warn("harvest failed: %s", strerror(-n));
	}
	if (dp_counters(p->dp, p->counters))
		p->harvest_errors++;
}

/* WireGuard sessions (core/peers.h): the connects and disconnects the WireGuard source
 * saw since the last harvest, and this harvest's flow deltas added to the open session
 * of their peer: connects first, so that a session's first deltas count, disconnects
 * after the deltas (a peer that connected again after its disconnect opens anew). The
 * sessions that ended go in the report. */
static void follow_peers(struct pipeline *p, struct report *r, bool final)
{
	struct wg_event *ev = NULL;
	size_t nev = p->users ? users_wg_take_events(p->users, &ev) : 0;

	for (size_t i = 0; i < nev; i++) {
		const struct wg_peer *wp = &ev[i].peer;

		if (ev[i].connected)
			peers_open(p->peers, ev[i].ifname, peers_intern(p->peers, wp->key),
			           wp->name,
			           wp->has_endpoint ? peers_intern(p->peers, wp->endpoint) : NULL,
			           ev[i].at_ns);
	}
	for (size_t i = 0; i < r->nchanged; i++) {
		const struct flow *f = r->changed[i];

		if (f->peer && f->gen == r->gen)
			peers_add(p->peers, f->peer, f->key.dir, f->d_packets, f->d_bytes);
	}
	for (size_t i = 0; i < nev; i++) {
		const struct wg_peer *wp = &ev[i].peer;
		const char *key = peers_intern(p->peers, wp->key);
		__u64 hs = wp->handshake_sec * 1000000000ull + wp->handshake_nsec;

		if (ev[i].connected)
			continue;
		/* an expiry is stamped at the handshake + 180 s; a removal when it was seen */
		peers_close(p->peers, key, ev[i].at_ns,
		            hs && ev[i].at_ns >= hs + WG_REJECT_AFTER_S * 1000000000ull
		                ? SESSION_EXPIRED
		                : SESSION_REMOVED);
		for (size_t j = i + 1; j < nev; j++)
			if (ev[j].connected && !strcmp(ev[j].peer.key, wp->key) &&
			    !strcmp(ev[j].ifname, ev[i].ifname)) {
				peers_open(p->peers, ev[j].ifname, key, ev[j].peer.name,
				           ev[j].peer.has_endpoint
				               ? peers_intern(p->peers, ev[j].peer.endpoint)
				               : NULL,
				           ev[j].at_ns);
				break;
			}
	}
	g_free(ev);
	if (final)
		peers_close_all(p->peers, r->now_real_ns);
	r->sessions = peers_take_closed(p->peers, &r->nsessions);
}

/* The rest of the report: flows with their users and rates, time, health. What this
 * costs follows the flows that changed, unless a sink shows every flow. */
static void describe(struct pipeline *p, struct report *r, __u64 now, bool final)
{
	static struct flow *none[1]; /* changed is never NULL from here */
	struct flow **chg;
	size_t nchg;

	g_ptr_array_set_size(p->changed, 0);
	hold(p, r->gen, now, final);
	chg = flowtab_changed(p->ft, &nchg);
	for (size_t i = 0; i < nchg; i++)
		if (!chg[i]->held)
			g_ptr_array_add(p->changed, chg[i]);
	r->changed = p->changed->len ? (struct flow **)p->changed->pdata : none;
	r->nchanged = p->changed->len;
	g_ptr_array_set_size(p->shown, 0);
	if (p->list_all) {
		size_t nall;
		struct flow **all = flowtab_list(p->ft, &nall);

		for (size_t i = 0; i < nall; i++)
			if (!all[i]->held)
				g_ptr_array_add(p->shown, all[i]);
	}
	r->flows = p->list_all ? (struct flow **)p->shown->pdata : NULL;
	r->nflows = p->shown->len;
	r->ntable = flowtab_count(p->ft) - p->held->len;
	r->forgotten = flowtab_forgotten(p->ft, &r->nforgotten);
	r->interval_s = (now - p->last_harvest_ns) / 1e9;
	/* The final harvest covers only the moment since the last one: rates stay those of
	 * the last full interval. A flow without packets has none: those shown are all
	 * set, the others when they are next reported. */
	for (size_t i = 0; i < r->nflows && !final; i++) {
		struct flow *f = r->flows[i];

		f->rate_bps =
		    f->gen == r->gen && r->interval_s > 0 ? f->d_bytes * 8.0 / r->interval_s : 0;
	}
	for (size_t i = 0; i < r->nchanged && !final && !r->flows; i++) {
		struct flow *f = r->changed[i];

		f->rate_bps =
		    f->gen == r->gen && r->interval_s > 0 ? f->d_bytes * 8.0 / r->interval_s : 0;
	}
	r->mono_to_real_ns = clock_real_offset();
	r->now_real_ns = now + r->mono_to_real_ns;
	r->counters = p->counters;
	if (p->names) {
		naming_counters(p->names, p->name_counters);
		r->name_counters = p->name_counters;
	}
	r->harvest_errors = p->harvest_errors;
	r->evicted = flowtab_evicted(p->ft) + (p->records ? records_evicted(p->records) : 0);
	r->nifaces = final ? p->nifaces_at_exit : ifwatch_count(p->w);
	r->attach_errors = ifwatch_attach_errors(p->w);
	r->lost_link_events = ifwatch_lost_events(p->w);
	r->malformed_lines = p->users ? users_malformed_lines(p->users) : 0;
	r->users = users_enabled(p->users);
	r->final = final;
	follow_peers(p, r, final);
	/* after the peer sessions took every flow's deltas: the sinks see what matches */
	if (p->filter) {
		guint k = 0;

		for (guint i = 0; i < p->shown->len; i++)
			if (filter_flow(p->filter, p->shown->pdata[i]))
				p->shown->pdata[k++] = p->shown->pdata[i];
		g_ptr_array_set_size(p->shown, k);
		if (r->flows) {
			r->flows = (struct flow **)p->shown->pdata;
			r->nflows = r->ntable = k;
		}
		k = 0;
		for (guint i = 0; i < p->changed->len; i++)
			if (filter_flow(p->filter, p->changed->pdata[i]))
				p->changed->pdata[k++] = p->changed->pdata[i];
		g_ptr_array_set_size(p->changed, k);
		r->changed = k ? (struct flow **)p->changed->pdata : none;
		r->nchanged = k;
	}
}

/* Every sink's prepare, then every sink's report. 0, or the first failure. */
static int deliver(struct pipeline *p, struct report *r, struct sink **failed)
{
	int err = 0;

	for (guint i = 0; i < p->sinks->len; i++) {
		struct sink *s = p->sinks->pdata[i];

		if (s->prepare)
			s->prepare(s, r);
	}
	for (guint i = 0; i < p->sinks->len; i++) {
		struct sink *s = p->sinks->pdata[i];
		int e = s->report(s, r);

		if (e && !err) {
			err = e;
			if (failed)
				*failed = s;
		}
	}
	return err;
}

int pipeline_harvest(struct pipeline *p, bool final, const int *gone_if, size_t ngone,
                     struct sink **failed)
{
	struct iface_total *gone = NULL;
	struct report r = {0};
	__u64 now;
	int err;

	/* the final harvest comes after every hook is detached: nothing may still be
	 * running into the maps it reads */
	if (final && (err = dp_quiesce(p->dp))) {
		p->harvest_errors++;
		pr_warn("cannot wait for the last packets in flight: %s", strerror(-err));
	}
	drain(p, &r);
	now = clock_now();
	if (p->users)
		users_refresh(p->users);
	if (ngone) {
		flowtab_end_ifaces(p->ft, gone_if, ngone, END_IFACE_GONE);
		gone = gone_totals(p, gone_if, ngone, now);
		r.gone = gone;
		r.ngone = gone ? ngone : 0;
	}
	describe(p, &r, now, final);
	if (p->records) {
		struct emit_ctx x = {p, &r};

		records_emit(p->records, now, gone_if, ngone, final, on_record, &x);
	}
	err = deliver(p, &r, failed);
	p->last_harvest_ns = now;
	/* the scalars stay for the summary; flows and gone interfaces go now */
	p->last = r;
	p->last.flows = NULL;
	p->last.nflows = 0;
	p->last.changed = p->last.forgotten = NULL;
	p->last.nchanged = p->last.nforgotten = 0;
	p->last.gone = NULL;
	p->last.ngone = 0;
	p->last.sessions = NULL;
	p->last.nsessions = 0;
	forget(p, gone_if, ngone, now);
	free(gone);
	g_free((void *)r.sessions);
	return err;
}

void pipeline_free(struct pipeline *p)
{
	for (guint i = p->sinks ? p->sinks->len : 0; i > 0; i--) {
		struct sink *s = p->sinks->pdata[i - 1];

		s->close(s);
	}
	if (p->sinks)
		g_ptr_array_free(p->sinks, TRUE);
	if (p->shown)
		g_ptr_array_free(p->shown, TRUE);
	if (p->changed)
		g_ptr_array_free(p->changed, TRUE);
	if (p->held)
		g_ptr_array_free(p->held, TRUE);
	records_free(p->records);
	flowtab_free(p->ft);
	naming_free(p->names); /* after the sinks: flows and records point to its names */
	peers_free(p->peers);
	geo_close(p->geo); /* after the sinks: the AS names are its strings */
	filter_free(p->filter);
	if (p->ifacc)
		g_hash_table_destroy(p->ifacc);
	memset(p, 0, sizeof(*p));
}
