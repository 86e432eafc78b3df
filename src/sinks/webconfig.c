// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib.h>
#include <yaml.h>
#include "sinks/webconfig.h"
#include "util/text.h"

struct ctx {
	const char *path;
	yaml_document_t *doc;
	char **err;
};

static int __attribute__((format(printf, 3, 4)))
bad(struct ctx *x, const yaml_node_t *at, const char *fmt, ...)
{
	char *clean = text_clean(x->path, strlen(x->path), TEXT_NAME_MAX), *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_free(*x->err);
	if (at)
		*x->err = g_strdup_printf("web config %s: line %zu: %s", clean,
		                          at->start_mark.line + 1, msg);
	else
		*x->err = g_strdup_printf("web config %s: %s", clean, msg);
	g_free(clean);
	g_free(msg);
	return -EINVAL;
}

/* A scalar's text, or NULL when the node is not a scalar or holds a NUL byte. */
static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE ||
	    memchr(n->data.scalar.value, 0, n->data.scalar.length))
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* YAML's null: nothing, "~" or "null", unquoted. */
static bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	        !strcmp(s, "NULL"));
}

/* A key for messages: cleaned and short. */
static char *shown(const char *s) { return text_clean(s, strlen(s), 64); }

/* The node must be a mapping (or null: an empty section); its keys scalars, once each. */
static int mapping(struct ctx *x, const yaml_node_t *n, const char *what)
{
	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return bad(x, n, "%s must be a mapping of names to values", what);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(x->doc, p->key));

		if (!k)
			return bad(x, yaml_document_get_node(x->doc, p->key),
			           "%s: a key that is not a plain name", what);
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
			const char *k2 = scalar(yaml_document_get_node(x->doc, q->key));

			if (!strcmp(k, k2)) {
				char *s = shown(k);
				int err = bad(x, yaml_document_get_node(x->doc, p->key),
				              "%s: '%s' appears twice", what, s);

				g_free(s);
				return err;
			}
		}
	}
	return 0;
}

/* The file name value of key, resolved against the config file's directory. */
static int file_name(struct ctx *x, const yaml_node_t *v, const char *key, char **out)
{
	const char *s = scalar(v);
	char *dir;

	if (!s || is_null(v) || !*s)
		return bad(x, v, "tls_server_config: %s must be a file name", key);
	if (s[0] == '/') {
		*out = g_strdup(s);
		return 0;
	}
	dir = g_path_get_dirname(x->path);
	*out = g_build_filename(dir, s, NULL);
	g_free(dir);
	return 0;
}

static int tls_section(struct ctx *x, const yaml_node_t *n, struct webconfig *wc)
{
	int err = mapping(x, n, "tls_server_config");

	if (err || is_null(n))
		return err;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(x->doc, p->key));
		const yaml_node_t *v = yaml_document_get_node(x->doc, p->value);

		if (!strcmp(k, "cert_file"))
			err = file_name(x, v, k, &wc->cert_file);
		else if (!strcmp(k, "key_file"))
			err = file_name(x, v, k, &wc->key_file);
		else {
			char *s = shown(k);

			err = bad(x, v,
			          "tls_server_config: '%s' is not supported by tunflow "
			          "(it knows cert_file and key_file)",
			          s);
			g_free(s);
		}
		if (err)
			return err;
	}
	if (!wc->cert_file != !wc->key_file)
		return bad(x, n, "tls_server_config needs both cert_file and key_file");
	return 0;
}

/* "$2a$", "$2b$" or "$2y$", a cost of two digits from 04 to 31, "$", then 53 characters
 * of bcrypt's base64 (22 of salt, 31 of hash). */
static bool is_bcrypt(const char *h)
{
	static const char b64[] =
	    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	int cost;

	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[3] != '$' ||
	    !g_ascii_isdigit(h[4]) || !g_ascii_isdigit(h[5]) || h[6] != '$')
		return false;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < 4 || cost > 31)
		return false;
	for (int i = 7; i < 60; i++)
		if (!memchr(b64, h[i], sizeof(b64) - 1))
			return false;
	return true;
}

static int users_section(struct ctx *x, const yaml_node_t *n, struct webconfig *wc)
{
	int err = mapping(x, n, "basic_auth_users");
	size_t cap;

	if (err || is_null(n))
		return err;
	cap = n->data.mapping.pairs.top - n->data.mapping.pairs.start;
	wc->users = g_new0(struct web_user, cap);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(x->doc, p->key));
		const yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *h = scalar(v);

		if (!*k)
			return bad(x, v, "basic_auth_users: an empty user name");
		if (!h || !is_bcrypt(h)) {
			char *s = shown(k);

			err = bad(x, v,
			          "basic_auth_users: the password of '%s' is not a bcrypt "
			          "hash ($2y$10$ and 53 characters; make one with htpasswd -nBC 10 "
			          "'%s')",
			          s, s);
			g_free(s);
			return err;
		}
		wc->users[wc->nusers].name = g_strdup(k);
		wc->users[wc->nusers].hash = g_strdup(h);
		wc->nusers++;
	}
	return 0;
}

