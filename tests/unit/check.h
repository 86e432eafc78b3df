/* SPDX-License-Identifier: GPL-2.0-only */
/* Plain C unit tests: each assertion prints "ok - SUITE: NAME" or "not ok - SUITE: NAME:
 * got X, want Y", and main() returns check_done(). Define CHECK_SUITE before including. */
#ifndef TUNFLOW_CHECK_H
#define TUNFLOW_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* stderr into a temporary file while a call runs (check_stderr_begin ... _end), then into
 * msg: all of it, or only its first line; without the last newline. */
static FILE *check_stderr_file;
static int check_stderr_saved;

static inline void check_stderr_begin(void)
{
	fflush(stderr);
	check_stderr_file = tmpfile();
	check_stderr_saved = dup(2);
	dup2(fileno(check_stderr_file), 2);
}

static inline void check_stderr_end(char *msg, size_t len, bool first_line)
{
	size_t n;

	fflush(stderr);
	dup2(check_stderr_saved, 2);
	close(check_stderr_saved);
	rewind(check_stderr_file);
	n = fread(msg, 1, len - 1, check_stderr_file);
	msg[n] = 0;
	if (first_line)
		msg[strcspn(msg, "\n")] = 0;
	else if (n && msg[n - 1] == '\n')
		msg[n - 1] = 0;
	fclose(check_stderr_file);
}

static inline int check_done(void)
{
	fflush(stdout);
	return check_fails > 0;
}

#endif
