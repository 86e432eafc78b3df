// SPDX-License-Identifier: GPL-2.0-only
/* The full-screen view (-o tui, the default on a terminal): ncurses on the alternate
 * screen, redrawn in place. One line per connection (both directions paired by the
 * records' biflow key) or per direction, rates smoothed over 2, 10 and 40 s; views by
 * user, interface and destination with drill-down; sort, filter, pause and scroll keys.
 * Per-user and per-interface totals are accumulated from each report's deltas, so they
 * stay true when flows are forgotten. The keyboard and SIGWINCH are one descriptor for
 * the event loop (an epoll set of stdin and a signalfd). Every exit path restores the
 * terminal: close, exit() (atexit) and fatal signals. */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <curses.h>
#include <term.h>
#include <glib.h>
#include "core/datapath.h"
#include "core/filter.h"
#include "sinks/sink.h"
#include "sources/ifwatch.h"
#include "util/fmt.h"
#include "util/hash.h"
#include "util/log.h"

#define NWIN 3
static const double win_s[NWIN] = {2, 10, 40};
#define MAX_RECORDS 2000 /* records the records view keeps, newest first */
#define MAX_MSGS 200     /* log messages kept for the footer and for stderr at exit */
#define CELL 160         /* bytes of one formatted cell */

enum view { V_FLOWS, V_USERS, V_IFACES, V_DESTS, V_RECORDS, V_MAX };
static const char *const view_names[V_MAX] = {"connections", "users", "interfaces", "destinations",
                                              "records"};
enum sort_key { S_RATE2, S_RATE10, S_RATE40, S_BYTES, S_PKTS, S_DUR, S_USER, S_NAME, S_MAX };
static const char *const sort_names[S_MAX] = {"2s rate", "10s rate", "40s rate", "bytes",
                                              "packets", "duration", "user",     "name"};

/* A connection: both directions of a biflow (or one, until the other is seen). By
 * enum flow_dir: ingress on the tunnel is what the user sent, egress what they got. */
struct conn {
	struct flow_key key;  /* canonical (flow_key_canonical): the table's key */
	struct flow_key k[2]; /* the key of each side seen (has[d]; side_of()) */
	bool has[2];
	const char *user;
	struct dest_info dest;
	__u64 bytes[2], packets[2], pend[2];
	double rate[2][NWIN]; /* bit/s */
	__u64 first_ns, last_ns, seen;
};

/* A total since tunflow started, updated from each report's deltas: per user, per
 * interface. */
struct acc {
	const char *user;
	int ifindex;
	__u64 bytes[2], packets[2], flows, pend;
	double rate[NWIN];
	__u64 first_ns, last_ns;
};

/* One line on the screen, values copied so that a paused screen stays as it was. */
struct row {
	struct flow_key key; /* flows, records: the key (ingress-oriented for flows);
	                      * destinations: the far address as key.dst */
	int dir;             /* -1: both directions; else one enum flow_dir */
	const char *user, *name;
	int ifindex;
	__u64 bytes[2], packets[2], nflows;
	double rate[NWIN];
	__u64 first_ns, last_ns;
	__u8 end; /* records */
};

struct msg {
	enum log_level lvl;
	char text[400];
};

enum col_id {
	C_LABEL,
	C_USER,
	C_IFACE,
	C_DIR,
	C_PROTO,
	C_END,
	C_LOCAL,
	C_REMOTE,
	C_FLOWS,
	C_SENT,
	C_RECV,
	C_PKTS,
	C_DUR,
	C_FIRST,
	C_R2,
	C_R10,
	C_R40,
	C_MAX
};

struct col {
	const char *head;
	int drop;  /* dropped in this order (1 first) when the screen is narrow; 0: never */
	int min;   /* shrinks to this before any address is elided */
	bool num;  /* right-aligned number: exact when there is room, else k/M/G */
	bool addr; /* an endpoint: elided in the middle only as the last resort */
	bool on;
	int w;
};

struct tui {
	struct sink s;
	FILE *out, *in;
	SCREEN *scr;
	int ep, sigfd, infd;
	struct tui_opts o;
	bool utf8;
	/* state */
	GHashTable *conns;  /* canonical key -> struct conn */
	GHashTable *users;  /* user (or the table itself for none) -> struct acc */
	GHashTable *ifaces; /* ifindex -> struct acc */
	struct row *recs;   /* ring of MAX_RECORDS */
	size_t nrecs, rec_head;
	__u64 seq;
	const struct report *last; /* during report only */
	struct report lastr;       /* scalars of the latest report */
	struct export_stats exp;
	bool has_exp;
	__u64 tot_bytes[2], tot_packets[2];
	double tot_rate[NWIN];
	__u64 start_ns, now_ns;
	/* what is shown */
	enum view view;
	enum sort_key sort;
	bool reverse, paused, names, ports, dirs, help;
	struct filter *filt;
	char filt_err[200];
	bool typing;
	char input[256];
	size_t ninput;
	bool drilled;
	enum view drill_from;
	struct row drill;
	struct row *rows;
	struct row **order;
	size_t nrows, caprows;
	long sel, top;
	/* messages from the log while the screen is ours */
	pthread_mutex_t lock;
	struct msg msgs[MAX_MSGS];
	size_t nmsgs;
};

static struct tui *active; /* the one on screen, for atexit and fatal signals */
static struct termios saved_tios;
static bool have_tios;
static char reset_seq[128];
static size_t reset_len;
static int reset_fd = -1;

/* ---------------------------------------------------------------------------------- */
/* terminal restore on every exit path */

static void restore_now(void)
{
	if (reset_fd >= 0) {
		if (reset_len && write(reset_fd, reset_seq, reset_len) < 0)
			reset_len = 0;
		if (have_tios)
			tcsetattr(reset_fd, TCSADRAIN, &saved_tios);
	}
}

