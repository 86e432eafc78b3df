// SPDX-License-Identifier: GPL-2.0-only
/* The config file: every option of the table round-trips (a file setting each long
 * option to a valid non-default value gives the same struct config as the equivalent
 * command line), the command line wins, flags take true/false/yes/no/1/0, exact
 * "FILE:LINE: ..." messages for bad keys, values and lines, the file refused when others
 * may write it, TUNFLOW_CONFIG and the default file, and SIGHUP's config_reload(): the
 * runtime keys applied, every other change named. Files live in a fresh directory under
 * /tmp; the host's /etc/tunflow is never read (default_config stays NULL, or names a
 * file under /tmp). */
#define CHECK_SUITE "config"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <glib.h>
#include "check.h"
#include "config.h"
#include "util/log.h"
#include "util/options.h"

static char dir[] = "/tmp/tunflow-test-config.XXXXXX";
static const struct opt *tab;
static size_t ntab;


/* dir/name with the given text and mode; its path (static buffer) */
static const char *write_file(const char *name, const char *text, size_t len, mode_t mode)
{
	static char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
	chmod(path, mode);
	return path;
}

/* parse_args on argv (NULL-terminated, after "tunflow"); all of stderr into msg */
static int run(struct config *c, char *msg, size_t len, const char **args)
{
	char *argv[700] = {"tunflow"};
	int argc = 1, ret;

	while (args[argc - 1] && argc < 699) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	memset(c, 0, sizeof(*c));
	c->no_lookups = false;
	check_stderr_begin();
	ret = parse_args(argc, argv, c);
	check_stderr_end(msg, len, false);
	return ret;
}

/* A valid value of o other than its default, as the command line and the file give it. */
static const char *other_value(const struct opt *o, char *buf, size_t len)
{
	union opt_value dv = {0};
	char err[OPT_ERRLEN];

	if (o->def)
		opt_check(o, o->def, &dv, err, sizeof(err));
	switch (o->kind) {
	case OPT_FLAG:
		return "true";
	case OPT_SECONDS:
		snprintf(buf, len, "%g", o->def && dv.seconds == o->min ? o->max : o->min);
		return buf;
	case OPT_UINT:
		snprintf(buf, len, "%.0f", o->def && dv.uint == o->min ? o->max : o->min);
		return buf;
	case OPT_WORD:
		for (const struct opt_word *w = o->words; w->word; w++)
			if (!w->alias && w->value != dv.word)
				return w->word;
		return NULL;
	case OPT_STRING:
		if (!strcmp(o->name, "filter")) /* an expression, checked */
			return "user alice";
		if (!strcmp(o->name, "gateway-id")) /* letters, digits, '.', '_', '-' */
			return "gw-test.1";
		snprintf(buf, len, "/tmp/tf-%s", o->name);
		return buf;
	case OPT_LIST:
		return "vpn-a*";
	case OPT_HOSTPORT:
		return "127.0.0.1:9753";
	case OPT_COLLECTOR:
		return "tcp:192.0.2.9:4739"; /* an address: nothing is looked up */
	case OPT_ACTION:
		return NULL;
	}
	return NULL;
}

/* a and b the same, field by field: strings and lists by content, the rest by bytes */
static void same_config(const char *what, const struct config *a, const struct config *b)
{
	const char *names[200];
	struct config x, y;
	char t[200];
	size_t n = config_changes(a, b, names, 200), k = 0;

	/* the file names itself in --config; the command line has none */
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], "config"))
			names[k++] = names[i];
	snprintf(t, sizeof(t), "%s: no key differs (first: %s)", what, k ? names[0] : "none");
	CHECK_INT(t, k, 0);
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	for (size_t i = 0; i < ntab; i++) {
		if (tab[i].size && (tab[i].kind == OPT_STRING || tab[i].kind == OPT_HOSTPORT ||
		                    tab[i].kind == OPT_LIST)) {
			memset((char *)&x + tab[i].off, 0, tab[i].size);
			memset((char *)&y + tab[i].off, 0, tab[i].size);
		}
	}
	CHECK_STR("collector text", x.ipfix.collector, y.ipfix.collector);
	x.ipfix.collector = y.ipfix.collector = NULL;
	x.interfaces = y.interfaces = x.owned = y.owned = NULL;
	x.config = y.config = x.default_config = y.default_config = NULL;
	snprintf(t, sizeof(t), "%s: every other byte of struct config", what);
	CHECK(t, !memcmp(&x, &y, sizeof(x)));
}

