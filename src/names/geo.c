// SPDX-License-Identifier: GPL-2.0-only
/* AS and country from the IPFire location database (libloc). libloc maps the file and
 * walks a prefix tree per lookup; the answer per address is cached, the AS names are
 * cleaned and interned once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libloc/as.h>
#include <libloc/database.h>
#include <libloc/libloc.h>
#include <libloc/network.h>
#include <glib.h>
#include "core/dest.h"
#include "names/geo.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/text.h"

struct geo_entry {
	__u8 addr[16];
	__u32 asn;
	const char *as_name; /* interned, or NULL */
	char cc[3];
	bool found;
};

struct geo {
	struct loc_ctx *ctx;
	struct loc_database *db;
	FILE *f;
	GHashTable *names; /* cleaned AS name -> itself (owned) */
	GHashTable *cache; /* addr -> struct geo_entry (owned, key inside) */
	__u64 lookups, db_lookups;
};

/* libloc's own messages (it logs only when asked through LOC_LOG) go to debug. */
static void loc_log(struct loc_ctx *ctx, int prio, const char *file, int line, const char *fn,
                    const char *fmt, va_list ap)
{
	(void)ctx, (void)prio, (void)file, (void)line, (void)fn;
	log_vmsg(LOG_LVL_DEBUG, fmt, ap);
}

static FILE *open_db(const char *path, const char **used, int *err)
{
	static const char *const defaults[] = {GEO_DB_VAR, GEO_DB_SHARE};
	FILE *f = NULL;

	if (path) {
		*used = path;
		f = fopen(path, "re");
		*err = f ? 0 : errno;
		return f;
	}
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		*used = defaults[i];
		if ((f = fopen(defaults[i], "re"))) {
			*err = 0;
			return f;
		}
		*err = errno;
		if (*err != ENOENT)
			return NULL;
	}
	*used = GEO_DB_SHARE; /* the one the package installs */
	return NULL;
}

struct geo *geo_open(const char *path, char *err, size_t errlen)
{
	struct geo *g = calloc(1, sizeof(*g));
	const char *used = path;
	int e = 0;

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!(g->f = open_db(path, &used, &e))) {
		if (e == ENOENT && !path)
			snprintf(err, errlen,
			         "no location database at %s (install Debian's libloc-database, "
			         "or give --geo-db PATH)",
			         used);
		else
			snprintf(err, errlen, "location database %s: %s (give --geo-db PATH)", used,
			         strerror(e));
		goto fail;
	}
	if ((e = loc_new(&g->ctx)) < 0) {
		snprintf(err, errlen, "libloc: %s", strerror(-e));
		goto fail;
	}
	loc_set_log_fn(g->ctx, loc_log);
	if (loc_database_new(g->ctx, &g->db, g->f)) {
		snprintf(err, errlen,
		         "%s is not a location database libloc can read (give --geo-db PATH)",
		         used);
		goto fail;
	}
	g->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g->cache = g_hash_table_new_full(addr16_hash, addr16_equal, NULL, g_free);
	pr_debug("location database %s: %s, %zu ASes", used, loc_database_get_vendor(g->db),
	         loc_database_count_as(g->db));
	return g;
fail:
	geo_close(g);
	return NULL;
}

void geo_close(struct geo *g)
{
	if (!g)
		return;
	if (g->db)
		loc_database_unref(g->db);
	if (g->ctx)
		loc_unref(g->ctx);
	if (g->f)
		fclose(g->f);
	if (g->cache)
		g_hash_table_destroy(g->cache);
	if (g->names)
		g_hash_table_destroy(g->names);
	free(g);
}

static const char *intern(struct geo *g, const char *s)
{
	char *clean, *v;

	if (!s || !*s)
		return NULL;
	clean = text_clean(s, strlen(s), TEXT_NAME_MAX);
	if ((v = g_hash_table_lookup(g->names, clean))) {
		g_free(clean);
		return v;
	}
	g_hash_table_insert(g->names, clean, clean);
	return clean;
}

/* The database's answer for addr into e. */
/* The IANA special-purpose address registries' blocks (RFC 6890 and its updates) that
 * hold no public Internet hosts: the prefix length of the one addr is in (IPv4 in IPv4
 * terms), or -1. */