static void on_fatal(int sig)
{
	restore_now();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void at_exit(void)
{
	if (active) {
		endwin();
		active = NULL;
	}
}

static void append_cap(const char *name)
{
	char *s = tigetstr((char *)name);

	if (s && s != (char *)-1 && reset_len + strlen(s) < sizeof(reset_seq))
		reset_len +=
		    snprintf(reset_seq + reset_len, sizeof(reset_seq) - reset_len, "%s", s);
}

/* ---------------------------------------------------------------------------------- */
/* log messages: kept while the screen is ours, said on stderr once it is not */

static void on_log(enum log_level lvl, const char *text, void *arg)
{
	struct tui *t = arg;
	struct msg *m;

	pthread_mutex_lock(&t->lock);
	if (t->nmsgs == MAX_MSGS) {
		memmove(t->msgs, t->msgs + 1, (MAX_MSGS - 1) * sizeof(*t->msgs));
		t->nmsgs--;
	}
	m = &t->msgs[t->nmsgs++];
	m->lvl = lvl;
	snprintf(m->text, sizeof(m->text), "%s", text);
	pthread_mutex_unlock(&t->lock);
}

/* ---------------------------------------------------------------------------------- */
/* counting */

/* How much of the gap to the latest rate each window closes in dt (once a report). */
static double alpha[NWIN];

static void ewma_step(double dt)
{
	for (int w = 0; w < NWIN; w++)
		alpha[w] = 1 - exp(-dt / win_s[w]);
}

static void ewma(double *rate, double bps, double dt)
{
	(void)dt;
	for (int w = 0; w < NWIN; w++)
		rate[w] += (bps - rate[w]) * alpha[w];
}

/* Connections, totals and rows count by the user's side: 0 what the user sent, 1 what
 * the user received (which interface direction that is: core/side.h). */
static int side_of(const struct flow_key *k) { return flow_user_sent(k) ? 0 : 1; }

static struct acc *acc_get(GHashTable *h, gpointer key)
{
	struct acc *a = g_hash_table_lookup(h, key);

	if (!a) {
		a = g_new0(struct acc, 1);
		g_hash_table_insert(h, key, a);
	}
	return a;
}

static void acc_add(struct acc *a, const struct flow *f)
{
	a->bytes[side_of(&f->key)] += f->d_bytes;
	a->packets[side_of(&f->key)] += f->d_packets;
	a->pend += f->d_bytes;
	if (f->packets == f->d_packets)
		a->flows++;
	if (!a->first_ns || f->first_ns < a->first_ns)
		a->first_ns = f->first_ns;
	if (f->last_ns > a->last_ns)
		a->last_ns = f->last_ns;
}

static void acc_rates(GHashTable *h, double dt)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, h);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct acc *a = v;

		ewma(a->rate, dt > 0 ? a->pend * 8 / dt : 0, dt);
		a->pend = 0;
	}
}

static void add_flow(struct tui *t, const struct flow *f, bool fresh)
{
	struct flow_key c;
	struct conn *cn;
	int d = side_of(&f->key);

	flow_key_canonical(&f->key, false, &c);
	cn = g_hash_table_lookup(t->conns, &c);
	if (!cn) {
		cn = g_new0(struct conn, 1);
		cn->key = c;
		g_hash_table_insert(t->conns, &cn->key, cn);
	}
	cn->k[d] = f->key;
	cn->has[d] = true;
	cn->bytes[d] = f->bytes;
	cn->packets[d] = f->packets;
	if (fresh)
		cn->pend[d] += f->d_bytes;
	if (f->user)
		cn->user = f->user;
	if (f->dest.name_src > cn->dest.name_src || (f->dest.asn && !cn->dest.asn))
		cn->dest = f->dest;
	if (!cn->first_ns || f->first_ns < cn->first_ns)
		cn->first_ns = f->first_ns;
	if (f->last_ns > cn->last_ns)
		cn->last_ns = f->last_ns;
	cn->seen = t->seq;
}

static gboolean conn_update(gpointer k, gpointer v, gpointer data)
{
	struct tui *t = data;
	struct conn *cn = v;
	double dt = t->lastr.interval_s;

	(void)k;
	for (int d = 0; d < 2; d++) {
		ewma(cn->rate[d], dt > 0 ? cn->pend[d] * 8 / dt : 0, dt);
		cn->pend[d] = 0;
	}
	/* gone from the flow table: gone from here, unless the screen is frozen */
	return cn->seen != t->seq && !t->paused;
}

/* ---------------------------------------------------------------------------------- */
/* rows */

/* The flow that a direction of a connection is, for the filter. */
static void as_flow(const struct conn *cn, int d, struct flow *f)
{
	memset(f, 0, sizeof(*f));
	f->key = cn->k[d];
	f->user = cn->user;
	f->dest = cn->dest;
	f->bytes = cn->bytes[d];
	f->packets = cn->packets[d];
	f->first_ns = cn->first_ns;
	f->last_ns = cn->last_ns;
}

static bool conn_matches(const struct tui *t, const struct conn *cn, int dir)
{
	struct flow f;

	if (!t->filt)
		return true;
	for (int d = 0; d < 2; d++) {
		if (!cn->has[d] || (dir >= 0 && d != dir))
			continue;
		as_flow(cn, d, &f);
		if (filter_flow(t->filt, &f))
			return true;
	}
	return false;
}

/* The key with the user's side as source: what the user sent. */
static struct flow_key ingress_key(const struct conn *cn)
{
	struct flow_key k;

	if (cn->has[0])
		return cn->k[0];
	k = cn->k[1];
	memcpy(k.src, cn->k[1].dst, 16);
	memcpy(k.dst, cn->k[1].src, 16);
	k.sport = cn->k[1].dport;
	k.dport = cn->k[1].sport;
	if (proto_is_icmp(k.proto)) {
		k.sport = cn->k[1].sport;
		k.dport = cn->k[1].dport;
	}
	k.dir = !cn->k[1].dir;
	return k;
}

static bool in_drill(const struct tui *t, const struct conn *cn)
{
	if (!t->drilled)
		return true;
	switch (t->drill_from) {
	case V_USERS:
		return cn->user == t->drill.user;
	case V_IFACES:
		return (int)cn->key.ifindex == t->drill.ifindex;
	case V_DESTS:
		if (t->drill.name)
			return cn->dest.name == t->drill.name;
		return !cn->dest.name &&
		       !memcmp(flow_far(&cn->k[cn->has[0] ? 0 : 1]), t->drill.key.dst, 16);
	default:
		return true;
	}
}

static struct row *row_new(struct tui *t)
{
	if (t->nrows == t->caprows) {
		size_t cap = t->caprows ? t->caprows * 2 : 256;
		struct row *r = realloc(t->rows, cap * sizeof(*r));

		if (!r)
			return NULL;
		t->rows = r;
		t->caprows = cap;
	}
	memset(&t->rows[t->nrows], 0, sizeof(*t->rows));
	return &t->rows[t->nrows++];
}

static void conn_row(struct tui *t, const struct conn *cn, int dir)
{
	struct row *r = row_new(t);

	if (!r)
		return;
	r->key = ingress_key(cn);
	r->dir = dir;
	r->user = cn->user;
	r->name = cn->dest.name;
	r->ifindex = cn->key.ifindex;
	for (int d = 0; d < 2; d++) {
		if (dir >= 0 && d != dir)
			continue;
		r->bytes[d] = cn->bytes[d];
		r->packets[d] = cn->packets[d];
		for (int w = 0; w < NWIN; w++)
			r->rate[w] += cn->rate[d][w];
	}
	r->nflows = 1;
	r->first_ns = cn->first_ns;
	r->last_ns = cn->last_ns;
}