static void round_trip(void)
{
	GString *file = g_string_new("# every long option, set to a value that is not its default\n");
	const char *argv[600], *path, *names[300];
	struct config fc, cc, dc;
	char msg[2048], bufs[150][64];
	int argc = 0, keys = 0;
	size_t n;

	CHECK("the buffers hold every option", ntab <= 150);
	for (size_t i = 0; i < ntab && i < 150; i++) {
		const struct opt *o = &tab[i];
		const char *v = other_value(o, bufs[i], sizeof(bufs[i]));
		char t[200];

		if (o->kind == OPT_ACTION || !strcmp(o->name, "config"))
			continue;
		snprintf(t, sizeof(t), "a non-default value for --%s", o->name);
		CHECK(t, v != NULL);
		if (!v)
			continue;
		keys++;
		g_string_append_printf(file, "%s = %s\n", o->name, v);
		argv[argc++] = g_strdup_printf("--%s", o->name);
		if (o->arg)
			argv[argc++] = v;
		if (o->kind == OPT_LIST) {
			g_string_append_printf(file, "  %s=vpn-b*  \n", o->name);
			argv[argc++] = g_strdup_printf("--%s", o->name);
			argv[argc++] = "vpn-b*";
		}
	}
	g_string_append(file, "interface = tun0\n\ninterface = 'vpns*'\n");
	argv[argc++] = "tun0";
	argv[argc++] = "vpns*";
	argv[argc] = NULL;
	path = write_file("all.conf", file->str, file->len, 0644);
	CHECK_INT("file with every option: loaded",
	          run(&fc, msg, sizeof(msg), (const char *[]){"--config", path, NULL}), 0);
	CHECK_STR("file with every option: nothing said", msg, "");
	CHECK_INT("command line with every option: parsed", run(&cc, msg, sizeof(msg), argv), 0);
	CHECK_STR("command line with every option: nothing said", msg, "");
	same_config("file = command line", &fc, &cc);
	CHECK_INT("file: 2 excludes", fc.excludes->len, 2);
	CHECK_STR("file: exclude 2", fc.excludes->pdata[1], "vpn-b*");
	/* "interface" is an option (-i) too: its two values, then the two of the end */
	CHECK_INT("file: 4 interfaces", fc.interfaces->len, 4);
	CHECK_STR("file: quoted interface", fc.interfaces->pdata[3], "vpns*");
	CHECK_INT("file: tcp collector", fc.ipfix.tcp, 1);
	CHECK_INT("file: collector port", ntohs(((struct sockaddr_in *)&fc.ipfix.addr)->sin_port),
	          4739);
	/* and every one of them is not the default */
	CHECK_INT("defaults", run(&dc, msg, sizeof(msg), (const char *[]){NULL}), 0);
	n = config_changes(&dc, &fc, names, 300);
	CHECK_INT("every key differs from its default (and config)", n, keys + 1);
	config_free(&fc);
	config_free(&cc);
	config_free(&dc);
	for (int i = 0; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] == '-')
			g_free((char *)argv[i]);
	g_string_free(file, TRUE);
}

static void command_line_wins(void)
{
	static const char text[] = "interval = 5\n"
	                           "exclude = a*\n"
	                           "exclude = b*\n"
	                           "interface = tun0\n"
	                           "quiet = yes\n"
	                           "wide = no\n"
	                           "records = 1\n"
	                           "uniflow = 0\n"
	                           "metrics-top = 20\n"
	                           "output = none\n";
	const char *path = write_file("wins.conf", text, sizeof(text) - 1, 0600);
	struct config c;
	char msg[2048];

	CHECK_INT("file alone", run(&c, msg, sizeof(msg), (const char *[]){"--config", path, NULL}),
	          0);
	CHECK("file alone: interval 5", c.interval == 5);
	CHECK_INT("file alone: 2 excludes", c.excludes->len, 2);
	CHECK_STR("file alone: interface", c.interfaces->pdata[0], "tun0");
	CHECK_INT("file alone: quiet = yes", c.quiet, 1);
	CHECK_INT("file alone: wide = no", c.table.wide, 0);
	CHECK_INT("file alone: records = 1", c.records, 1);
	CHECK_INT("file alone: uniflow = 0", c.rec.uniflow, 0);
	CHECK_INT("file alone: output none", c.output, OUT_NONE);
	CHECK_STR("file alone: config", c.config, path);
	config_free(&c);
	CHECK_INT("file and command line",
	          run(&c, msg, sizeof(msg),
	              (const char *[]){"-t", "2", "-x", "c*", "tun1", "--config", path, "-w",
	                               "-o", "json", NULL}),
	          0);
	CHECK_STR("file and command line: nothing said", msg, "");
	CHECK("command line wins: interval 2", c.interval == 2);
	CHECK_INT("command line wins: 1 exclude", c.excludes->len, 1);
	CHECK_STR("command line wins: exclude c*", c.excludes->pdata[0], "c*");
	CHECK_INT("command line wins: 1 interface", c.interfaces->len, 1);
	CHECK_STR("command line wins: interface tun1", c.interfaces->pdata[0], "tun1");
	CHECK_INT("command line wins: -w", c.table.wide, 1);
	CHECK_INT("command line wins: -o json", c.output, OUT_JSON);
	CHECK_INT("file still: quiet", c.quiet, 1);
	CHECK_INT("file still: metrics-top 20", c.metrics_top, 20);
	CHECK_INT("first interface at optind (after the options)", optind, 10);
	config_free(&c);
}

