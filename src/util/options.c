// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "util/fmt.h"
#include "util/options.h"
#include "util/text.h"

#define HELP_COL 25   /* where help text starts in --help */
#define HELP_WIDTH 88 /* --help lines are at most this wide (as before the table) */

/* A value quoted in a message: at most this many bytes of it, cleaned. */
#define QUOTE_MAX 200

static int bad(char *err, size_t errlen, const struct opt *o, const char *want, const char *value)
{
	char *q = text_clean(value, strlen(value), QUOTE_MAX);

	snprintf(err, errlen, "--%s wants %s, not '%s'", o->name, want, q);
	g_free(q);
	return -EINVAL;
}

/* "a, b or c" from the words that are not aliases. */
static void word_list(const struct opt_word *w, char *buf, size_t len)
{
	size_t n = 0, k = 0;

	for (const struct opt_word *p = w; p->word; p++)
		n += !p->alias;
	buf[0] = 0;
	for (const struct opt_word *p = w; p->word; p++) {
		if (p->alias)
			continue;
		k++;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", p->word,
		         k == n       ? ""
		         : k == n - 1 ? " or "
		                      : ", ");
	}
}

int opt_check(const struct opt *o, const char *value, union opt_value *v, char *err, size_t errlen)
{
	char want[160], *end;
	struct hostport hp;

	memset(v, 0, sizeof(*v));
	switch (o->kind) {
	case OPT_FLAG:
	case OPT_ACTION:
		v->flag = true;
		return 0;
	case OPT_SECONDS:
		errno = 0;
		v->seconds = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(v->seconds) || v->seconds < o->min ||
		    v->seconds > o->max) {
			snprintf(want, sizeof(want), "seconds from %g to %g", o->min, o->max);
			return bad(err, errlen, o, want, value);
		}
		return 0;
	case OPT_UINT:
		errno = 0;
		v->uint = strtoull(value, &end, 10);
		if (errno || end == value || *end || *value < '0' || *value > '9' ||
		    v->uint < o->min || v->uint > o->max) {
			snprintf(want, sizeof(want), "a whole number from %.0f to %.0f", o->min,
			         o->max);
			return bad(err, errlen, o, want, value);
		}
		return 0;
	case OPT_WORD:
		for (const struct opt_word *p = o->words; p->word; p++) {
			if (!strcmp(value, p->word)) {
				v->word = p->value;
				return 0;
			}
		}
		word_list(o->words, want, sizeof(want));
		return bad(err, errlen, o, want, value);
	case OPT_STRING:
	case OPT_LIST:
		v->str = value;
		return 0;
	case OPT_HOSTPORT:
	case OPT_COLLECTOR:
		v->str = value;
		if (o->kind == OPT_COLLECTOR &&
		    (!strncmp(value, "udp:", 4) || !strncmp(value, "tcp:", 4)))
			value += 4;
		if (hostport_parse(value, "127.0.0.1", &hp))
			return bad(err, errlen, o, o->want ? o->want : "HOST:PORT", v->str);
		return 0;
	}
	snprintf(err, errlen, "--%s: unknown kind of option", o->name);
	return -EINVAL;
}

const struct opt *opt_find(const struct opt *tab, size_t n, const char *long_name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(tab[i].name, long_name))
			return &tab[i];
	return NULL;
}

/* An unsigned number into a field of its size. */
static void store_uint(void *field, size_t size, unsigned long long u)
{
	switch (size) {
	case 1:
		*(uint8_t *)field = u;
		break;
	case 2:
		*(uint16_t *)field = u;
		break;
	case 4:
		*(uint32_t *)field = u;
		break;
	case 8:
		*(uint64_t *)field = u;
		break;
	}
}

int opt_apply(const struct opt *o, const char *value, void *target, char *err, size_t errlen)
{
	void *field = (char *)target + o->off;
	union opt_value v;
	int ret = opt_check(o, value, &v, err, errlen);

	if (ret)
		return ret;
	if (o->size) {
		switch (o->kind) {
		case OPT_FLAG:
			*(bool *)field = true;
			break;
		case OPT_SECONDS:
			*(double *)field = v.seconds;
			break;
		case OPT_UINT:
			store_uint(field, o->size, v.uint);
			break;
		case OPT_WORD:
			store_uint(field, o->size, (unsigned)v.word);
			break;
		case OPT_STRING:
		case OPT_HOSTPORT:
		case OPT_COLLECTOR:
			*(const char **)field = v.str;
			break;
		case OPT_LIST: {
			GPtrArray **a = field;

			if (!*a)
				*a = g_ptr_array_new();
			g_ptr_array_add(*a, (char *)v.str);
			break;
		}
		case OPT_ACTION:
			break;
		}
	}
	return o->set ? o->set(o, value, target, err, errlen) : 0;
}

