/* SPDX-License-Identifier: GPL-2.0-only */
/* A small location database for tests, written with libloc's own writer: the real
 * database has nothing for the documentation prefixes the tests use. spec holds lines
 *   as ASN NAME...          an AS and its name
 *   net PREFIX ASN [CC]     a network, its AS (0: none) and country code
 * ("#" starts a comment). 0, or -1 with the reason on stderr. */
#ifndef TUNFLOW_TEST_GEODB_H
#define TUNFLOW_TEST_GEODB_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libloc/as.h>
#include <libloc/libloc.h>
#include <libloc/network.h>
#include <libloc/writer.h>

static int geodb_line(struct loc_writer *w, char *line)
{
	char *save = NULL, *kind = strtok_r(line, " \t", &save), *a, *b, *c;

	if (!kind || *kind == '#')
		return 0;
	a = strtok_r(NULL, " \t", &save);
	if (!strcmp(kind, "as") && a) {
		struct loc_as *as = NULL;
		char *name = save ? save + strspn(save, " \t") : NULL;

		if (loc_writer_add_as(w, &as, (uint32_t)strtoul(a, NULL, 10)))
			return -1;
		if (name && *name)
			loc_as_set_name(as, name);
		loc_as_unref(as);
		return 0;
	}
	b = strtok_r(NULL, " \t", &save);
	c = strtok_r(NULL, " \t", &save);
	if (!strcmp(kind, "net") && a && b) {
		struct loc_network *net = NULL;

		if (loc_writer_add_network(w, &net, a))
			return -1;
		loc_network_set_asn(net, (uint32_t)strtoul(b, NULL, 10));
		if (c)
			loc_network_set_country_code(net, c);
		loc_network_unref(net);
		return 0;
	}
	return -1;
}

static int geodb_write(const char *path, const char *spec)
{
	struct loc_ctx *ctx = NULL;
	struct loc_writer *w = NULL;
	char *copy = strdup(spec), *save = NULL, *line;
	FILE *f = NULL;
	int err = -1;

	if (!copy || loc_new(&ctx) < 0 || loc_writer_new(ctx, &w, NULL, NULL))
		goto out;
	loc_writer_set_vendor(w, "tunflow tests");
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (geodb_line(w, line)) {
			fprintf(stderr, "geodb: cannot add '%s'\n", line);
			goto out;
		}
	if (!(f = fopen(path, "w")) || loc_writer_write(w, f, LOC_DATABASE_VERSION_LATEST)) {
		fprintf(stderr, "geodb: cannot write %s: %s\n", path, strerror(errno));
		goto out;
	}
	err = 0;
out:
	if (f && fclose(f))
		err = -1;
	if (w)
		loc_writer_unref(w);
	if (ctx)
		loc_unref(ctx);
	free(copy);
	return err;
}

#endif
