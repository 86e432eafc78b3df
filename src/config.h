/* SPDX-License-Identifier: GPL-2.0-only */
/* tunflow's configuration: every option, its default and its check, and --help. */
#ifndef TUNFLOW_CONFIG_H
#define TUNFLOW_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <glib.h>
#include "core/records.h"
#include "sinks/ipfix.h"
#include "sinks/sink.h"
#include "sources/attach.h"
#include "sources/users.h"

#define TUNFLOW_VERSION "0.1.0"

struct config {
	int dirs; /* bit 1 << DIR_INGRESS | 1 << DIR_EGRESS */
	double interval;
	double duration; /* 0: until a signal */
	enum { OUT_AUTO, OUT_TABLE, OUT_JSON, OUT_CSV } output;
	bool records;
	struct record_cfg rec;
	const char *metrics;
	int metrics_top;
	const char *metrics_web_config;
	double metrics_user_idle;
	struct ipfix_cfg ipfix; /* ipfix.collector NULL: no export */
	__u32 max_flows;
	size_t max_table_flows; /* flows, and records, user space holds at most */
	enum attach_mode mode;
	struct table_opts table;
	bool verbose, quiet;
	const char *user; /* --user: run as this user after start */
	const char *cleanup;
	GPtrArray *excludes;
	struct users_cfg users;
	enum group_by group;
};

#define SESSIONS_FILE "/run/tunflow/sessions"

/* Fill c from the command line. 0, or -EINVAL with a one-line error printed (a usage
 * error: exit status 2). --help and --version print and exit. optind is left at the
 * first interface argument. */
int parse_args(int argc, char **argv, struct config *c);
/* Set one option by its long name (no "--"), as the command line does: the same check,
 * the same message. value is kept, not copied (it must live as long as c); NULL for an
 * option without a value. 0, or -EINVAL with a one-line error printed. For a config
 * file: one key per long option. */
int options_set(const char *long_name, const char *value, struct config *c);
/* Every option's default into c (parse_args() does it first). */
int config_defaults(struct config *c);
/* --help: what tunflow does, the options by group, examples, privileges. */
void config_usage(FILE *out);
struct opt;
/* The option table (for tests: --help and the man page come from it). */
const struct opt *config_options(size_t *n);
/* A one-line usage error; returns -EINVAL. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
