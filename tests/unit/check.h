/* SPDX-License-Identifier: GPL-2.0-only */
/* Plain C unit tests: each assertion prints "ok - SUITE: NAME" or "not ok - SUITE: NAME:
 * got X, want Y", and main() returns check_done(). Define CHECK_SUITE before including. */
#ifndef TUNFLOW_CHECK_H
#define TUNFLOW_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_fails;

#define CHECK(name, cond)                                                                  \
	do {                                                                               \
		if (cond)                                                                  \
			printf("ok - " CHECK_SUITE ": %s\n", name);                         \
		else {                                                                     \
			printf("not ok - " CHECK_SUITE ": %s: %s is false\n", name, #cond);  \
			check_fails++;                                                     \
		}                                                                          \
	} while (0)

#define CHECK_INT(name, got, want)                                                         \
	do {                                                                               \
		long long g_ = (long long)(got), w_ = (long long)(want);                   \
		if (g_ == w_)                                                              \
			printf("ok - " CHECK_SUITE ": %s\n", name);                         \
		else {                                                                     \
			printf("not ok - " CHECK_SUITE ": %s: got %lld, want %lld\n", name, g_, \
			       w_);                                                        \
			check_fails++;                                                     \
		}                                                                          \
	} while (0)

#define CHECK_STR(name, got, want)                                                         \
	do {                                                                               \
		const char *g_ = (got), *w_ = (want);                                      \
		if ((!g_ && !w_) || (g_ && w_ && !strcmp(g_, w_)))                         \
			printf("ok - " CHECK_SUITE ": %s\n", name);                         \
		else {                                                                     \
			printf("not ok - " CHECK_SUITE ": %s: got '%s', want '%s'\n", name,   \
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)");                    \
			check_fails++;                                                     \
		}                                                                          \
	} while (0)

static inline int check_done(void)
{
	fflush(stdout);
	return check_fails > 0;
}

#endif