static void acc_rows(struct tui *t, GHashTable *h, bool users)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, h);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct acc *a = v;
		struct row *r = row_new(t);

		if (!r)
			return;
		r->dir = -1;
		r->user = a->user;
		r->ifindex = users ? -1 : a->ifindex;
		memcpy(r->bytes, a->bytes, sizeof(r->bytes));
		memcpy(r->packets, a->packets, sizeof(r->packets));
		memcpy(r->rate, a->rate, sizeof(r->rate));
		r->first_ns = a->first_ns;
		r->last_ns = a->last_ns;
		r->nflows = 0;
	}
}

/* Connections now in memory per row of a users or interfaces view. */
static void count_conns(struct tui *t)
{
	GHashTable *idx = g_hash_table_new(g_direct_hash, g_direct_equal);
	GHashTableIter it;
	gpointer v, slot;

	for (size_t i = 0; i < t->nrows; i++) {
		const struct row *r = &t->rows[i];
		gpointer key = t->view == V_USERS ? (r->user ? (gpointer)r->user : (gpointer)idx)
		                                  : GINT_TO_POINTER(r->ifindex);

		g_hash_table_insert(idx, key, GSIZE_TO_POINTER(i));
	}
	g_hash_table_iter_init(&it, t->conns);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct conn *cn = v;
		gpointer key = t->view == V_USERS ? (cn->user ? (gpointer)cn->user : (gpointer)idx)
		                                  : GINT_TO_POINTER(cn->key.ifindex);

		if (g_hash_table_lookup_extended(idx, key, NULL, &slot))
			t->rows[GPOINTER_TO_SIZE(slot)].nflows++;
	}
	g_hash_table_destroy(idx);
}

/* Destinations: a name, or the far address when there is none, over the connections
 * in memory. */
static void dest_rows(struct tui *t)
{
	GHashTable *by = g_hash_table_new(g_bytes_hash, g_bytes_equal);
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, t->conns);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct conn *cn = v;
		struct flow_key k = ingress_key(cn);
		__u8 id[24] = {0};
		GBytes *b;
		struct row *r;
		size_t i;

		if (!conn_matches(t, cn, -1))
			continue;
		if (t->names && cn->dest.name)
			memcpy(id, &cn->dest.name, sizeof(cn->dest.name));
		else
			memcpy(id + 8, k.dst, 16);
		b = g_bytes_new(id, sizeof(id));
		if (g_hash_table_lookup_extended(by, b, NULL, &v)) {
			i = GPOINTER_TO_SIZE(v);
			g_bytes_unref(b);
		} else {
			if (!row_new(t)) {
				g_bytes_unref(b);
				break;
			}
			i = t->nrows - 1;
			t->rows[i].dir = -1;
			t->rows[i].key = k;
			t->rows[i].name = t->names ? cn->dest.name : NULL;
			t->rows[i].ifindex = -1;
			g_hash_table_insert(by, b, GSIZE_TO_POINTER(i));
		}
		r = &t->rows[i];
		r->nflows++;
		for (int d = 0; d < 2; d++) {
			r->bytes[d] += cn->bytes[d];
			r->packets[d] += cn->packets[d];
			for (int w = 0; w < NWIN; w++)
				r->rate[w] += cn->rate[d][w];
		}
		if (!r->first_ns || cn->first_ns < r->first_ns)
			r->first_ns = cn->first_ns;
		if (cn->last_ns > r->last_ns)
			r->last_ns = cn->last_ns;
	}
	g_hash_table_destroy(by);
}

static int sort_dir(const struct tui *t) { return t->reverse ? -1 : 1; }

static struct tui *cmp_t; /* qsort has no context argument */

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return !a - !b; /* none last */
	return strcmp(a, b);
}

static int cmp_u64(__u64 a, __u64 b) { return a < b ? 1 : a > b ? -1 : 0; } /* most first */

static int cmp_rows(const void *x, const void *y)
{
	const struct row *a = *(struct row *const *)x, *b = *(struct row *const *)y;
	int c = 0;

	switch (cmp_t->sort) {
	case S_RATE2:
	case S_RATE10:
	case S_RATE40: {
		double ra = a->rate[cmp_t->sort - S_RATE2], rb = b->rate[cmp_t->sort - S_RATE2];

		c = ra < rb ? 1 : ra > rb ? -1 : 0;
		break;
	}
	case S_BYTES:
		c = cmp_u64(a->bytes[0] + a->bytes[1], b->bytes[0] + b->bytes[1]);
		break;
	case S_PKTS:
		c = cmp_u64(a->packets[0] + a->packets[1], b->packets[0] + b->packets[1]);
		break;
	case S_DUR:
		c = cmp_u64(a->last_ns - a->first_ns, b->last_ns - b->first_ns);
		break;
	case S_USER:
		c = cmp_str(a->user, b->user);
		break;
	case S_NAME:
		c = cmp_str(a->name, b->name);
		if (!c)
			c = memcmp(a->key.dst, b->key.dst, 16);
		break;
	default:
		break;
	}
	c *= sort_dir(cmp_t);
	/* ties: most bytes, then the key, so the order is stable from frame to frame */
	if (!c)
		c = cmp_u64(a->bytes[0] + a->bytes[1], b->bytes[0] + b->bytes[1]);
	if (!c && a->ifindex != b->ifindex)
		c = a->ifindex < b->ifindex ? -1 : 1;
	if (!c)
		c = cmp_str(a->user, b->user);
	if (!c)
		c = memcmp(a->key.dst, b->key.dst, 16);
	if (!c)
		c = memcmp(a->key.src, b->key.src, 16);
	if (!c && a->key.dport != b->key.dport)
		c = a->key.dport < b->key.dport ? -1 : 1;
	if (!c && a->key.sport != b->key.sport)
		c = a->key.sport < b->key.sport ? -1 : 1;
	if (!c)
		c = a->key.proto - b->key.proto;
	if (!c)
		c = a->dir - b->dir;
	return c;
}

static void swap_rows(struct row **a, size_t i, size_t j)
{
	struct row *x = a[i];

	a[i] = a[j];
	a[j] = x;
}

/* The first k rows in order, the rest after them in none (quickselect, then a sort of
 * the k): only what can be on screen is sorted. All of them when k is most of n. */
static void partial_sort(struct row **a, size_t n, size_t k)
{
	size_t lo = 0, hi = n;

	if (k >= n / 2) {
		qsort(a, n, sizeof(*a), cmp_rows);
		return;
	}
	while (hi - lo > 1) {
		size_t st = lo;
		struct row *p;

		swap_rows(a, lo + (hi - lo) / 2, hi - 1);
		p = a[hi - 1];
		for (size_t i = lo; i < hi - 1; i++)
			if (cmp_rows(&a[i], &p) < 0)
				swap_rows(a, i, st++);
		swap_rows(a, st, hi - 1);
		/* before st: all before p; after st: none before it */
		if (st == k)
			break;
		if (st > k)
			hi = st;
		else
			lo = st + 1;
	}
	qsort(a, k, sizeof(*a), cmp_rows);
}

