/* SPDX-License-Identifier: GPL-2.0-only */
/* tunflow's configuration: every option, its default and its check, and --help. */
#ifndef TUNFLOW_CONFIG_H
#define TUNFLOW_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <glib.h>
#include "core/records.h"
#include "sinks/clickhouse.h"
#include "sinks/ipfix.h"
#include "sinks/sink.h"
#include "sources/attach.h"
#include "sources/users.h"

#define TUNFLOW_VERSION "0.1.0"

struct config {
	int dirs; /* bit 1 << DIR_INGRESS | 1 << DIR_EGRESS */
	double interval;
	double duration; /* 0: until a signal */
	double forget;   /* the live table forgets a flow this long after its last packet */
	enum { OUT_AUTO, OUT_TABLE, OUT_JSON, OUT_CSV, OUT_NONE, OUT_TUI } output;
	bool records;
	struct record_cfg rec;
	const char *metrics;
	int metrics_top;
	const char *metrics_web_config;
	double metrics_user_idle;
	struct ipfix_cfg ipfix; /* ipfix.collector NULL: no export */
	/* clickhouse.url NULL: none */
	struct clickhouse_cfg clickhouse;
	__u32 max_flows;
	bool names;             /* --names on|off */
	__u32 dns_cache;        /* DNS answers kept */
	__u32 dns_min_ttl;      /* seconds a DNS answer is kept at least */
	int side;               /* --side: enum side_mode (core/side.h) */
	size_t max_table_flows; /* flows, and records, user space holds at most */
	enum attach_mode mode;
	struct table_opts table;
	bool verbose, quiet;
	bool numeric;     /* -n: the table and UI show addresses, never destination names */
	const char *user; /* --user: run as this user after start */
	const char *cleanup;
	GPtrArray *excludes;
	struct users_cfg users;
	enum group_by group;
	int geo;               /* --geo: AS and country from libloc (1) or not (0) */
	const char *geo_db;    /* --geo-db FILE; NULL: Debian's default */
	const char *filter;    /* --filter EXPR (core/filter.h); NULL: every flow */
	const char *config;    /* --config FILE */
	const char *replay;    /* -r FILE: a capture to replay instead of interfaces */
	GPtrArray *interfaces; /* the arguments, else the file's "interface" keys; NULL: none */
	/* Set before parse_args(): the file read when --config is not given (when it
	 * exists; $TUNFLOW_CONFIG names another, "" none). NULL: none (tests). */
	const char *default_config;
	const char *gateway_id;   /* --gateway-id, else the host name (never NULL after
	                           * parse_args()) */
	const char *store;        /* --store PATH: the embedded flow store; NULL: none */
	unsigned store_retention; /* --store-retention DAYS; 0: keep everything */
	bool no_lookups;          /* --ipfix is checked, not looked up (fuzzing, SIGHUP) */
	GPtrArray *owned;         /* the config file's values, which c points into */
};

#define GATEWAY_ID_MAX 64
#define GATEWAY_ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
#define SESSIONS_FILE "/run/tunflow/sessions"
#define CONFIG_FILE "/etc/tunflow/tunflow.conf"

/* Fill c from the defaults, then the config file (--config FILE, else c->default_config),
 * then the command line, which wins: a key given on both takes the command line's value;
 * a repeatable one (exclude) and the interfaces take the command line's list when it gives
 * any. 0, or -EINVAL with a one-line error printed (a usage
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

/* The config file path into c: "key = value" lines (util/conffile.h), every long option a
 * key (flags take true/false, yes/no, 1/0; "interface = NAME" for each argument;
 * "exclude" repeats), checked as on the command line. The file is opened as the files
 * that decide attribution are (sources/input_file.h). 0, or -EINVAL with one line
 * "FILE:LINE: ..." (or the reason the file is refused) printed. */
int config_load(const char *path, struct config *c);
/* The same for text already read; name stands for the file in messages. */
int config_load_text(const char *text, size_t len, const char *name, struct config *c);
/* The same, saying nothing: 0, or -EINVAL with the message (without "FILE:LINE: ") in
 * err and the line number in *line (fuzzing). */
int config_parse_text(const char *text, size_t len, struct config *c, size_t *line, char *err,
                      size_t errlen);
/* What c owns (lists, the file's values). */
void config_free(struct config *c);
/* The log level -q and -v ask for. */
void config_set_log_level(const struct config *c);
/* The keys whose value differs between a and b (table names, and "interface"), in table
 * order, at most max into names. Their number. */
size_t config_changes(const struct config *a, const struct config *b, const char **names,
                      size_t max);
/* Whether a change of key takes effect without a restart (SIGHUP): interval, quiet,
 * verbose. */
bool config_key_runtime(const char *key);
/* SIGHUP: parse the command line and the config file again; every key that changed is
 * applied to *given when it can be at run time (the log level set here, the interval
 * for the caller to use) and said; every other is named, "KEY changed in FILE: takes
 * effect after a restart". On an error in the file nothing changes. 0 or -EINVAL. */
int config_reload(struct config *given, int argc, char **argv);

#endif
