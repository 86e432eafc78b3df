// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* setresuid */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <glib.h>
#include "util/log.h"
#include "util/privs.h"
#include "util/text.h"

/* What loading needs, each with why; CAP_SYS_ADMIN stands in for the first two (the
 * kernel's bpf_capable() and perfmon_capable()). */
static const struct {
	cap_value_t cap;
	const char *name, *why;
} needed[] = {
    {CAP_BPF, "CAP_BPF", "loading programs and maps needs CAP_BPF"},
    {CAP_PERFMON, "CAP_PERFMON", "the verifier refuses tunflow's programs without CAP_PERFMON"},
    {CAP_NET_ADMIN, "CAP_NET_ADMIN", "attaching to interfaces needs CAP_NET_ADMIN"},
};
#define NNEEDED (sizeof(needed) / sizeof(needed[0]))

/* What running needs, found by testing: attaching to an interface that appears later and
 * detaching at exit need CAP_NET_ADMIN (a clsact filter over rtnetlink; a tcx link);
 * reading, clearing and swapping the two flow maps goes through their descriptors and
 * needs nothing. A datapath that created maps after start would need CAP_BPF here. */
static const cap_value_t kept[] = {CAP_NET_ADMIN};
#define NKEPT (sizeof(kept) / sizeof(kept[0]))

static bool has(cap_t caps, cap_value_t c)
{
	cap_flag_value_t v = CAP_CLEAR;

	return caps && !cap_get_flag(caps, c, CAP_EFFECTIVE, &v) && v == CAP_SET;
}

int check_privileges(void)
{
	cap_t caps = cap_get_proc();
	bool sys = has(caps, CAP_SYS_ADMIN);
	GString *names = g_string_new(NULL), *why = g_string_new(NULL);
	size_t missing = 0, k = 0;
	int ret = 0;

	for (size_t i = 0; i < NNEEDED; i++)
		missing += !has(caps, needed[i].cap) && !(sys && needed[i].cap != CAP_NET_ADMIN);
	for (size_t i = 0; i < NNEEDED; i++) {
		if (has(caps, needed[i].cap) || (sys && needed[i].cap != CAP_NET_ADMIN))
			continue;
		k++;
		g_string_append_printf(names, "%s%s", needed[i].name,
		                       k == missing       ? ""
		                       : k == missing - 1 ? " and "
		                                          : ", ");
		g_string_append_printf(why, "%s%s", k > 1 ? "; " : "", needed[i].why);
	}
	if (missing == NNEEDED) {
		pr_err("needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (run it with sudo)");
		ret = -EPERM;
	} else if (missing) {
		pr_err("needs %s (or root): %s", names->str, why->str);
		ret = -EPERM;
	}
	g_string_free(names, TRUE);
	g_string_free(why, TRUE);
	if (caps)
		cap_free(caps);
	return ret;
}

/* The calling thread's capabilities: exactly kept[] in effective and permitted. */
static int set_kept(void)
{
	cap_t caps = cap_init();
	int ret = 0;

	if (!caps)
		return -ENOMEM;
	if (cap_set_flag(caps, CAP_PERMITTED, NKEPT, kept, CAP_SET) ||
	    cap_set_flag(caps, CAP_EFFECTIVE, NKEPT, kept, CAP_SET) || cap_set_proc(caps))
		ret = -errno;
	cap_free(caps);
	return ret;
}

static bool is_kept(cap_value_t c)
{
	for (size_t i = 0; i < NKEPT; i++)
		if (kept[i] == c)
			return true;
	return false;
}

/* Every capability but kept[] out of the bounding set, when we may (CAP_SETPCAP). */
static int drop_bounding(void)
{
	cap_t caps = cap_get_proc();
	bool may = has(caps, CAP_SETPCAP);

	if (caps)
		cap_free(caps);
	if (!may)
		return 0;
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		if (is_kept(c) || CAP_IS_SUPPORTED(c) != 1)
			continue;
		if (cap_drop_bound(c))
			return -errno;
	}
	return 0;
}

int privs_drop(const char *user)
{
	struct passwd *pw = NULL;
	char *name = NULL;
	int err;

	if (user) {
		name = text_clean(user, strlen(user), TEXT_NAME_MAX);
		errno = 0;
		pw = getpwnam(user);
		if (!pw) {
			err = errno ? -errno : -ENOENT;
			if (err == -ENOENT)
				pr_err("--user: no user named '%s' (see getent passwd)", name);
			else
				pr_err("--user: cannot look up '%s': %s", name, strerror(-err));
			goto out;
		}
		/* the capabilities survive the uid change, then are cut to kept[] */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)) {
			err = -errno;
			pr_err("cannot keep capabilities across the user change: %s",
			       strerror(-err));
			goto out;
		}
	}
	err = drop_bounding();
	if (!err && cap_reset_ambient() && errno != EINVAL)
		err = -errno;
	if (err) {
		pr_err("cannot give up capabilities: %s", strerror(-err));
		goto out;
	}
	if (pw &&
	    (initgroups(pw->pw_name, pw->pw_gid) || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) ||
	     setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid))) {
		err = -errno;
		pr_err("--user %s: cannot become that user: %s (needs CAP_SETUID and "
		       "CAP_SETGID, or root)",
		       name, strerror(-err));
		goto out;
	}
	err = set_kept();
	if (err) {
		pr_err("cannot keep CAP_NET_ADMIN: %s", strerror(-err));
		goto out;
	}
	if (pw)
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		pr_err("cannot set no_new_privs: %s", strerror(-err));
	}
out:
	g_free(name);
	return err;
}
