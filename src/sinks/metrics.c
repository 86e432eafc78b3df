// SPDX-License-Identifier: GPL-2.0-only
/* Metric and label names follow Prometheus conventions: tunflow_ prefix, base units,
 * _total on counters. Cardinality is bounded: series per (interface, direction, user)
 * of watched interfaces, and a fixed number of top destinations. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <glib.h>
#include <microhttpd.h>
#include "util/fmt.h"
#include "core/datapath.h"
#include "sinks/metrics.h"

struct series {
	int ifindex;
	int dir;
	const char *user;   /* interned by users.c, or NULL */
	__u64 packets, bytes;
};

struct metrics {
	struct MHD_Daemon *d;
	int top;
	GHashTable *series; /* "ifindex/dir/user" -> struct series */
	pthread_mutex_t lock;
	char *page;         /* the last snapshot */
	size_t len;
	__u64 harvests;
};

/* A label value: backslash, quote and newline escaped. */
static void label(GString *s, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			g_string_append_c(s, '\\');
		if (*v == '\n')
			g_string_append(s, "\\n");
		else
			g_string_append_c(s, *v);
	}
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int status = MHD_HTTP_OK;

	(void)version, (void)upload, (void)upload_size, (void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	} else if (strcmp(url, "/metrics")) {
		static const char hint[] = "tunflow: see /metrics\n";

		status = MHD_HTTP_NOT_FOUND;
		resp = MHD_create_response_from_buffer(sizeof(hint) - 1, (void *)hint,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		pthread_mutex_lock(&m->lock);
		resp = MHD_create_response_from_buffer(m->len, m->page, MHD_RESPMEM_MUST_COPY);
		pthread_mutex_unlock(&m->lock);
		MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
	}
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

struct metrics *metrics_start(const char *addr, int top)
{
	struct sockaddr_storage ss;
	struct metrics *m;

	if (parse_hostport(addr, "127.0.0.1", &ss)) {
		fprintf(stderr, "tunflow: --metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not "
				"'%s'\n", addr);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->top = top;
	m->series = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	pthread_mutex_init(&m->lock, NULL);
	m->page = g_strdup("");
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
					(ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				0, NULL, NULL, handle, m, MHD_OPTION_SOCK_ADDR, &ss,
				MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT,
				10u, MHD_OPTION_END);
	if (!m->d) {
		fprintf(stderr, "tunflow: cannot serve metrics on %s (in use, or not an address "
				"of this host)\n", addr);
		metrics_stop(m);
		return NULL;
	}
	return m;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);
	g_hash_table_destroy(m->series);
	g_free(m->page);
	free(m);
}

static void add(struct metrics *m, const struct flow *f)
{
	char *key = g_strdup_printf("%u/%u/%s", f->key.ifindex, f->key.dir,
				    f->user ? f->user : "");
	struct series *s = g_hash_table_lookup(m->series, key);

	if (!s) {
		s = g_new0(struct series, 1);
		s->ifindex = f->key.ifindex;
		s->dir = f->key.dir;
		s->user = f->user;
		g_hash_table_insert(m->series, key, s);
	} else {
		g_free(key);
	}
	s->packets += f->d_packets;
	s->bytes += f->d_bytes;
}

static gboolean of_iface(gpointer k, gpointer v, gpointer data)
{
	(void)k;
	return ((struct series *)v)->ifindex == GPOINTER_TO_INT(data);
}

void metrics_forget_iface(struct metrics *m, int ifindex)
{
	g_hash_table_foreach_remove(m->series, of_iface, GINT_TO_POINTER(ifindex));
}

static void series_lines(struct metrics *m, GString *s, bool bytes)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, m->series);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct series *x = v;

		g_string_append_printf(s, "tunflow_%s_total{interface=\"", bytes ? "bytes" : "packets");
		label(s, iface_name(x->ifindex));
		g_string_append_printf(s, "\",direction=\"%s\",user=\"",
				       x->dir == DIR_INGRESS ? "ingress" : "egress");
		label(s, x->user);
		g_string_append_printf(s, "\"} %llu\n",
				       (unsigned long long)(bytes ? x->bytes : x->packets));
	}
}

struct dest {
	const char *addr;
	__u64 bytes;
};

/* More bytes first; ties by address, so that the set is stable. */
static bool above(const struct dest *a, const struct dest *b)
{
	return a->bytes > b->bytes || (a->bytes == b->bytes && strcmp(a->addr, b->addr) < 0);
}

/* The top destinations by bytes over the flows in the table: the far side of the
 * tunnel (destination on ingress, source on egress), as --group-by user counts it. */
static void top_lines(struct metrics *m, GString *s, const struct report *r)
{
	GHashTable *by = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	struct dest *top = calloc(m->top, sizeof(*top));
	GHashTableIter it;
	gpointer k, v;
	int n = 0;

	for (size_t i = 0; top && i < r->nflows; i++) {
		const struct flow *f = r->flows[i];
		char a[ADDR_STRLEN];
		__u64 *b;

		fmt_addr(f->key.dir == DIR_INGRESS ? f->key.dst : f->key.src, f->key.ip_version, a);
		b = g_hash_table_lookup(by, a);
		if (!b) {
			b = g_new0(__u64, 1);
			g_hash_table_insert(by, g_strdup(a), b);
		}
		*b += f->bytes;
	}
	g_hash_table_iter_init(&it, by);
	while (top && g_hash_table_iter_next(&it, &k, &v)) {
		struct dest d = {k, *(__u64 *)v};
		int j = n;

		if (n == m->top) {
			if (!above(&d, &top[n - 1]))
				continue;
			j = n - 1;
		} else {
			n++;
		}
		for (; j > 0 && above(&d, &top[j - 1]); j--)
			top[j] = top[j - 1];
		top[j] = d;
	}
	g_string_append_printf(s,
		"# HELP tunflow_top_destination_bytes Bytes of the flows in tunflow's table to "
		"each of the %d remote addresses with most (the set changes with the traffic).\n"
		"# TYPE tunflow_top_destination_bytes gauge\n", m->top);
	for (int j = 0; j < n; j++)
		g_string_append_printf(s, "tunflow_top_destination_bytes{address=\"%s\"} %llu\n",
				       top[j].addr, (unsigned long long)top[j].bytes);
	free(top);
	g_hash_table_destroy(by);
}