static void build_rows(struct tui *t)
{
	GHashTableIter it;
	gpointer v;

	t->nrows = 0;
	switch (t->view) {
	case V_FLOWS:
		g_hash_table_iter_init(&it, t->conns);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			const struct conn *cn = v;

			if (!in_drill(t, cn))
				continue;
			if (!t->dirs) {
				if (conn_matches(t, cn, -1))
					conn_row(t, cn, -1);
				continue;
			}
			for (int d = 0; d < 2; d++)
				if (cn->has[d] && conn_matches(t, cn, d))
					conn_row(t, cn, d);
		}
		break;
	case V_USERS:
	case V_IFACES:
		acc_rows(t, t->view == V_USERS ? t->users : t->ifaces, t->view == V_USERS);
		count_conns(t);
		break;
	case V_DESTS:
		dest_rows(t);
		break;
	case V_RECORDS:
		for (size_t i = 0; i < t->nrecs; i++) {
			const struct row *rec =
			    &t->recs[(t->rec_head + MAX_RECORDS - 1 - i) % MAX_RECORDS];
			struct record fr = {.key = rec->key,
			                    .user = rec->user,
			                    .dest.name = rec->name,
			                    .packets = rec->packets[0],
			                    .bytes = rec->bytes[0],
			                    .rev_packets = rec->packets[1],
			                    .rev_bytes = rec->bytes[1]};
			struct row *r;

			if (t->filt && !filter_record(t->filt, &fr))
				continue;
			if (!(r = row_new(t)))
				break;
			*r = *rec;
		}
		break;
	default:
		break;
	}
	if (t->nrows > 0) {
		struct row **o = realloc(t->order, t->nrows * sizeof(*o));

		if (!o) {
			t->nrows = 0;
			return;
		}
		t->order = o;
	}
	for (size_t i = 0; i < t->nrows; i++)
		t->order[i] = &t->rows[i];
	cmp_t = t;
	partial_sort(t->order, t->nrows, (size_t)(t->top > t->sel ? t->top : t->sel) + LINES + 1);
}

/* ---------------------------------------------------------------------------------- */
/* drawing */

/* Terminal columns of a UTF-8 string (the strings here are clean: text_clean()). */
static int str_cols(const char *s)
{
	int n = 0;

	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		n += g_unichar_iszerowidth(c) ? 0 : g_unichar_iswide(c) ? 2 : 1;
	}
	return n;
}

/* s cut to w columns at its end (text: a user or interface name), no mark needed as
 * ~ shows it; or, for an address, elided in the middle with a visible mark. */
static void fit(const char *s, int w, bool addr, bool utf8, char *out)
{
	int cols = str_cols(s);
	const char *mark = utf8 ? "\xe2\x80\xa6" : "..";
	int mw = utf8 ? 1 : 2;

	if (cols <= w) {
		snprintf(out, CELL, "%s", s);
		return;
	}
	if (w <= mw) {
		snprintf(out, CELL, "%.*s", w, "~~~~");
		return;
	}
	if (!addr) {
		/* a name: its start, then the mark */
		int n = 0;
		const char *p = s;

		while (*p) {
			gunichar c = g_utf8_get_char(p);
			int cw = g_unichar_iswide(c) ? 2 : 1;

			if (n + cw > w - mw)
				break;
			n += cw;
			p = g_utf8_next_char(p);
		}
		snprintf(out, CELL, "%.*s%s", (int)(p - s), s, mark);
		return;
	}
	/* an address (ASCII): its start and its end, the mark between */
	{
		int keep = w - mw, tail = keep / 2 + keep % 2, head = keep - tail;
		size_t len = strlen(s);

		snprintf(out, CELL, "%.*s%s%s", head, s, mark, s + len - tail);
	}
}

