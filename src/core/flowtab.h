/* SPDX-License-Identifier: GPL-2.0-only */
/* User-space flow table: each flow's totals across harvests, and what the latest
 * harvest added. Bounded: when it holds its maximum of live flows, a new flow ends the
 * one idle longest (END_EVICTED), which is reported once more like any ended flow. */
#ifndef TUNFLOW_FLOWTAB_H
#define TUNFLOW_FLOWTAB_H

#include <stddef.h>
#include "flow.h"
#include "core/dest.h"
#include "core/side.h"
#include "util/lru.h"

/* Why a flow ended. */
enum end_reason {
	END_NONE = 0,
	END_IFACE_GONE, /* its interface was deleted (or renamed out of the watch) */
	END_IDLE,       /* no packet for the idle timeout */
	END_ACTIVE,     /* lasted the active timeout: reported, goes on in a new record */
	END_TCP,        /* FIN both ways or RST, then quiet for the linger */
	END_EXIT,       /* tunflow stopped */
	END_EVICTED,    /* the table was full and this flow had been idle longest */
	END_MAX,
};

extern const char *const end_names[END_MAX];

struct flow {
	struct flow_key key;
	const char *user;         /* who is behind it, if known (an interned string) */
	unsigned user_gen;        /* users generation of the last lookup that found none */
	unsigned peer_gen;        /* users generation of the last WireGuard peer lookup */
	const char *peer;         /* WireGuard: the peer's public key (base64), or NULL */
	const char *endpoint;     /* WireGuard: the peer's outer address:port, or NULL */
	struct dest_info dest;    /* the far side's name, AS and country, when known */
	__u64 packets, bytes;     /* since the flow was first seen */
	__u64 first_ns, last_ns;  /* CLOCK_MONOTONIC */
	__u64 d_packets, d_bytes; /* added by the harvest of generation gen */
	__u64 gen;
	double rate_bps; /* bits per second over the last full interval */
	__u8 tcp_flags, d_tcp_flags;
	__u8 end;            /* enum end_reason: reported once more, then dropped */
	bool held;           /* waiting for its interface's session to be known: not
	                      * reported yet, its d_ counts go on adding up; never
	                      * forgotten while held */
	struct lru_node lru; /* live flows, least recently harvested first */
	__u64 listed;        /* the generation whose changed list holds it (0: none) */
};

/* The two ends of a flow seen from the tunnel: near is the VPN user's side, far is the
 * remote side the user reached. On a server's session interface near is the source of
 * what the interface receives (the destination of what it sends); on a VPN client the
 * user is this host, so near is the host's own tunnel address. Which is which, per
 * interface and flow, is core/side.h's rule (--side). The one definition of "the far
 * side of the tunnel": everything that says local/remote, sent/received or destination
 * asks these. */
static inline const __u8 *flow_near(const struct flow_key *k)
{
	return side_near_is_src(k) ? k->src : k->dst;
}

static inline const __u8 *flow_far(const struct flow_key *k)
{
	return side_near_is_src(k) ? k->dst : k->src;
}

/* The ports of those ends. */
static inline __u16 flow_near_port(const struct flow_key *k)
{
	return side_near_is_src(k) ? k->sport : k->dport;
}

static inline __u16 flow_far_port(const struct flow_key *k)
{
	return side_near_is_src(k) ? k->dport : k->sport;
}

/* Whether flow k carries what the user sent (else what the user received). */
static inline bool flow_user_sent(const struct flow_key *k) { return side_near_is_src(k); }

struct flowtab;

/* max_flows: live flows at most (0: no bound). Flows that ended stay until
 * flowtab_drop_ended(), so between two drops the table holds at most max_flows plus the
 * flows one harvest brings. */
struct flowtab *flowtab_new(size_t max_flows);
void flowtab_free(struct flowtab *ft);
/* Start a harvest: flows updated from now on carry the new generation. */
__u64 flowtab_begin(struct flowtab *ft);
/* Add one harvested flow. A flow new to a full table first ends the live flow idle
 * longest (last packet earliest) with END_EVICTED. Returns the flow, or NULL when out of
 * memory. */
struct flow *flowtab_add(struct flowtab *ft, const struct flow_key *key,
                         const struct flow_stats *st);
/* Forget flows whose last packet is older than before_ns (held flows wait until they
 * are released). Walks the live list from its idle end and stops at the first flow
 * recent enough, plus the run of the latest generation: the cost is the flows forgotten
 * and the latest harvest's, not the table's size. Returns how many. */
size_t flowtab_expire(struct flowtab *ft, __u64 before_ns);
/* The flows the last flowtab_expire() forgot: out of the table, but readable until the
 * next flowtab_expire() (so that a consumer that counted them can take them out). */
struct flow **flowtab_forgotten(struct flowtab *ft, size_t *n);
/* End every flow of these interfaces with reason why. Returns how many. */
size_t flowtab_end_ifaces(struct flowtab *ft, const int *ifindexes, size_t n, enum end_reason why);
/* Flows ended by the bound so far. */
__u64 flowtab_evicted(const struct flowtab *ft);
/* Forget the flows that ended (after they were reported): those of the changed list. */
size_t flowtab_drop_ended(struct flowtab *ft);
/* All flows, in no particular order. The array is owned by the table and valid until
 * the next call that changes it. Costs the table's size: for views of everything. */
struct flow **flowtab_list(struct flowtab *ft, size_t *n);
/* The flows added to, updated or ended since flowtab_begin(), each once, in that
 * order (f->gen tells which had packets). Owned by the table; valid until the next
 * call that changes it. What a harvest costs follows this list, not the table. */
struct flow **flowtab_changed(struct flowtab *ft, size_t *n);
/* Flows in the table (ended ones until they are dropped). */
size_t flowtab_count(const struct flowtab *ft);
/* Order flows most bytes first (ties by key, so the order is stable). */
int flow_cmp_bytes(const void *a, const void *b);

#endif