static int special_prefix(const __u8 a[16])
{
	static const struct {
		__u8 net[16];
		int len;
	} v4[] =
	    {
	        {{0}, 8},
	        {{10}, 8},
	        {{100, 64}, 10},
	        {{127}, 8},
	        {{169, 254}, 16},
	        {{172, 16}, 12},
	        {{192, 0, 0}, 24},
	        {{192, 0, 2}, 24},
	        {{192, 88, 99}, 24},
	        {{192, 168}, 16},
	        {{198, 18}, 15},
	        {{198, 51, 100}, 24},
	        {{203, 0, 113}, 24},
	        {{224}, 4},
	        {{240}, 4},
	    },
	  v6[] = {
	      {{0}, 96},                      /* unspecified, loopback, IPv4-compatible */
	      {{0x01, 0x00}, 64},             /* discard-only */
	      {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
	      {{0x20, 0x01, 0x00, 0x00}, 23}, /* IETF protocol assignments */
	      {{0x20, 0x02}, 16},             /* 6to4 */
	      {{0x3f, 0xff, 0xf0, 0x00}, 20}, /* documentation (RFC 9637) */
	      {{0xfc}, 7},                    /* unique local */
	      {{0xfe, 0x80}, 10},             /* link-local */
	      {{0xff}, 8},                    /* multicast */
	  };
	static const __u8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	bool is4 = !memcmp(a, mapped, 12);
	const __u8 *x = is4 ? a + 12 : a;
	size_t n = is4 ? sizeof(v4) / sizeof(v4[0]) : sizeof(v6) / sizeof(v6[0]);

	for (size_t i = 0; i < n; i++) {
		const __u8 *net = is4 ? v4[i].net : v6[i].net;
		int len = is4 ? v4[i].len : v6[i].len, full = len / 8, rest = len % 8;

		if (memcmp(x, net, full) != 0)
			continue;
		if (rest && (x[full] ^ net[full]) >> (8 - rest))
			continue;
		return len;
	}
	return -1;
}

static void db_lookup(struct geo *g, struct geo_entry *e)
{
	struct loc_network *net = NULL;
	const char *cc;

	g->db_lookups++;
	if (loc_database_lookup(g->db, (const struct in6_addr *)e->addr, &net) || !net)
		return;
	/* A special-purpose block (private, documentation, ...) is described only by an
	 * entry of its own: one wider allocation it happens to lie in (203.0.0.0/8, AU) says
	 * nothing of it. */
	if ((int)loc_network_prefix(net) < special_prefix(e->addr)) {
		loc_network_unref(net);
		return;
	}
	e->found = true;
	e->asn = loc_network_get_asn(net);
	/* ISO 3166-1 alpha-2 only: two capital letters */
	cc = loc_network_get_country_code(net);
	if (cc && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z' && !cc[2])
		memcpy(e->cc, cc, 3);
	if (e->asn) {
		struct loc_as *as = NULL;

		if (!loc_database_get_as(g->db, &as, e->asn) && as) {
			e->as_name = intern(g, loc_as_get_name(as));
			loc_as_unref(as);
		}
	}
	loc_network_unref(net);
}

int geo_lookup(struct geo *g, const __u8 addr[16], __u32 *asn, const char **as_name, char cc[3])
{
	struct geo_entry *e;

	g->lookups++;
	if (!(e = g_hash_table_lookup(g->cache, addr))) {
		if (g_hash_table_size(g->cache) >= GEO_CACHE_MAX)
			g_hash_table_remove_all(g->cache);
		e = g_new0(struct geo_entry, 1);
		memcpy(e->addr, addr, 16);
		db_lookup(g, e);
		g_hash_table_insert(g->cache, e->addr, e);
	}
	*asn = e->asn;
	*as_name = e->as_name;
	memcpy(cc, e->cc, 3);
	return e->found;
}

void geo_fill(struct geo *g, const __u8 addr[16], struct dest_info *d)
{
	if (g)
		geo_lookup(g, addr, &d->asn, &d->as_name, d->country);
}

__u64 geo_lookups(const struct geo *g) { return g ? g->lookups : 0; }
__u64 geo_db_lookups(const struct geo *g) { return g ? g->db_lookups : 0; }