/* The file holding text is refused with exactly "tunflow: PATH:" then want. */
static void refused(const char *name, const char *text, size_t len, const char *want)
{
	const char *path = write_file("bad.conf", text, len, 0644);
	char msg[2048], full[1024], t[300];
	struct config c;

	snprintf(full, sizeof(full), "tunflow: %s:%s", path, want);
	snprintf(t, sizeof(t), "%s: refused", name);
	CHECK_INT(t, run(&c, msg, sizeof(msg), (const char *[]){"--config", path, NULL}), -EINVAL);
	snprintf(t, sizeof(t), "%s: message", name);
	CHECK_STR(t, msg, full);
	config_free(&c);
}

#define REFUSED(name, text, want) refused(name, text, sizeof(text) - 1, want)

static void errors(void)
{
	char *longline = g_strnfill(5000, 'x'), *text, msg[2048], want[1024];
	const char *path;
	struct config c;

	REFUSED("unknown key", "interval = 5\nfoo = 1\n",
	        "2: unknown key 'foo': every long option without its '--' is a key (see --help)");
	REFUSED("key with dashes", "--interval = 5\n",
	        "1: unknown key '--interval': every long option without its '--' is a key "
	        "(see --help)");
	REFUSED("bad seconds", "# a comment\n\n   interval = 0\n",
	        "3: interval wants seconds from 0.05 to 3600, not '0'");
	REFUSED("inline comment is the value", "interval = 5 # seconds\n",
	        "1: interval wants seconds from 0.05 to 3600, not '5 # seconds'");
	REFUSED("bad number", "max-flows = -1\n",
	        "1: max-flows wants a whole number from 1 to 16777216, not '-1'");
	REFUSED("bad word", "direction = sideways\n",
	        "1: direction wants ingress, egress or both, not 'sideways'");
	REFUSED("bad output", "output = xml\n",
	        "1: output wants tui, table, json, csv or none, not 'xml'");
	REFUSED("bad host:port", "metrics = 1.2.3.4:99999\n",
	        "1: metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not '1.2.3.4:99999'");
	REFUSED("bad flag", "wide = maybe\n",
	        "1: wide wants true or false (yes or no, 1 or 0), not 'maybe'");
	REFUSED("flag TRUE is not true", "quiet = TRUE\n",
	        "1: quiet wants true or false (yes or no, 1 or 0), not 'TRUE'");
	REFUSED("no equals sign", "interval 5\n",
	        "1: 'interval 5' is not 'key = value': write KEY = VALUE, or '#' first for a "
	        "comment");
	REFUSED("no key", "interval = 5\r\n = 5\n", "2: no key before '=': write KEY = VALUE");
	REFUSED("empty value", "user =   \n",
	        "1: user has no value: write user = VALUE, or remove the line");
	REFUSED("empty interface", "interface = ''\n",
	        "1: interface has no value: write interface = NAME");
	REFUSED("twice", "interval = 1\nquiet = true\ninterval = 2\n",
	        "3: interval is set again (first on line 1): keep one");
	REFUSED("action", "help = true\n", "1: help is not a setting: give --help on the command line");
	REFUSED("config in config", "config = /tmp/x\n",
	        "1: config is not a setting: give --config on the command line");
	REFUSED("control characters are cleaned", "a\x1b[2J = 1\n",
	        "1: unknown key 'a\\x1b[2J': every long option without its '--' is a key "
	        "(see --help)");
	REFUSED("NUL byte", "interval = 1\nquiet\0 = true\n", "2: a NUL byte: this is not a text file");
	text = g_strdup_printf("interval = 1\n# %s\n", longline);
	refused("long line", text, strlen(text), "2: line longer than 4095 bytes: shorten it");
	g_free(text);
	/* 4095 bytes is still a line */
	text = g_strdup_printf("#%.4094s\ninterval = 0\n", longline);
	refused("4095-byte line", text, strlen(text),
	        "2: interval wants seconds from 0.05 to 3600, not '0'");
	g_free(text);
	g_free(longline);

	/* the file itself */
	path = write_file("others.conf", "interval = 2\n", 13, 0666);
	snprintf(want, sizeof(want),
	         "tunflow: the config file: %s is writable by anyone (mode 0666): chmod o-w %s", path,
	         path);
	CHECK_INT("writable by others: refused",
	          run(&c, msg, sizeof(msg), (const char *[]){"--config", path, NULL}), -EINVAL);
	CHECK_STR("writable by others: one line", msg, want);
	config_free(&c);
	path = write_file("group.conf", "interval = 2\n", 13, 0664);
	{
		struct stat st;

		stat(path, &st);
		snprintf(want, sizeof(want),
		         "tunflow: the config file: %s is writable by group %u (mode 0664): chmod g-w "
		         "%s, or name its writer with --trusted-writer USER",
		         path, (unsigned)st.st_gid, path);
	}
	CHECK_INT("writable by group: refused",
	          run(&c, msg, sizeof(msg), (const char *[]){"--config", path, NULL}), -EINVAL);
	CHECK_STR("writable by group: one line", msg, want);
	config_free(&c);
	{
		char link[300];

		snprintf(link, sizeof(link), "%s/link.conf", dir);
		path = write_file("target.conf", "interval = 2\n", 13, 0644);
		unlink(link);
		CHECK_INT("symlink made", symlink(path, link), 0);
		snprintf(want, sizeof(want),
		         "tunflow: the config file: %s is a symbolic link: name the file itself",
		         link);
		CHECK_INT("symlink: refused",
		          run(&c, msg, sizeof(msg), (const char *[]){"--config", link, NULL}),
		          -EINVAL);
		CHECK_STR("symlink: one line", msg, want);
		config_free(&c);
		snprintf(link, sizeof(link), "%s/missing.conf", dir);
		snprintf(want, sizeof(want),
		         "tunflow: cannot read the config file %s: No such file or directory", link);
		CHECK_INT("missing --config: refused",
		          run(&c, msg, sizeof(msg), (const char *[]){"--config", link, NULL}),
		          -EINVAL);
		CHECK_STR("missing --config: one line", msg, want);
		config_free(&c);
	}
	CHECK_INT("directory: refused",
	          run(&c, msg, sizeof(msg), (const char *[]){"--config", dir, NULL}), -EINVAL);
	snprintf(want, sizeof(want), "tunflow: the config file: %s is not a regular file: name a file",
	         dir);
	CHECK_STR("directory: one line", msg, want);
	config_free(&c);
}

