/* SPDX-License-Identifier: GPL-2.0-only */
/* Options declared once, in a table: each entry names the option (long name, short
 * letter, argument), its kind and range (which give its check and its error message),
 * its default, its help line and its --help group. From the table come getopt_long's
 * array and short-option string, --help, the defaults, and opt_apply(), which a
 * command line and a config file (one key per long option) both go through.
 * Nothing here looks a name up (no DNS): host names are checked for syntax only (a
 * .set callback may do more: --ipfix resolves its collector there). */
#ifndef TUNFLOW_OPTIONS_H
#define TUNFLOW_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <getopt.h>

enum opt_kind {
	OPT_FLAG,      /* no value: sets a bool */
	OPT_SECONDS,   /* a double from min to max */
	OPT_UINT,      /* a whole number from min to max, into an int-sized or wider field */
	OPT_WORD,      /* one of words[]: its value into an int (or enum) field */
	OPT_STRING,    /* any text, kept (not copied) in a const char * */
	OPT_LIST,      /* repeatable text, appended to a GPtrArray * (not copied) */
	OPT_HOSTPORT,  /* PORT, HOST:PORT or [IPV6]:PORT, kept as text; names resolved later */
	OPT_COLLECTOR, /* [udp:|tcp:] then as OPT_HOSTPORT */
	OPT_ACTION,    /* no value: set() does it (--help, --version) */
};

struct opt_word {
	const char *word;
	int value;
	bool alias; /* accepted, not named in messages or --help */
};

struct opt {
	const char *name; /* long name, without "--" */
	char letter;      /* short letter, 0 for none */
	const char *arg;  /* argument name in --help ("SEC"); NULL for flags and actions */
	enum opt_kind kind;
	size_t off, size;             /* the field it sets in the target (OPT_FIELD) */
	double min, max;              /* OPT_SECONDS, OPT_UINT */
	const struct opt_word *words; /* OPT_WORD, ending with {NULL} */
	const char *want; /* OPT_HOSTPORT, OPT_COLLECTOR: what the error says it wants */
	const char *def;  /* default, as a value the check accepts; NULL: zero */
	/* One line (wrapped when long); "{default}" becomes def, "{range}" "MIN to MAX". */
	const char *help;
	int group; /* index into the group names given to options_usage() */
	/* After the check (and the store, if size): more to do with the value. 0, or
	 * -EINVAL with the message written to err. */
	int (*set)(const struct opt *o, const char *value, void *target, char *err, size_t errlen);
};

#define OPT_FIELD(type, member) offsetof(type, member), sizeof(((type *)0)->member)

/* The value of one option, checked without side effects (nothing stored, nothing
 * looked up). */
union opt_value {
	bool flag;
	double seconds;
	unsigned long long uint;
	int word;
	const char *str;
};

#define OPT_ERRLEN 512

/* Check value for o: 0 with *v filled, or -EINVAL with the one-line message (without
 * "tunflow: ") in err, e.g. "--interval wants seconds from 0.05 to 3600, not '0'". */
int opt_check(const struct opt *o, const char *value, union opt_value *v, char *err, size_t errlen);
/* The option named long_name in the table (n entries), or NULL. */
const struct opt *opt_find(const struct opt *tab, size_t n, const char *long_name);
/* Check value and store it in target, then o->set. 0 or -EINVAL with err written. */
int opt_apply(const struct opt *o, const char *value, void *target, char *err, size_t errlen);
/* Every default into target (fields without a default are left as they are). */
int opt_defaults(const struct opt *tab, size_t n, void *target, char *err, size_t errlen);

/* getopt_long's array (ending with a zero entry; val is the table index + 256) and the
 * short-option string (starting with ':'). Free both with free(). */
struct option *opt_getopt_array(const struct opt *tab, size_t n);
char *opt_short_string(const struct opt *tab, size_t n);
/* The table index behind a getopt_long return value, or -1 ('?', ':', unknown). */
int opt_index_of(const struct opt *tab, size_t n, int getopt_ret);

/* The OPTIONS part of --help: groups in order, each "NAME:" then its options, one line
 * each ("  -x, --exclude PATTERN  help"), wrapped at 88 columns. */
void opt_usage(FILE *out, const struct opt *tab, size_t n, const char *const *groups,
               size_t ngroups);

#endif
