/* SPDX-License-Identifier: GPL-2.0-only */
/* Outside strings (interface names, user names, file contents): made safe once where
 * they enter tunflow, escaped per format where they leave.
 *
 * text_clean() is the entry step: the result is valid UTF-8 of at most max bytes, with
 * no control characters (C0, DEL, C1); each byte that is not valid UTF-8 and each
 * control character is replaced by a visible escape "\xHH", and a string cut at max
 * ends in "...". Every output can then rely on valid UTF-8 without controls, and only
 * escapes what its own format needs. */
#ifndef TUNFLOW_TEXT_H
#define TUNFLOW_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define TEXT_NAME_MAX 256 /* a user or interface name, in bytes, after cleaning */

/* A cleaned copy of the len bytes at s (which need not be NUL-terminated), at most max
 * bytes long (max >= 8). Returns a g_malloc'd string. */
char *text_clean(const char *s, size_t len, size_t max);
/* Whether s is already what text_clean() makes: valid UTF-8, no control characters. */
bool text_is_clean(const char *s);

#endif