/* parse_args with c->default_config set, as main() does */
static int run_default(struct config *c, const char *def, char *msg, size_t len)
{
	char *argv[] = {"tunflow", NULL};
	int ret;

	memset(c, 0, sizeof(*c));
	c->default_config = def;
	optind = 0;
	check_stderr_begin();
	ret = parse_args(1, argv, c);
	check_stderr_end(msg, len, false);
	return ret;
}

static void default_file(void)
{
	const char *path = write_file("default.conf", "interval = 7\n", 13, 0644);
	char def[300], missing[300], msg[1024];
	struct config c;

	snprintf(def, sizeof(def), "%s", path);
	snprintf(missing, sizeof(missing), "%s/not-there.conf", dir);
	unsetenv("TUNFLOW_CONFIG");
	CHECK_INT("default file read", run_default(&c, def, msg, sizeof(msg)), 0);
	CHECK("default file: interval 7", c.interval == 7);
	config_free(&c);
	CHECK_INT("default file missing: fine", run_default(&c, missing, msg, sizeof(msg)), 0);
	CHECK_STR("default file missing: nothing said", msg, "");
	CHECK("default file missing: interval 1", c.interval == 1);
	config_free(&c);
	setenv("TUNFLOW_CONFIG", "", 1);
	CHECK_INT("TUNFLOW_CONFIG empty", run_default(&c, def, msg, sizeof(msg)), 0);
	CHECK("TUNFLOW_CONFIG empty: the default file is not read", c.interval == 1);
	config_free(&c);
	path = write_file("env.conf", "interval = 9\n", 13, 0644);
	setenv("TUNFLOW_CONFIG", path, 1);
	CHECK_INT("TUNFLOW_CONFIG names a file", run_default(&c, def, msg, sizeof(msg)), 0);
	CHECK("TUNFLOW_CONFIG: its interval 9", c.interval == 9);
	config_free(&c);
	setenv("TUNFLOW_CONFIG", missing, 1);
	CHECK_INT("TUNFLOW_CONFIG missing: refused", run_default(&c, def, msg, sizeof(msg)),
	          -EINVAL);
	config_free(&c);
	unsetenv("TUNFLOW_CONFIG");
}

