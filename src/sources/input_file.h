/* SPDX-License-Identifier: GPL-2.0-only */
/* Files that decide attribution (the sessions file, the OpenVPN status file, the user
 * map), opened the way sshd's StrictModes opens a user's keys: without following a link
 * in the last component, without blocking (a FIFO is refused, never waited on), only a
 * regular file on a real file system (not /proc or /sys), and only when nobody but root
 * and the trusted writer can change it: the file and every directory above it are owned
 * by root, by the user tunflow runs as, or by the writer, and are not writable by group
 * or others, except by the writer's own group; a root-owned sticky directory (/tmp) is
 * fine. Lines are bounded (INPUT_LINE_MAX); a longer line is malformed. */
#ifndef TUNFLOW_INPUT_FILE_H
#define TUNFLOW_INPUT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define INPUT_LINE_MAX 4096        /* bytes in a line, newline included */
#define INPUT_FILE_MAX (64u << 20) /* a file read whole (status, map) */

/* Who besides root (and tunflow's own user) may write the files. */
struct input_trust {
	bool set;
	uid_t uid;
	gid_t gid; /* the writer's primary group: may have write access */
	const char *name;
};

/* Open path for reading. Returns a descriptor, or -errno with a one-line reason (the
 * path, what is wrong and the fix) in why. *st is the open file's. */
int input_open(const char *what, const char *path, const struct input_trust *t, struct stat *st,
               char *why, size_t whylen);
/* Read a whole descriptor (at most INPUT_FILE_MAX bytes; -EFBIG past it). g_malloc'd
 * buffer, NUL-terminated, length in *len. 0 or -errno. */
int input_read_all(int fd, char **buf, size_t *len);
/* input_open() and input_read_all() in one: the whole file in *buf (g_malloc'd,
 * NUL-terminated), or -errno with the one-line reason in why. */
int input_load(const char *what, const char *path, const struct input_trust *t, struct stat *st,
               char **buf, size_t *len, char *why, size_t whylen);

#endif