int opt_defaults(const struct opt *tab, size_t n, void *target, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (!tab[i].def || tab[i].kind == OPT_LIST)
			continue;
		if (opt_apply(&tab[i], tab[i].def, target, err, errlen))
			return -EINVAL;
	}
	return 0;
}

struct option *opt_getopt_array(const struct opt *tab, size_t n)
{
	struct option *a = calloc(n + 1, sizeof(*a));

	for (size_t i = 0; a && i < n; i++) {
		a[i].name = tab[i].name;
		a[i].has_arg = tab[i].arg ? required_argument : no_argument;
		a[i].val = 256 + (int)i;
	}
	return a;
}

char *opt_short_string(const struct opt *tab, size_t n)
{
	char *s = malloc(2 * n + 2), *p = s;

	if (!s)
		return NULL;
	*p++ = ':';
	for (size_t i = 0; i < n; i++) {
		if (!tab[i].letter)
			continue;
		*p++ = tab[i].letter;
		if (tab[i].arg)
			*p++ = ':';
	}
	*p = 0;
	return s;
}

int opt_index_of(const struct opt *tab, size_t n, int ret)
{
	if (ret >= 256 && (size_t)(ret - 256) < n)
		return ret - 256;
	for (size_t i = 0; ret > 0 && ret < 256 && ret != '?' && ret != ':' && i < n; i++)
		if (tab[i].letter == ret)
			return i;
	return -1;
}

/* o's help text with {default} and {range} filled in. */
static GString *help_text(const struct opt *o)
{
	GString *s = g_string_new(NULL);

	for (const char *p = o->help ? o->help : ""; *p;) {
		if (!strncmp(p, "{default}", 9)) {
			g_string_append(s, o->def ? o->def : "");
			p += 9;
		} else if (!strncmp(p, "{range}", 7)) {
			g_string_append_printf(s, o->kind == OPT_UINT ? "%.0f to %.0f" : "%g to %g",
			                       o->min, o->max);
			p += 7;
		} else {
			g_string_append_c(s, *p++);
		}
	}
	return s;
}

/* "  -x, --exclude PATTERN" then the help, wrapped at HELP_WIDTH under HELP_COL. */
static void usage_line(FILE *out, const struct opt *o)
{
	GString *left = g_string_new(NULL), *help = help_text(o);
	size_t col;
	const char *p = help->str;

	if (o->letter)
		g_string_append_printf(left, "  -%c, --%s", o->letter, o->name);
	else
		g_string_append_printf(left, "      --%s", o->name);
	if (o->arg)
		g_string_append_printf(left, " %s", o->arg);
	fputs(left->str, out);
	col = left->len;
	if (col + 2 > HELP_COL) {
		fputs("  ", out);
		col += 2;
	} else {
		for (; col < HELP_COL; col++)
			fputc(' ', out);
	}
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t w = sp ? (size_t)(sp - p) : strlen(p);

		if (col + w > HELP_WIDTH && col > HELP_COL) {
			fprintf(out, "\n%*s", HELP_COL, "");
			col = HELP_COL;
		}
		fwrite(p, 1, w, out);
		col += w;
		p += w;
		if (*p == ' ') {
			p++;
			if (*p && col + 1 + strcspn(p, " ") <= HELP_WIDTH) {
				fputc(' ', out);
				col++;
			} else if (*p) {
				fprintf(out, "\n%*s", HELP_COL, "");
				col = HELP_COL;
			}
		}
	}
	fputc('\n', out);
	g_string_free(left, TRUE);
	g_string_free(help, TRUE);
}

void opt_usage(FILE *out, const struct opt *tab, size_t n, const char *const *groups,
               size_t ngroups)
{
	for (size_t g = 0; g < ngroups; g++) {
		fprintf(out, "%s%s:\n", g ? "\n" : "", groups[g]);
		for (size_t i = 0; i < n; i++)
			if (tab[i].group == (int)g)
				usage_line(out, &tab[i]);
	}
}