static void reload(void)
{
	static const char before[] = "interval = 1\nmetrics-top = 10\nexclude = a*\n"
	                             "ipfix = udp:192.0.2.9:4739\n";
	static const char after[] = "interval = 0.5\nmetrics-top = 30\nexclude = a*\nquiet = true\n"
	                            "interface = tun3\nipfix = udp:192.0.2.9:4739\n";
	static const char broken[] = "interval = 2\nmetrics-top = x\n";
	const char *path = write_file("hup.conf", before, sizeof(before) - 1, 0644);
	char *argv[] = {"tunflow", "--config", (char *)path, "-v", NULL}, msg[2048], want[2048];
	struct config given;
	int ret;

	CHECK("runtime: interval", config_key_runtime("interval"));
	CHECK("runtime: quiet", config_key_runtime("quiet"));
	CHECK("runtime: verbose", config_key_runtime("verbose"));
	CHECK("not runtime: metrics-top", !config_key_runtime("metrics-top"));
	CHECK("not runtime: user-map", !config_key_runtime("user-map"));
	memset(&given, 0, sizeof(given));
	optind = 0;
	CHECK_INT("reload: start", parse_args(4, argv, &given), 0);
	log_set_level(LOG_LVL_INFO);

	check_stderr_begin();
	ret = config_reload(&given, 4, argv);
	check_stderr_end(msg, sizeof(msg), false);
	CHECK_INT("reload unchanged", ret, 0);
	snprintf(want, sizeof(want), "tunflow: re-read %s: nothing changed", path);
	CHECK_STR("reload unchanged: said", msg, want);

	write_file("hup.conf", after, sizeof(after) - 1, 0644);
	check_stderr_begin();
	ret = config_reload(&given, 4, argv);
	check_stderr_end(msg, sizeof(msg), false);
	CHECK_INT("reload changed", ret, 0);
	snprintf(want, sizeof(want),
	         "tunflow: interval changed in %s: applied\n"
	         "tunflow: metrics-top changed in %s: takes effect after a restart\n"
	         "tunflow: quiet changed in %s: applied\n"
	         "tunflow: interface changed in %s: takes effect after a restart",
	         path, path, path, path);
	CHECK_STR("reload changed: one line per key", msg, want);
	CHECK("reload: interval applied", given.interval == 0.5);
	CHECK_INT("reload: quiet applied", given.quiet, 1);
	CHECK_INT("reload: -v on the command line stays", given.verbose, 1);
	CHECK_INT("reload: log level (quiet wins over -v)", log_get_level(), LOG_LVL_WARN);
	CHECK_INT("reload: metrics-top not applied", given.metrics_top, 10);
	CHECK("reload: interfaces not applied", given.interfaces == NULL);
	/* the collector, unchanged, is not named: compared as text, never looked up again */
	CHECK_STR("reload: collector kept", given.ipfix.collector, "udp:192.0.2.9:4739");

	write_file("hup.conf", broken, sizeof(broken) - 1, 0644);
	check_stderr_begin();
	ret = config_reload(&given, 4, argv);
	check_stderr_end(msg, sizeof(msg), false);
	CHECK_INT("reload broken: refused", ret, -EINVAL);
	snprintf(want, sizeof(want),
	         "tunflow: %s:2: metrics-top wants a whole number from 1 to 1000, not 'x'\n"
	         "tunflow: %s not applied: the running configuration stays",
	         path, path);
	CHECK_STR("reload broken: said", msg, want);
	CHECK("reload broken: interval kept", given.interval == 0.5);
	log_set_level(LOG_LVL_INFO);
	config_free(&given);
}

int main(void)
{
	char cmd[400];

	unsetenv("TUNFLOW_CONFIG");
	unsetenv("JOURNAL_STREAM");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	tab = config_options(&ntab);
	round_trip();
	command_line_wins();
	errors();
	default_file();
	reload();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		return 1;
	return check_done();
}
