/* SPDX-License-Identifier: GPL-2.0-only */
/* The web configuration file of /metrics, in the format of the Prometheus exporter
 * toolkit (what node_exporter's --web.config.file reads):
 *
 *   tls_server_config:
 *     cert_file: server.crt      # relative names: next to this file
 *     key_file: server.key
 *   basic_auth_users:
 *     prometheus: $2y$10$...     # bcrypt (htpasswd -B, or python bcrypt)
 *
 * Other keys of the toolkit (client certificates, TLS versions, cipher suites, HTTP
 * headers) are refused by name rather than ignored. */
#ifndef TUNFLOW_WEBCONFIG_H
#define TUNFLOW_WEBCONFIG_H

#include <stddef.h>

#define WEBCONFIG_MAX_BYTES (1 << 20) /* the file, a certificate or a key */

struct web_user {
	char *name;
	char *hash; /* $2a$, $2b$ or $2y$ bcrypt */
};

struct webconfig {
	char *cert_file, *key_file; /* both or neither */
	struct web_user *users;
	size_t nusers;
};

/* Parse len bytes of YAML read from path (path names the file in messages and is where
 * relative file names start). 0, or -EINVAL with *err a g_malloc'd one-line message
 * that names path and the problem. wc is filled either way; webconfig_free() it. */
int webconfig_parse(const char *path, const char *text, size_t len, struct webconfig *wc,
                    char **err);
/* Read path (a regular file of at most WEBCONFIG_MAX_BYTES), then webconfig_parse(). */
int webconfig_load(const char *path, struct webconfig *wc, char **err);
/* Read a whole regular file of at most WEBCONFIG_MAX_BYTES without blocking on it (a
 * FIFO is refused). 0, or -errno with *err a g_malloc'd message naming what. */
int webconfig_read_file(const char *path, char **text, size_t *len, char **err);
void webconfig_free(struct webconfig *wc);

#endif
