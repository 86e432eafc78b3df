/* SPDX-License-Identifier: GPL-2.0-only */
/* Outside strings (interface names, user names, file contents): made safe once where
 * they enter tunflow, escaped per format where they leave.
 *
 * text_clean() is the entry step: the result is valid UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) of at most max bytes, with no unsafe
 * character: C0 controls, DEL, C1 controls, U+2028/U+2029 (line and paragraph
 * separators) and the bidirectional formatting characters (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069: they reorder what a terminal shows after them). Each
 * byte of an unsafe character and each byte that is not valid UTF-8 is replaced by a
 * visible escape "\xHH" (ESC reads "\x1b", U+202E "\xe2\x80\xae", a lone 0xff "\xff").
 * A string that does not fit in max bytes is cut on a character boundary and ends in
 * "..."; one that fits exactly is left whole. Cleaning a clean string changes nothing,
 * so text_clean(text_clean(x)) == text_clean(x). A backslash is kept as it is: a name
 * that really holds the four characters "\x1b" reads the same as one that held ESC.
 *
 * Every output can then rely on valid UTF-8 without controls; each still escapes what
 * its own format needs and, as a second line of defence, whatever unsafe bytes it is
 * handed (json_str, csv_str in util/fmt.h; the table). */
#ifndef TUNFLOW_TEXT_H
#define TUNFLOW_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define TEXT_NAME_MAX 256 /* a user or interface name, in bytes, after cleaning */
#define TEXT_ESC_MAX 16   /* the longest escape of one character: 3 bytes as "\xHH" */

/* A cleaned copy of the len bytes at s (which need not be NUL-terminated; a NUL byte
 * is a control like any other), at most max bytes long. Returns a g_malloc'd string. */
char *text_clean(const char *s, size_t len, size_t max);
/* Whether s is already what text_clean() makes: valid UTF-8, no unsafe character. */
bool text_is_clean(const char *s);

/* The code point of the UTF-8 sequence at s (n > 0 bytes available), its length in
 * *len; -1 when s does not start a valid sequence (RFC 3629). */
long utf8_next(const char *s, size_t n, size_t *len);
/* Whether a code point is unsafe in any output (the list above). */
bool text_unsafe(long cp);
/* The next piece of text_clean()'s output for the n > 0 bytes at s: the bytes of s
 * it stands for in *used; the piece is either s itself (a safe character, the return
 * value is its length) or written to esc (the escape, its length returned, *piece set
 * to esc). */
size_t text_piece(const char *s, size_t n, size_t *used, char esc[TEXT_ESC_MAX],
                  const char **piece);

#endif
