// SPDX-License-Identifier: GPL-2.0-only
/* Every option value parser (seconds, whole numbers, words, [ADDR:]PORT, the IPFIX
 * [udp:|tcp:]HOST:PORT collector) on arbitrary input: through every entry of tunflow's
 * option table, and hostport_parse() itself. Properties: an accepted number lies in its
 * option's range, an accepted word is one of the option's words, an accepted host:port
 * has a port from 1 to 65535 and a host of the allowed characters; a refused value gets
 * one clean line (valid UTF-8, no controls) "--NAME wants ..., not '...'". Nothing is looked up (no DNS). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "config.h"
#include "util/fmt.h"
#include "util/options.h"
#include "util/text.h"

static void check_hostport(const char *s, const struct hostport *hp)
{
	if (hp->port < 1)
		abort();
	if (!hp->host[0] || strlen(hp->host) >= sizeof(hp->host))
		abort();
	if (!hp->v6 && strchr(hp->host, ':'))
		abort();
	if (hp->v6 && s[0] != '[')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[OPT_ERRLEN];
	const struct opt *tab;
	struct hostport hp;
	size_t n;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	tab = config_options(&n);
	for (size_t i = 0; i < n; i++) {
		const struct opt *o = &tab[i];
		union opt_value v;
		int ret;

		err[0] = 0;
		ret = opt_check(o, s, &v, err, sizeof(err));
		if (ret) {
			char want[80];

			snprintf(want, sizeof(want), "--%s wants ", o->name);
			if (strncmp(err, want, strlen(want)) || strchr(err, '\n') || strchr(err, 0x1b) ||
			    !text_is_clean(err))
				abort();
			continue;
		}
		switch (o->kind) {
		case OPT_SECONDS:
			if (!isfinite(v.seconds) || v.seconds < o->min || v.seconds > o->max)
				abort();
			break;
		case OPT_UINT:
			if ((double)v.uint < o->min || (double)v.uint > o->max)
				abort();
			break;
		case OPT_WORD: {
			bool found = false;

			for (const struct opt_word *w = o->words; w->word; w++)
				found |= !strcmp(w->word, s) && w->value == v.word;
			if (!found)
				abort();
			break;
		}
		case OPT_HOSTPORT:
		case OPT_COLLECTOR: {
			const char *hps = s;

			if (o->kind == OPT_COLLECTOR &&
			    (!strncmp(s, "udp:", 4) || !strncmp(s, "tcp:", 4)))
				hps += 4;
			if (hostport_parse(hps, "127.0.0.1", &hp))
				abort();
			check_hostport(hps, &hp);
			break;
		}
		default:
			if (o->arg && v.str != s)
				abort();
		}
	}
	if (!hostport_parse(s, "127.0.0.1", &hp))
		check_hostport(s, &hp);
	free(s);
	return 0;
}