void metrics_update(struct metrics *m, const struct report *r)
{
	GString *s = g_string_sized_new(4096);

	m->harvests++;
	for (size_t i = 0; i < r->nflows; i++)
		if (r->flows[i]->gen == r->gen)
			add(m, r->flows[i]);
	g_string_append(s,
		"# HELP tunflow_bytes_total IP bytes seen, by interface, direction and user.\n"
		"# TYPE tunflow_bytes_total counter\n");
	series_lines(m, s, true);
	g_string_append(s,
		"# HELP tunflow_packets_total Packets seen, by interface, direction and user.\n"
		"# TYPE tunflow_packets_total counter\n");
	series_lines(m, s, false);
	g_string_append_printf(s,
		"# HELP tunflow_flows Flows in tunflow's table.\n"
		"# TYPE tunflow_flows gauge\ntunflow_flows %zu\n", r->nflows);
	top_lines(m, s, r);
	g_string_append(s,
		"# HELP tunflow_unaccounted_packets_total Packets that landed in no flow, by "
		"reason.\n# TYPE tunflow_unaccounted_packets_total counter\n");
	for (int c = 0; c < CNT_MAX; c++)
		g_string_append_printf(s, "tunflow_unaccounted_packets_total{reason=\"%s\"} %llu\n",
				       counter_names[c], (unsigned long long)r->counters[c]);
	g_string_append_printf(s,
		"# HELP tunflow_harvest_errors_total User-space failures: a drain that failed, a "
		"flow that could not be stored.\n# TYPE tunflow_harvest_errors_total counter\n"
		"tunflow_harvest_errors_total %llu\n"
		"# HELP tunflow_attach_errors_total Interfaces that matched but could not be "
		"attached.\n# TYPE tunflow_attach_errors_total counter\n"
		"tunflow_attach_errors_total %lu\n"
		"# HELP tunflow_interfaces Interfaces watched.\n# TYPE tunflow_interfaces gauge\n"
		"tunflow_interfaces %d\n"
		"# HELP tunflow_harvest_duration_seconds Time the last harvest took (map swap "
		"and drain).\n# TYPE tunflow_harvest_duration_seconds gauge\n"
		"tunflow_harvest_duration_seconds %.6f\n"
		"# HELP tunflow_harvests_total Harvests done.\n# TYPE tunflow_harvests_total "
		"counter\ntunflow_harvests_total %llu\n",
		(unsigned long long)r->harvest_errors, r->attach_errors, r->nifaces,
		r->harvest_s, (unsigned long long)m->harvests);
	{
		const struct export_stats none = {0}, *e = r->export ? r->export : &none;

		g_string_append_printf(s,
			"# HELP tunflow_exported_records_total Flow records sent to the IPFIX "
			"collector.\n# TYPE tunflow_exported_records_total counter\n"
			"tunflow_exported_records_total %llu\n"
			"# HELP tunflow_export_failures_total Flow records that could not be sent "
			"to the IPFIX collector.\n# TYPE tunflow_export_failures_total counter\n"
			"tunflow_export_failures_total %llu\n"
			"# HELP tunflow_export_backlog_records Flow records waiting for the IPFIX "
			"collector.\n# TYPE tunflow_export_backlog_records gauge\n"
			"tunflow_export_backlog_records %llu\n",
			(unsigned long long)e->records, (unsigned long long)e->failures,
			(unsigned long long)e->backlog);
	}
	pthread_mutex_lock(&m->lock);
	g_free(m->page);
	m->len = s->len;
	m->page = g_string_free(s, FALSE);
	pthread_mutex_unlock(&m->lock);
}

/* /metrics as a consumer of the pipeline. */
struct metrics_sink {
	struct sink s;
	struct metrics *m;
};

static int metrics_sink_report(struct sink *s, const struct report *r)
{
	struct metrics *m = ((struct metrics_sink *)s)->m;

	metrics_update(m, r);
	for (size_t i = 0; i < r->ngone; i++)
		metrics_forget_iface(m, r->gone[i].ifindex);
	return 0;
}

static void metrics_sink_close(struct sink *s)
{
	metrics_stop(((struct metrics_sink *)s)->m);
	free(s);
}

struct sink *metrics_sink_new(const char *addr, int top)
{
	struct metrics_sink *ms = calloc(1, sizeof(*ms));

	if (!ms)
		return NULL;
	ms->m = metrics_start(addr, top);
	if (!ms->m) {
		free(ms);
		return NULL;
	}
	ms->s = (struct sink){.name = "/metrics", .report = metrics_sink_report,
			      .close = metrics_sink_close};
	return &ms->s;
}