static void fmt_dur(__u64 ns, char *buf)
{
	__u64 s = ns / 1000000000ull;

	if (s < 60)
		snprintf(buf, CELL, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, CELL, "%llum%02llus", (unsigned long long)(s / 60),
		         (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, CELL, "%lluh%02llum", (unsigned long long)(s / 3600),
		         (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, CELL, "%llud%02lluh", (unsigned long long)(s / 86400),
		         (unsigned long long)(s % 86400 / 3600));
}

static void fmt_num(double v, bool exact, char *buf)
{
	if (exact)
		snprintf(buf, CELL, "%.0f", v);
	else
		fmt_si(v, buf, CELL);
}

/* The endpoint of one side of an ingress-oriented key: near (local) or far (remote). */
static void endpoint(const struct tui *t, const struct flow_key *k, bool near, const char *name,
                     char *buf)
{
	char a[ADDR_STRLEN];
	__u16 port = near ? k->sport : k->dport;
	bool ports = t->ports && proto_has_ports(k->proto);

	if (name && t->names && !near) {
		if (ports)
			snprintf(buf, CELL, "%s:%u", name, port);
		else
			snprintf(buf, CELL, "%s", name);
		return;
	}
	fmt_addr(near ? k->src : k->dst, k->ip_version, a);
	if (!ports)
		snprintf(buf, CELL, "%s", a);
	else if (k->ip_version == 6)
		snprintf(buf, CELL, "[%s]:%u", a, port);
	else
		snprintf(buf, CELL, "%s:%u", a, port);
}

static void cell_text(const struct tui *t, const struct row *r, enum col_id c, bool exact,
                      char *buf)
{
	char pb[8];

	buf[0] = 0;
	switch (c) {
	case C_LABEL:
		if (t->view == V_USERS)
			snprintf(buf, CELL, "%s", r->user ? r->user : "(no user)");
		else if (t->view == V_IFACES)
			snprintf(buf, CELL, "%s", iface_name(r->ifindex));
		else if (r->name)
			snprintf(buf, CELL, "%s", r->name);
		else
			fmt_addr(r->key.dst, r->key.ip_version, buf);
		break;
	case C_USER:
		snprintf(buf, CELL, "%s", r->user ? r->user : "-");
		break;
	case C_IFACE:
		snprintf(buf, CELL, "%s", iface_name(r->ifindex));
		break;
	case C_DIR:
		snprintf(buf, CELL, "%s", r->dir == 0 ? "sent" : "recv");
		break;
	case C_PROTO:
		snprintf(buf, CELL, "%s", proto_name(r->key.proto, pb));
		break;
	case C_END:
		snprintf(buf, CELL, "%s", end_names[r->end < END_MAX ? r->end : 0]);
		break;
	case C_LOCAL:
		if (t->view == V_RECORDS) {
			struct flow_key k = r->key;

			/* initiator */
			endpoint(t, &k, true, NULL, buf);
		} else {
			endpoint(t, &r->key, true, NULL, buf);
		}
		break;
	case C_REMOTE:
		endpoint(t, &r->key, false, r->name, buf);
		break;
	case C_FLOWS:
		fmt_num(r->nflows, exact, buf);
		break;
	case C_SENT: /* records: bytes[0] is the initiator's */
		fmt_num(r->bytes[t->view == V_RECORDS && r->dir == 1], exact, buf);
		break;
	case C_RECV:
		fmt_num(r->bytes[!(t->view == V_RECORDS && r->dir == 1)], exact, buf);
		break;
	case C_PKTS:
		fmt_num(r->packets[0] + r->packets[1], exact, buf);
		break;
	case C_R2:
	case C_R10:
	case C_R40:
		fmt_si(r->rate[c - C_R2], buf, CELL);
		break;
	case C_FIRST: {
		time_t sec = (time_t)((__s64)r->first_ns + t->lastr.mono_to_real_ns) / 1000000000;
		struct tm tm;

		if (r->first_ns && gmtime_r(&sec, &tm))
			strftime(buf, CELL, "%H:%M:%S", &tm);
		break;
	}
	case C_DUR:
		fmt_dur(r->last_ns > r->first_ns ? r->last_ns - r->first_ns : 0, buf);
		break;
	default:
		break;
	}
}

/* The columns of the current view, with their widths for this frame. */
static int layout(const struct tui *t, struct col *cols, long first, long n, bool *exact)
{
	static const struct col base[C_MAX] = {
	    [C_LABEL] = {"USER", 0, 8, false, false, false, 0},
	    [C_USER] = {"USER", 0, 6, false, false, false, 0},
	    [C_IFACE] = {"IFACE", 5, 4, false, false, false, 0},
	    [C_DIR] = {"DIR", 0, 4, false, false, false, 0},
	    [C_PROTO] = {"PROTO", 6, 4, false, false, false, 0},
	    [C_END] = {"END", 0, 6, false, false, false, 0},
	    [C_LOCAL] = {"LOCAL", 0, 0, false, true, false, 0},
	    [C_REMOTE] = {"REMOTE", 0, 0, false, true, false, 0},
	    [C_FLOWS] = {"CONNS", 4, 5, true, false, false, 0},
	    [C_SENT] = {"SENT", 0, 6, true, false, false, 0},
	    [C_RECV] = {"RECV", 0, 6, true, false, false, 0},
	    [C_PKTS] = {"PKTS", 3, 6, true, false, false, 0},
	    [C_R2] = {"2s", 0, 6, true, false, false, 0},
	    [C_R10] = {"10s", 2, 6, true, false, false, 0},
	    [C_R40] = {"40s", 1, 6, true, false, false, 0},
	    [C_DUR] = {"DUR", 4, 6, false, false, false, 0},
	    [C_FIRST] = {"FIRST", 3, 8, false, false, false, 0},
	};
	char buf[CELL];
	int total, ncol = 0, width = COLS;

	memcpy(cols, base, sizeof(base));
	switch (t->view) {
	case V_FLOWS:
		cols[C_USER].on = t->lastr.users;
		cols[C_IFACE].on = cols[C_PROTO].on = true;
		cols[C_DIR].on = t->dirs;
		cols[C_LOCAL].on = cols[C_REMOTE].on = true;
		break;
	case V_RECORDS:
		cols[C_END].on = cols[C_PROTO].on = cols[C_IFACE].on = true;
		cols[C_USER].on = t->lastr.users;
		cols[C_LOCAL].on = cols[C_REMOTE].on = true;
		cols[C_LOCAL].head = "INITIATOR";
		cols[C_REMOTE].head = "RESPONDER";
		cols[C_SENT].head = "FWD";
		cols[C_RECV].head = "REV";
		cols[C_R2].drop = cols[C_R10].drop = cols[C_R40].drop = -1;
		break;
	default:
		cols[C_LABEL].on = cols[C_FLOWS].on = true;
		cols[C_LABEL].head = t->view == V_USERS    ? "USER"
		                     : t->view == V_IFACES ? "IFACE"
		                                           : "DESTINATION";
		cols[C_LABEL].addr = t->view == V_DESTS;
		cols[C_DUR].head = t->view == V_DESTS ? "DUR" : "ACTIVE";
		/* users and interfaces: when tunflow first saw them (their totals count
		 * from there) */
		cols[C_FIRST].on = t->view != V_DESTS;
		break;
	}
	cols[C_SENT].on = cols[C_RECV].on = cols[C_PKTS].on = cols[C_DUR].on = true;
	cols[C_R2].on = cols[C_R10].on = cols[C_R40].on = t->view != V_RECORDS;
	/* wanted widths: the header, or the widest cell on screen, exact numbers */
	for (int c = 0; c < C_MAX; c++) {
		if (!cols[c].on)
			continue;
		cols[c].w = str_cols(cols[c].head);
		for (long i = first; i < first + n; i++) {
			int w;

			cell_text(t, t->order[i], c, true, buf);
			w = str_cols(buf);
			if (w > cols[c].w)
				cols[c].w = w;
		}
		if (!cols[c].num && !cols[c].addr && cols[c].w > 24)
			cols[c].w = 24;
		if (cols[c].w < cols[c].min && !cols[c].addr)
			cols[c].w = cols[c].min;
		if (cols[c].addr && cols[c].w < (int)strlen(cols[c].head))
			cols[c].w = strlen(cols[c].head);
		ncol++;
	}
#define TOTAL()                                                                                    \
	({                                                                                         \
		int s_ = -1;                                                                       \
		for (int c_ = 0; c_ < C_MAX; c_++)                                                 \
			if (cols[c_].on)                                                           \
				s_ += cols[c_].w + 1;                                              \
		s_;                                                                                \
	})
	*exact = true;
	total = TOTAL();
	/* 1: numbers as k/M/G */
	if (total > width) {
		*exact = false;
		for (int c = 0; c < C_MAX; c++)
			if (cols[c].on && cols[c].num)
				cols[c].w = cols[c].min > (int)strlen(cols[c].head)
				                ? cols[c].min
				                : (int)strlen(cols[c].head);
		total = TOTAL();
	}
	/* 2: drop the optional columns, least useful first */
	for (int d = 1; d <= 6 && total > width; d++)
		for (int c = 0; c < C_MAX; c++)
			if (cols[c].on && cols[c].drop == d) {
				cols[c].on = false;
				total = TOTAL();
			}
	/* 3: text columns down to their minimum */
	for (int c = 0; c < C_MAX && total > width; c++)
		if (cols[c].on && !cols[c].num && !cols[c].addr && cols[c].w > cols[c].min) {
			int cut = total - width < cols[c].w - cols[c].min ? total - width
			                                                  : cols[c].w - cols[c].min;

			cols[c].w -= cut;
			total -= cut;
		}
	/* 4: the last resort: the address columns, the wider one first, elided in the
	 * middle */
	while (total > width) {
		int c = -1;

		for (int i = 0; i < C_MAX; i++)
			if (cols[i].on && cols[i].addr && cols[i].w > 8 &&
			    (c < 0 || cols[i].w > cols[c].w))
				c = i;
		if (c < 0)
			break;
		cols[c].w--;
		total--;
	}
#undef TOTAL
	return ncol;
}

static void draw_cells(const struct tui *t, const struct col *cols, const struct row *r, bool exact,
                       int y, bool head)
{
	char buf[CELL], fitted[CELL];
	int x = 0;

	for (int c = 0; c < C_MAX; c++) {
		if (!cols[c].on)
			continue;
		if (head)
			snprintf(buf, sizeof(buf), "%s", cols[c].head);
		else
			cell_text(t, r, c, exact, buf);
		fit(buf, cols[c].w, cols[c].addr, t->utf8, fitted);
		if (x >= COLS)
			break;
		if (cols[c].num)
			snprintf(buf, sizeof(buf), "%*s", cols[c].w, fitted);
		else
			snprintf(buf, sizeof(buf), "%s", fitted);
		mvaddnstr(y, x, buf, COLS - x); /* never wraps onto the next line */
		x += cols[c].w + 1;
	}
}

static int body_rows(void) { return LINES - 5 > 1 ? LINES - 5 : 1; }

static void clamp_sel(struct tui *t)
{
	long h = body_rows();

	if (t->sel >= (long)t->nrows)
		t->sel = (long)t->nrows - 1;
	if (t->sel < 0)
		t->sel = 0;
	if (t->sel < t->top)
		t->top = t->sel;
	if (t->sel >= t->top + h)
		t->top = t->sel - h + 1;
	if (t->top > (long)t->nrows - h)
		t->top = (long)t->nrows - h;
	if (t->top < 0)
		t->top = 0;
}

static void draw_help(void)
{
	static const char *const help[] = {
	    "tunflow keys",
	    "",
	    "q        quit                   h ?      this help",
	    "1 2 3    sort by 2/10/40 s rate B K D    sort by bytes, packets, time",
	    "U N      sort by user, name     r        reverse the order",
	    "o        next sort key          P space  pause (counting goes on)",
	    "/ f l    filter expression      Esc      back; clear the filter",
	    "u i d    by user, interface, destination (again: connections)",
	    "Enter    the selected group's connections",
	    "R        records (--records)    t        a line per direction",
	    "n        names or addresses     p        ports on or off",
	    "arrows j k PgUp PgDn Home End g G: move and scroll",
	    "",
	    "SENT and RECV are the user's: ingress on the tunnel is what the",
	    "user sent. User and interface totals count since tunflow started.",
	    "",
	    "any key closes this help",
	};
	int n = sizeof(help) / sizeof(*help), w = 74, y0, x0;

	if (w > COLS)
		w = COLS;
	y0 = (LINES - n - 2) / 2;
	x0 = (COLS - w) / 2;
	if (y0 < 0)
		y0 = 0;
	if (x0 < 0)
		x0 = 0;
	for (int i = 0; i < n + 2 && y0 + i < LINES; i++) {
		move(y0 + i, x0);
		for (int x = 0; x < w; x++)
			addch(' ');
		if (i > 0 && i <= n)
			mvaddnstr(y0 + i, x0 + 2, help[i - 1], w - 3);
	}
}

static void footer(struct tui *t)
{
	char a[8], b[8], c[8], d[8], e[8], line[512];
	const struct report *r = &t->lastr;
	int y = LINES - 3, n;
	FILE *f;
	char *loss = NULL;
	size_t len = 0;

	fmt_si(t->tot_bytes[0], a, sizeof(a));
	fmt_si(t->tot_bytes[1], b, sizeof(b));
	fmt_si(t->tot_rate[0], c, sizeof(c));
	fmt_si(t->tot_rate[1], d, sizeof(d));
	fmt_si(t->tot_rate[2], e, sizeof(e));
	/* what is shown: paused, sort, filter */
	n = snprintf(line, sizeof(line), "%ssort: %s%s", t->paused ? "PAUSED  " : "",
	             sort_names[t->sort], t->reverse ? " (reversed)" : "");
	if (t->filt)
		n += snprintf(line + n, sizeof(line) - n, "  filter: %s", filter_text(t->filt));
	if (n >= (int)sizeof(line)) /* cut: nothing more fits */
		n = sizeof(line) - 1;
	if (t->o.filter && *t->o.filter)
		snprintf(line + n, sizeof(line) - n, "  -f %s", t->o.filter);
	attron(A_REVERSE);
	mvhline(y, 0, ' ', COLS);
	mvaddnstr(y, 0, line, COLS);
	attroff(A_REVERSE);
	/* totals, losses, export */
	move(y + 1, 0);
	clrtoeol();
	if (r->counters && (f = open_memstream(&loss, &len))) {
		print_losses(f, "  not in flows:", r);
		fclose(f);
	}
	snprintf(line, sizeof(line), "total sent %s recv %s  bit/s %s %s %s%s", a, b, c, d, e,
	         loss && len ? loss : "");
	free(loss);
	line[strcspn(line, "\n")] = 0;
	n = strlen(line);
	if (t->has_exp)
		snprintf(line + n, sizeof(line) - n,
		         "  ipfix: %llu exported, %llu failed, %llu waiting",
		         (unsigned long long)t->exp.records, (unsigned long long)t->exp.failures,
		         (unsigned long long)t->exp.backlog);
	mvaddnstr(y + 1, 0, line, COLS);
	/* the filter being typed, its error, or the latest warning */
	move(y + 2, 0);
	clrtoeol();
	if (t->typing) {
		mvprintw(y + 2, 0, "filter: %.*s", (int)t->ninput, t->input);
		if (t->filt_err[0])
			mvaddnstr(y + 1, 0, t->filt_err, COLS);
	} else if (t->filt_err[0]) {
		mvaddnstr(y + 2, 0, t->filt_err, COLS);
	} else {
		pthread_mutex_lock(&t->lock);
		for (size_t i = t->nmsgs; i > 0; i--)
			/* the latest warning; "waiting for an interface" only while none is */
			if (t->msgs[i - 1].lvl <= LOG_LVL_WARN &&
			    !(r->nifaces > 0 && strstr(t->msgs[i - 1].text, "; waiting for"))) {
				mvaddnstr(y + 2, 0, t->msgs[i - 1].text, COLS);
				break;
			}
		pthread_mutex_unlock(&t->lock);
	}
}

static void draw(struct tui *t)
{
	struct col cols[C_MAX];
	long h = body_rows(), n;
	bool exact;
	char now[32], title[512];
	int tl;

	if (!t->paused)
		build_rows(t);
	clamp_sel(t);
	n = (long)t->nrows - t->top < h ? (long)t->nrows - t->top : h;
	erase();
	fmt_time(t->lastr.now_real_ns, now);
	tl = snprintf(title, sizeof(title), "tunflow  %d interface%s  %zu %s  %.8s",
	              t->lastr.nifaces, t->lastr.nifaces == 1 ? "" : "s", t->nrows,
	              view_names[t->view], now + 11);
	if (t->drilled) {
		char lab[CELL];
		enum view v = t->view;

		t->view = t->drill_from;
		cell_text(t, &t->drill, C_LABEL, true, lab);
		t->view = v;
		tl += snprintf(title + tl, sizeof(title) - tl, "  of %s %s (Esc: back)",
		               t->drill_from == V_USERS    ? "user"
		               : t->drill_from == V_IFACES ? "interface"
		                                           : "destination",
		               lab);
	}
	snprintf(title + tl, sizeof(title) - tl, "  h: help");
	mvaddnstr(0, 0, title, COLS);
	layout(t, cols, t->top, n, &exact);
	attron(A_BOLD);
	draw_cells(t, cols, NULL, exact, 1, true);
	attroff(A_BOLD);
	for (long i = 0; i < n; i++) {
		bool sel = t->top + i == t->sel;

		if (sel)
			attron(A_REVERSE);
		if (sel)
			mvhline(2 + i, 0, ' ', COLS);
		draw_cells(t, cols, t->order[t->top + i], exact, 2 + i, false);
		if (sel)
			attroff(A_REVERSE);
	}
	if (!t->nrows)
		mvaddnstr(2, 0,
		          t->view == V_RECORDS && !t->o.records
		              ? "no records: start tunflow with --records to see them here"
		              : "nothing yet",
		          COLS);
	footer(t);
	if (t->help)
		draw_help();
	refresh();
}

/* ---------------------------------------------------------------------------------- */
/* the sink */

static void tui_record(struct sink *s, const struct record *rec, const struct report *r)
{
	struct tui *t = (struct tui *)s;
	struct row *x = &t->recs[t->rec_head];

	(void)r;
	memset(x, 0, sizeof(*x));
	x->key = rec->key;
	x->dir = side_of(&rec->key); /* 0: the user started it */
	x->user = rec->user;
	x->name = rec->dest.name;
	x->ifindex = rec->key.ifindex;
	x->bytes[0] = rec->bytes;
	x->bytes[1] = rec->rev_bytes;
	x->packets[0] = rec->packets;
	x->packets[1] = rec->rev_packets;
	x->first_ns = rec->start_ns;
	x->last_ns = rec->end_ns;
	x->end = rec->end;
	x->nflows = 1;
	t->rec_head = (t->rec_head + 1) % MAX_RECORDS;
	if (t->nrecs < MAX_RECORDS)
		t->nrecs++;
}

static int tui_report(struct sink *s, const struct report *r)
{
	struct tui *t = (struct tui *)s;
	double dt = r->interval_s;
	__u64 pend = 0;

	t->seq++;
	t->lastr = *r;
	t->lastr.flows = NULL;
	t->lastr.nflows = 0;
	if ((t->has_exp = r->export != NULL))
		t->exp = *r->export;
	for (size_t i = 0; i < r->nflows; i++) {
		const struct flow *f = r->flows[i];
		bool fresh = f->gen == r->gen;

		add_flow(t, f, fresh);
		if (!fresh)
			continue;
		acc_add(acc_get(t->users, f->user ? (gpointer)f->user : (gpointer)t->users), f);
		acc_get(t->users, f->user ? (gpointer)f->user : (gpointer)t->users)->user = f->user;
		acc_add(acc_get(t->ifaces, GINT_TO_POINTER(f->key.ifindex)), f);
		acc_get(t->ifaces, GINT_TO_POINTER(f->key.ifindex))->ifindex = f->key.ifindex;
		t->tot_bytes[side_of(&f->key)] += f->d_bytes;
		t->tot_packets[side_of(&f->key)] += f->d_packets;
		pend += f->d_bytes;
	}
	ewma_step(dt);
	ewma(t->tot_rate, dt > 0 ? pend * 8 / dt : 0, dt);
	acc_rates(t->users, dt);
	acc_rates(t->ifaces, dt);
	g_hash_table_foreach_remove(t->conns, conn_update, t);
	if (r->final)
		return 0;
	draw(t);
	return 0;
}

static void set_view(struct tui *t, enum view v)
{
	t->view = t->view == v && !t->drilled ? V_FLOWS : v;
	t->drilled = false;
	t->sel = t->top = 0;
}

static void apply_filter(struct tui *t)
{
	char err[200];
	struct filter *f;

	t->input[t->ninput] = 0;
	f = filter_parse(t->input, err, sizeof(err));
	if (!f) {
		snprintf(t->filt_err, sizeof(t->filt_err), "%s", err);
		return; /* stay in the input line, to fix it */
	}
	filter_free(t->filt);
	t->filt = t->ninput && strspn(t->input, " \t") < t->ninput ? f : NULL;
	if (!t->filt)
		filter_free(f);
	t->filt_err[0] = 0;
	t->typing = false;
	t->sel = t->top = 0;
}

static void key_typing(struct tui *t, int ch)
{
	if (ch == 27) {
		t->typing = false;
		t->filt_err[0] = 0;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		apply_filter(t);
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (t->ninput)
			t->ninput--;
	} else if (ch == 21) { /* Ctrl-U */
		t->ninput = 0;
	} else if (ch >= 32 && ch < 127 && t->ninput < sizeof(t->input) - 1) {
		t->input[t->ninput++] = ch;
	}
}

/* One key. 1: quit. */
static int key(struct tui *t, int ch)
{
	long page = body_rows();

	if (t->typing) {
		key_typing(t, ch);
		return 0;
	}
	if (t->help) {
		t->help = false;
		return ch == 'q';
	}
	t->filt_err[0] = 0;
	switch (ch) {
	case 'q':
		return 1;
	case 'h':
	case '?':
		t->help = true;
		break;
	case '1':
	case '2':
	case '3':
		t->sort = S_RATE2 + ch - '1';
		break;
	case 'B':
		t->sort = S_BYTES;
		break;
	case 'K':
		t->sort = S_PKTS;
		break;
	case 'D':
		t->sort = S_DUR;
		break;
	case 'U':
		t->sort = S_USER;
		break;
	case 'N':
		t->sort = S_NAME;
		break;
	case 'o':
		t->sort = (t->sort + 1) % S_MAX;
		break;
	case 'r':
		t->reverse = !t->reverse;
		break;
	case 'P':
	case ' ':
		t->paused = !t->paused;
		break;
	case '/':
	case 'f':
	case 'l':
		t->typing = true;
		t->ninput = t->filt ? strlen(filter_text(t->filt)) : 0;
		if (t->filt)
			memcpy(t->input, filter_text(t->filt), t->ninput);
		break;
	case 'u':
		set_view(t, V_USERS);
		break;
	case 'i':
		set_view(t, V_IFACES);
		break;
	case 'd':
		set_view(t, V_DESTS);
		break;
	case 'R':
		set_view(t, V_RECORDS);
		break;
	case 'n':
		t->names = !t->names;
		break;
	case 'p':
		t->ports = !t->ports;
		break;
	case 't':
		t->dirs = !t->dirs;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if ((t->view == V_USERS || t->view == V_IFACES || t->view == V_DESTS) &&
		    t->sel < (long)t->nrows) {
			t->drill = *t->order[t->sel];
			t->drill_from = t->view;
			t->drilled = true;
			t->view = V_FLOWS;
			t->sel = t->top = 0;
		}
		break;
	case 27:
		if (t->drilled) {
			t->view = t->drill_from;
			t->drilled = false;
		} else if (t->filt) {
			filter_free(t->filt);
			t->filt = NULL;
		} else {
			t->view = V_FLOWS;
		}
		t->sel = t->top = 0;
		break;
	case KEY_UP:
	case 'k':
		t->sel--;
		break;
	case KEY_DOWN:
	case 'j':
		t->sel++;
		break;
	case KEY_PPAGE:
		t->sel -= page;
		t->top -= page;
		break;
	case KEY_NPAGE:
		t->sel += page;
		t->top += page;
		break;
	case KEY_HOME:
	case 'g':
		t->sel = 0;
		break;
	case KEY_END:
	case 'G':
		t->sel = (long)t->nrows - 1;
		break;
	default:
		break;
	}
	/* a changed order or view shows at once, even paused */
	if (t->paused)
		switch (ch) {
		case '1':
		case '2':
		case '3':
		case 'B':
		case 'K':
		case 'D':
		case 'U':
		case 'N':
		case 'o':
		case 'r':
			cmp_t = t;
			qsort(t->order, t->nrows, sizeof(*t->order), cmp_rows);
			break;
		case 'u':
		case 'i':
		case 'd':
		case 'R':
		case 't':
		case 27:
		case '\n':
		case '\r':
		case KEY_ENTER:
			t->paused = false;
			build_rows(t);
			t->paused = true;
			break;
		default:
			break;
		}
	return 0;
}

static void resize(struct tui *t)
{
	struct winsize ws;

	if (ioctl(fileno(t->out), TIOCGWINSZ, &ws) || !ws.ws_row || !ws.ws_col)
		return;
	/* out and in again: ncurses sets the terminal up anew (its scrolling region
	 * too, which a resize alone leaves at the old height: lines drawn below it then
	 * end up on the normal screen in tmux) */
	endwin();
	resize_term(ws.ws_row, ws.ws_col);
	refresh();
}

static int tui_fd(struct sink *s, unsigned *events)
{
	*events = EPOLLIN;
	return ((struct tui *)s)->ep;
}

static int tui_ready(struct sink *s, unsigned revents)
{
	struct tui *t = (struct tui *)s;
	struct epoll_event evs[2];
	int n, ch, redraw = 0;

	(void)revents;
	n = epoll_wait(t->ep, evs, 2, 0);
	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == t->sigfd) {
			struct signalfd_siginfo si;

			while (read(t->sigfd, &si, sizeof(si)) == sizeof(si))
				;
			resize(t);
			redraw = 1;
		} else if (evs[i].events & (EPOLLHUP | EPOLLERR) && !(evs[i].events & EPOLLIN)) {
			return -EIO; /* the terminal hung up */
		}
	}
	while ((ch = getch()) != ERR) {
		if (ch == KEY_RESIZE) {
			resize(t);
		} else if (key(t, ch)) {
			/* quit like SIGTERM: the loop stops, the last harvest and cleanup run,
			 * exit 0 */
			kill(getpid(), SIGTERM);
			return 0;
		}
		redraw = 1;
	}
	if (redraw)
		draw(t);
	return 0;
}

