// SPDX-License-Identifier: GPL-2.0-only
/* The mapping file (--user-map): "INTERFACE-OR-ADDRESS USER" per line, '#' starts a
 * comment. An address or prefix (longest wins), or an interface name or glob. Re-read on
 * SIGHUP; a bad file keeps the previous mapping. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "util/log.h"
#include "util/text.h"
#include "sources/users_priv.h"

#define QUOTE_MAX 64 /* bytes of a bad line quoted in the error */

static void free_iface_rule(gpointer p) { g_free(((struct iface_rule *)p)->glob); }

void usermap_free_rules(GArray *ifr, GArray *pfx)
{
	if (ifr)
		g_array_free(ifr, TRUE);
	if (pfx)
		g_array_free(pfx, TRUE);
}

/* Split at blanks into at most max words (NUL-terminated in place). */
static int words(char *s, char **w, int max)
{
	int n = 0;

	for (char *p = strtok(s, " \t\r\v\f"); p; p = strtok(NULL, " \t\r\v\f")) {
		if (n == max)
			return max + 1;
		w[n++] = p;
	}
	return n;
}

int usermap_parse(struct users *u, const char *name, const char *buf, size_t len,
                  GArray **iface_rules, GArray **prefix_rules)
{
	GArray *ifr = g_array_new(FALSE, FALSE, sizeof(struct iface_rule));
	GArray *pfx = g_array_new(FALSE, FALSE, sizeof(struct prefix_rule));
	char line[INPUT_LINE_MAX + 1];
	int lineno = 0;

	g_array_set_clear_func(ifr, free_iface_rule);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - buf) : len) - pos;
		char *w[3], *quote, *hash;
		struct prefix_rule pr;
		int nw;

		lineno++;
		if (n > INPUT_LINE_MAX || memchr(buf + pos, 0, n)) {
			quote = text_clean(buf + pos, n, QUOTE_MAX);
			pr_err("%s:%d: %s: '%s'", name, lineno,
			       n > INPUT_LINE_MAX ? "a line longer than 4096 bytes"
			                          : "a NUL byte in the line",
			       quote);
			g_free(quote);
			goto fail;
		}
		memcpy(line, buf + pos, n);
		line[n] = 0;
		pos += n + 1;
		if ((hash = strchr(line, '#')))
			*hash = 0;
		quote = text_clean(line, strlen(line), QUOTE_MAX);
		g_strstrip(quote);
		nw = words(line, w, 2);
		if (nw == 0) {
			g_free(quote);
			continue;
		}
		if (nw != 2) {
			pr_err("%s:%d: wants 'INTERFACE-OR-ADDRESS USER', not '%s'", name, lineno,
			       quote);
			g_free(quote);
			goto fail;
		}
		g_free(quote);
		if (addr_parse(w[0], pr.addr, &pr.plen)) {
			pr.user = users_intern(u, w[1], strlen(w[1]));
			g_array_append_val(pfx, pr);
		} else if (strchr(w[0], '/') || strlen(w[0]) >= 16) {
			quote = text_clean(w[0], strlen(w[0]), QUOTE_MAX);
			pr_err("%s:%d: '%s' is neither an address/prefix nor an interface name",
			       name, lineno, quote);
			g_free(quote);
			goto fail;
		} else {
			struct iface_rule ir = {g_strdup(w[0]),
			                        users_intern(u, w[1], strlen(w[1]))};

			g_array_append_val(ifr, ir);
		}
	}
	*iface_rules = ifr;
	*prefix_rules = pfx;
	return 0;
fail:
	usermap_free_rules(ifr, pfx);
	return -EINVAL;
}

int users_reload_map(struct users *u)
{
	GArray *ifr, *pfx;
	struct stat st;
	char why[512], *buf;
	size_t len;
	int err;

	if (!u->cfg.map)
		return 0;
	err = input_load("the user map", u->cfg.map, &u->trust, &st, &buf, &len, why, sizeof(why));
	if (err) {
		pr_err("%s", why);
		return err;
	}
	err = usermap_parse(u, u->cfg.map, buf, len, &ifr, &pfx);
	g_free(buf);
	if (err)
		return err;
	usermap_free_rules(u->iface_rules, u->prefix_rules);
	u->iface_rules = ifr;
	u->prefix_rules = pfx;
	u->gen++;
	return 0;
}
