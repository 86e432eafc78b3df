// SPDX-License-Identifier: GPL-2.0-only
/* names/geo: AS and country from a location database libloc's writer made here (the
 * documentation prefixes), and from Debian's real database when it is installed. */
#define CHECK_SUITE "geo"
#include <arpa/inet.h>
#include <time.h>
#include "check.h"
#include "../lib/geodb.h"
#include "core/dest.h"
#include "names/geo.h"
#include "util/addr.h"

static const char spec[] = "as 64500 Example Transit\n"
                           "as 64501 Example Six\n"
                           "as 64502 Bad\x1b[31mName\n"
                           "net 198.51.100.0/24 64500 DE\n"
                           "net 203.0.113.128/25 64502 FR\n"
                           "net 2001:db8:1::/48 64501 NL\n"
                           "net 2001:db8:2::/48 0 SE\n";

/* text into a 16-byte address, IPv4 mapped */
static void addr(const char *s, __u8 a[16])
{
	if (addr_host(s, a) < 0)
		fprintf(stderr, "bad address %s\n", s);
}

struct want {
	const char *addr;
	int found;
	__u32 asn;
	const char *as_name;
	const char *cc;
};

static void check_lookups(struct geo *g, const char *what, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		__u8 a[16];
		__u32 asn = 1;
		const char *name = "x";
		char cc[3] = "x", label[128];

		addr(w[i].addr, a);
		snprintf(label, sizeof(label), "%s %s found", what, w[i].addr);
		CHECK_INT(label, geo_lookup(g, a, &asn, &name, cc), w[i].found);
		snprintf(label, sizeof(label), "%s %s asn", what, w[i].addr);
		CHECK_INT(label, asn, w[i].asn);
		snprintf(label, sizeof(label), "%s %s as_name", what, w[i].addr);
		CHECK_STR(label, name, w[i].as_name);
		snprintf(label, sizeof(label), "%s %s country", what, w[i].addr);
		CHECK_STR(label, cc, w[i].cc);
	}
}

static void test_written(void)
{
	static const struct want w[] = {
	    {"198.51.100.7", 1, 64500, "Example Transit", "DE"},
	    {"198.51.100.255", 1, 64500, "Example Transit", "DE"},
	    {"198.51.101.1", 0, 0, NULL, ""},
	    {"203.0.113.200", 1, 64502, "Bad\\x1b[31mName", "FR"},
	    {"203.0.113.5", 0, 0, NULL, ""},
	    {"2001:db8:1::53", 1, 64501, "Example Six", "NL"},
	    {"2001:db8:1:ffff::1", 1, 64501, "Example Six", "NL"},
	    {"2001:db8:2::1", 1, 0, NULL, "SE"},
	    {"2001:db8:3::1", 0, 0, NULL, ""},
	    {"192.0.2.1", 0, 0, NULL, ""},
	};
	char path[] = "/tmp/tunflow-geo-XXXXXX", err[256] = "";
	int fd = mkstemp(path);
	struct geo *g;
	struct dest_info d = {.name = "shop.example", .name_src = NAME_TLS};
	__u32 asn;
	const char *n1, *n2;
	char cc[3];
	__u8 a[16];

	close(fd);
	CHECK_INT("test database written", geodb_write(path, spec), 0);
	g = geo_open(path, err, sizeof(err));
	CHECK("test database opens", g);
	CHECK_STR("no error", err, "");
	if (!g)
		goto out;
	check_lookups(g, "test db", w, sizeof(w) / sizeof(w[0]));
	/* twice: the second time from the cache, same answers */
	check_lookups(g, "test db cached", w, sizeof(w) / sizeof(w[0]));
	CHECK_INT("lookups counted", geo_lookups(g), 20);
	CHECK_INT("database asked once per address", geo_db_lookups(g), 10);
	/* interned: one string for every address of an AS */
	addr("198.51.100.1", a);
	geo_lookup(g, a, &asn, &n1, cc);
	addr("198.51.100.2", a);
	geo_lookup(g, a, &asn, &n2, cc);
	CHECK("AS name interned", n1 == n2);
	/* geo_fill leaves the name alone */
	addr("2001:db8:1::1", a);
	geo_fill(g, a, &d);
	CHECK_STR("fill keeps the name", d.name, "shop.example");
	CHECK_INT("fill keeps the source", d.name_src, NAME_TLS);
	CHECK_INT("fill asn", d.asn, 64501);
	CHECK_STR("fill as_name", d.as_name, "Example Six");
	CHECK_STR("fill country", d.country, "NL");
	geo_fill(NULL, a, &d); /* no database: nothing changes */
	CHECK_INT("fill without a database", d.asn, 64501);
	geo_close(g);
out:
	unlink(path);
}

static void test_errors(void)
{
	char err[256] = "", path[] = "/tmp/tunflow-geo-XXXXXX";
	int fd = mkstemp(path);

	CHECK("missing file", !geo_open("/nonexistent/geo.db", err, sizeof(err)));
	CHECK_STR("missing file: message", err,
	          "location database /nonexistent/geo.db: No such file or directory "
	          "(give --geo-db PATH)");
	CHECK_INT("not a database: written", write(fd, "not a database at all\n", 22), 22);
	close(fd);
	CHECK("not a database", !geo_open(path, err, sizeof(err)));
	CHECK("not a database: message",
	      strstr(err, "is not a location database libloc can read (give --geo-db PATH)") &&
	          !strncmp(err, path, strlen(path)));
	unlink(path);
}

/* Debian's database (libloc-database): public resolvers' well-known ASes, read only. */
static void test_real(void)
{
	static const struct want w[] = {
	    {"8.8.8.8", 1, 15169, "GOOGLE", "US"},
	    {"1.1.1.1", 1, 13335, "CLOUDFLARENET", "AU"},
	    {"2606:4700:4700::1111", 1, 13335, "CLOUDFLARENET", "US"},
	    {"9.9.9.9", 1, 19281, "QUAD9-AS-1", "CH"},
	    {"10.1.2.3", 0, 0, NULL, ""},
	    /* documentation blocks inside wider allocations (203.0.0.0/8 and 2001:c00::/23
	     * are AU there): nothing */
	    {"203.0.113.80", 0, 0, NULL, ""},
	    {"2001:db8::1", 0, 0, NULL, ""},
	};
	char err[256] = "";
	struct geo *g;
	struct timespec t0, t1;
	__u8 a[16];
	__u32 asn;
	const char *name;
	char cc[3];
	int n = 200000;

	if (access(GEO_DB_SHARE, R_OK) && access(GEO_DB_VAR, R_OK)) {
		printf("ok - " CHECK_SUITE
		       ": real database # SKIP libloc-database not installed\n");
		return;
	}
	g = geo_open(NULL, err, sizeof(err));
	CHECK("Debian's database opens", g);
	if (!g)
		return;
	check_lookups(g, "real db", w, sizeof(w) / sizeof(w[0]));
	/* what a lookup costs, uncached (distinct addresses) and cached */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		addr("20.0.0.0", a);
		a[13] = i >> 16, a[14] = i >> 8, a[15] = i;
		geo_lookup(g, a, &asn, &name, cc);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %d lookups of distinct addresses: %.0f ns each (%llu from the database)\n", n,
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n,
	       (unsigned long long)geo_db_lookups(g));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		addr("8.8.8.8", a);
		geo_lookup(g, a, &asn, &name, cc);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %d lookups of one address (cached): %.0f ns each\n", n,
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n);
	geo_close(g);
}

int main(void)
{
	test_written();
	test_errors();
	test_real();
	return check_done();
}
