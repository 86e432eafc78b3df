// SPDX-License-Identifier: GPL-2.0-only
/* The config file parser (util/conffile.c, then config.c's key = value into struct
 * config through the option table) on arbitrary files. Properties: no crash, no leak;
 * a refused file gets one clean line (valid UTF-8, no controls, no newline) and a line
 * number within the file; an accepted file sets every value in range (seconds and whole
 * numbers within their option's bounds, words among the option's values) and every
 * interface is a non-empty string without a newline. Parsing the same file twice gives
 * the same keys. Nothing is looked up (no_lookups: --ipfix is checked, not resolved). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "util/log.h"
#include "util/options.h"
#include "util/text.h"

static void check_values(const struct config *c)
{
	size_t n;
	const struct opt *tab = config_options(&n);

	for (size_t i = 0; i < n; i++) {
		const struct opt *o = &tab[i];
		const char *f = (const char *)c + o->off;

		if (o->kind == OPT_SECONDS && o->size) {
			double v = *(const double *)f;

			/* 0: an option without a default that the file did not set */
			if (!isfinite(v) || (v != 0 && (v < o->min || v > o->max)))
				abort();
		}
		if (o->kind == OPT_WORD && o->size == sizeof(int)) {
			bool found = !o->def && *(const int *)f == 0;

			for (const struct opt_word *w = o->words; w->word; w++)
				found |= w->value == *(const int *)f;
			if (!found)
				abort();
		}
	}
	for (guint i = 0; c->interfaces && i < c->interfaces->len; i++) {
		const char *s = c->interfaces->pdata[i];

		if (!*s || strchr(s, '\n'))
			abort();
	}
}

static int parse(const char *text, size_t size, struct config *c, size_t *line, char *err)
{
	memset(c, 0, sizeof(*c));
	c->no_lookups = true;
	if (config_defaults(c))
		abort();
	return config_parse_text(text, size, c, line, err, OPT_ERRLEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[OPT_ERRLEN], err2[OPT_ERRLEN];
	const char *text = (const char *)data;
	const char *names[256];
	struct config a, b;
	size_t line, line2, lines = 1;
	int ret, ret2;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	ret = parse(text, size, &a, &line, err);
	if (ret) {
		if (!*err || strchr(err, '\n') || !text_is_clean(err) || line < 1 || line > lines)
			abort();
	} else {
		check_values(&a);
	}
	ret2 = parse(text, size, &b, &line2, err2);
	if (ret != ret2 || (ret && (line != line2 || strcmp(err, err2))))
		abort();
	if (!ret && config_changes(&a, &b, names, 256))
		abort();
	config_free(&a);
	config_free(&b);
	return 0;
}