static void tui_close(struct sink *s)
{
	struct tui *t = (struct tui *)s;

	log_set_hook(NULL, NULL);
	if (t->scr) {
		endwin();
		delscreen(t->scr);
	}
	active = NULL;
	reset_fd = -1;
	/* what the log said while the screen was ours */
	for (size_t i = 0; i < t->nmsgs; i++)
		log_msg(t->msgs[i].lvl, "%s", t->msgs[i].text);
	if (t->ep >= 0)
		close(t->ep);
	if (t->sigfd >= 0)
		close(t->sigfd);
	filter_free(t->filt);
	g_hash_table_destroy(t->conns);
	g_hash_table_destroy(t->users);
	g_hash_table_destroy(t->ifaces);
	free(t->recs);
	free(t->rows);
	free(t->order);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

struct sink *sink_tui_new(FILE *out, FILE *in, const struct tui_opts *o)
{
	struct tui *t = calloc(1, sizeof(*t));
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t mask;
	const char *term = getenv("TERM");

	if (!t) {
		pr_err("out of memory");
		return NULL;
	}
	t->s.name = "the terminal";
	t->s.report = tui_report;
	t->s.record = o->records ? tui_record : NULL;
	t->s.fd = tui_fd;
	t->s.on_ready = tui_ready;
	t->s.close = tui_close;
	t->out = out;
	t->in = in;
	t->o = *o;
	t->ep = t->sigfd = -1;
	t->names = !o->numeric;
	t->ports = true;
	t->view = o->view;
	pthread_mutex_init(&t->lock, NULL);
	t->conns = g_hash_table_new_full(flow_key_hash, flow_key_equal, NULL, g_free);
	t->users = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	t->ifaces = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	t->recs = calloc(MAX_RECORDS, sizeof(*t->recs));
	if (!t->recs) {
		pr_err("out of memory");
		goto fail;
	}
	/* SIGWINCH through a descriptor: blocked here, before any other thread starts */
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	t->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	t->ep = epoll_create1(EPOLL_CLOEXEC);
	if (t->sigfd < 0 || t->ep < 0) {
		pr_err("the full-screen view: %s", strerror(errno));
		goto fail;
	}
	ev.data.fd = t->sigfd;
	epoll_ctl(t->ep, EPOLL_CTL_ADD, t->sigfd, &ev);
	ev.data.fd = fileno(in);
	if (isatty(fileno(in)) && epoll_ctl(t->ep, EPOLL_CTL_ADD, fileno(in), &ev)) {
		pr_err("the full-screen view: cannot watch the keyboard: %s", strerror(errno));
		goto fail;
	}
	setlocale(LC_CTYPE, "");
	t->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	if (!tcgetattr(fileno(out), &saved_tios))
		have_tios = true;
	t->scr = newterm(NULL, out, in);
	if (!t->scr) {
		pr_err("the full-screen view cannot drive this terminal (TERM=%s): use -o table",
		       term ? term : "unset");
		goto fail;
	}
	active = t;
	reset_fd = fileno(out);
	reset_len = 0;
	append_cap("rmcup");
	append_cap("cnorm");
	append_cap("sgr0");
	atexit(at_exit);
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGFPE, on_fatal);
	signal(SIGABRT, on_fatal);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	log_set_hook(on_log, t);
	erase();
	mvaddstr(0, 0, "tunflow: waiting for the first harvest (h: help, q: quit)");
	refresh();
	return &t->s;
fail:
	tui_close(&t->s);
	return NULL;
}