int webconfig_parse(const char *path, const char *text, size_t len, struct webconfig *wc,
                    char **err)
{
	struct ctx x = {.path = path, .err = err};
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret = 0;

	memset(wc, 0, sizeof(*wc));
	*err = NULL;
	if (!yaml_parser_initialize(&parser))
		return bad(&x, NULL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = -EINVAL;
		g_free(*err);
		*err = g_strdup_printf("web config %s: line %zu: not YAML: %s", x.path,
		                       parser.problem_mark.line + 1,
		                       parser.problem ? parser.problem : "unreadable");
		{ /* the path and libyaml's message are outside text too */
			char *c = text_clean(*err, strlen(*err), 512);

			g_free(*err);
			*err = c;
		}
		yaml_parser_delete(&parser);
		return ret;
	}
	x.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && !is_null(root))
		ret = mapping(&x, root, "the file");
	for (yaml_node_pair_t *p = root && !ret && !is_null(root) ? root->data.mapping.pairs.start
	                                                          : NULL;
	     p && p < root->data.mapping.pairs.top && !ret; p++) {
		const char *k = scalar(yaml_document_get_node(&doc, p->key));
		const yaml_node_t *v = yaml_document_get_node(&doc, p->value);

		if (!strcmp(k, "tls_server_config")) {
			ret = tls_section(&x, v, wc);
		} else if (!strcmp(k, "basic_auth_users")) {
			ret = users_section(&x, v, wc);
		} else {
			char *s = shown(k);

			ret = bad(&x, yaml_document_get_node(&doc, p->key),
			          "'%s' is not supported by tunflow (it knows tls_server_config "
			          "and basic_auth_users)",
			          s);
			g_free(s);
		}
	}
	/* a second document is a mistake, not something to ignore */
	if (!ret) {
		yaml_document_t next;

		if (!yaml_parser_load(&parser, &next)) {
			ret = bad(&x, NULL, "not YAML after the first document");
		} else {
			if (yaml_document_get_root_node(&next))
				ret = bad(&x, NULL, "more than one YAML document");
			yaml_document_delete(&next);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

int webconfig_read_file(const char *path, char **text, size_t *len, char **err)
{
	char *clean = text_clean(path, strlen(path), TEXT_NAME_MAX);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	GString *s;
	int ret = 0;

	*text = NULL;
	*len = 0;
	if (fd < 0) {
		ret = -errno;
		*err = g_strdup_printf("%s: %s", clean, g_strerror(errno));
		g_free(clean);
		return ret;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		*err = g_strdup_printf("%s: not a regular file", clean);
		close(fd);
		g_free(clean);
		return -EINVAL;
	}
	s = g_string_sized_new(st.st_size < WEBCONFIG_MAX_BYTES ? st.st_size + 1 : 4096);
	for (;;) {
		char buf[8192];
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			*err = g_strdup_printf("%s: %s", clean, g_strerror(errno));
			break;
		}
		if (!n)
			break;
		if (s->len + n > WEBCONFIG_MAX_BYTES) {
			ret = -EFBIG;
			*err =
			    g_strdup_printf("%s: larger than %d bytes", clean, WEBCONFIG_MAX_BYTES);
			break;
		}
		g_string_append_len(s, buf, n);
	}
	close(fd);
	g_free(clean);
	if (ret) {
		g_string_free(s, TRUE);
		return ret;
	}
	*len = s->len;
	*text = g_string_free(s, FALSE);
	return 0;
}

int webconfig_load(const char *path, struct webconfig *wc, char **err)
{
	char *text, *e;
	size_t len;
	int ret;

	memset(wc, 0, sizeof(*wc));
	ret = webconfig_read_file(path, &text, &len, &e);
	if (ret) {
		*err = g_strdup_printf("web config %s", e);
		g_free(e);
		return ret;
	}
	ret = webconfig_parse(path, text, len, wc, err);
	g_free(text);
	return ret;
}

void webconfig_free(struct webconfig *wc)
{
	if (!wc)
		return;
	g_free(wc->cert_file);
	g_free(wc->key_file);
	for (size_t i = 0; i < wc->nusers; i++) {
		g_free(wc->users[i].name);
		/* the hash is what a password is checked against: not left in freed memory */
		if (wc->users[i].hash)
			memset(wc->users[i].hash, 0, strlen(wc->users[i].hash));
		g_free(wc->users[i].hash);
	}
	g_free(wc->users);
	memset(wc, 0, sizeof(*wc));
}
