// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <glib.h>
#include "sources/input_file.h"

static bool trusted_owner(uid_t uid, const struct input_trust *t)
{
	return uid == 0 || uid == geteuid() || (t && t->set && uid == t->uid);
}

/* Whether the file or directory p (its stat in st) may decide attribution; the reason
 * it may not in why. */
static bool trusted(const char *p, const struct stat *st, bool dir, const struct input_trust *t,
                    char *why, size_t whylen)
{
	const char *w = t && t->set ? t->name : NULL;
	bool sticky = dir && (st->st_mode & S_ISVTX) && st->st_uid == 0;

	if (!trusted_owner(st->st_uid, t)) {
		snprintf(why, whylen, "%s is owned by uid %u, not root%s%s: chown root %s%s", p,
		         (unsigned)st->st_uid, w ? " or " : "", w ? w : "", p,
		         w ? "" : ", or name its writer with --trusted-writer USER");
		return false;
	}
	if ((st->st_mode & S_IWOTH) && !sticky) {
		snprintf(why, whylen, "%s is writable by anyone (mode %04o): chmod o-w %s", p,
		         (unsigned)(st->st_mode & 07777), p);
		return false;
	}
	if ((st->st_mode & S_IWGRP) && !sticky && !(t && t->set && st->st_gid == t->gid)) {
		snprintf(why, whylen, "%s is writable by group %u (mode %04o): chmod g-w %s%s", p,
		         (unsigned)st->st_gid, (unsigned)(st->st_mode & 07777), p,
		         w ? "" : ", or name its writer with --trusted-writer USER");
		return false;
	}
	return true;
}

static int check_dirs(const char *path, const struct input_trust *t, char *why, size_t whylen)
{
	char *dir = g_path_get_dirname(path);
	char *real = realpath(dir, NULL);
	int err = 0;

	g_free(dir);
	if (!real) {
		err = -errno;
		snprintf(why, whylen, "cannot resolve the directory of %s: %s", path,
		         strerror(errno));
		return err;
	}
	for (char *end = real + strlen(real);;) {
		struct stat st;

		*end = 0;
		if (stat(*real ? real : "/", &st)) {
			err = -errno;
			snprintf(why, whylen, "cannot stat %s: %s", *real ? real : "/",
			         strerror(errno));
			break;
		}
		if (!trusted(*real ? real : "/", &st, true, t, why, whylen)) {
			err = -EPERM;
			break;
		}
		if (!*real)
			break;
		end = strrchr(real, '/');
	}
	free(real);
	return err;
}

int input_open(const char *what, const char *path, const struct input_trust *t, struct stat *st,
               char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	struct statfs fs;
	int err;

	if (fd < 0) {
		err = -errno;
		if (errno == ELOOP)
			snprintf(why, whylen, "%s: %s is a symbolic link: name the file itself",
			         what, path);
		else
			snprintf(why, whylen, "cannot read %s %s: %s", what, path, strerror(errno));
		return err;
	}
	if (fstat(fd, st) || fstatfs(fd, &fs)) {
		err = -errno;
		snprintf(why, whylen, "cannot read %s %s: %s", what, path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st->st_mode) || fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC) {
		err = S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
		snprintf(why, whylen, "%s: %s is not a regular file: name a file", what, path);
		goto fail;
	}
	if (!trusted(path, st, false, t, why, whylen))
		err = -EPERM;
	else
		err = check_dirs(path, t, why, whylen);
	if (err) {
		/* "the user map: /etc/x is writable by anyone ...": which file, and the fix */
		char *said = g_strdup(why);

		snprintf(why, whylen, "%s: %s", what, said);
		g_free(said);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

int input_read_all(int fd, char **buf, size_t *len)
{
	GString *s = g_string_sized_new(4096);
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			int err = errno == EINTR ? 0 : -errno;

			if (!err)
				continue;
			g_string_free(s, TRUE);
			return err;
		}
		if (s->len + n > INPUT_FILE_MAX) {
			g_string_free(s, TRUE);
			return -EFBIG;
		}
		g_string_append_len(s, chunk, n);
	}
	*len = s->len;
	*buf = g_string_free(s, FALSE);
	return 0;
}

int input_load(const char *what, const char *path, const struct input_trust *t, struct stat *st,
               char **buf, size_t *len, char *why, size_t whylen)
{
	int fd = input_open(what, path, t, st, why, whylen), err;

	if (fd < 0)
		return fd;
	err = input_read_all(fd, buf, len);
	close(fd);
	if (err)
		snprintf(why, whylen, "cannot read %s %s: %s", what, path, strerror(-err));
	return err;
}
