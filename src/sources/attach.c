// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_cls.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <glib.h>
#include "sources/attach.h"
#include "sources/netlink.h"
#include "util/log.h"
#include "util/text.h"
#include "flow.h"

/* Not in the UAPI headers of older distributions. */
#define TUNFLOW_BPF_TCX_INGRESS 46
#define TUNFLOW_BPF_TCX_EGRESS 47
#define TUNFLOW_BPF_F_BEFORE (1U << 3)

#define STATE_PARENT                                                                               \
	"/run/tunflow" /* the session hook's directory; may be the VPN                             \
	                * daemon's user's: nothing of root's lives in it */
#define STATE_DIR STATE_PARENT "/state"
#define PROG_PREFIX "tunflow_"
#define MAX_OWNED 8 /* program ids in one owner file */

const char *mode_name(enum attach_mode m)
{
	return m == MODE_TCX ? "tcx" : m == MODE_TC ? "tc" : "auto";
}

/* An interface name for a message: cleaned, g_free'd by the caller. */
static char *shown(const char *name)
{
	return text_clean(name, strnlen(name, IF_NAMESIZE), TEXT_NAME_MAX);
}

/* ---- the state directory and the files in it ---- */

static int state_fd = -1;
static char state_path[PATH_MAX];
static bool owner_registered;

int hook_state_open(void)
{
	const char *env = getenv("TUNFLOW_STATE_DIR");
	struct stat st;
	int fd, err;

	if (state_fd >= 0)
		return 0;
	snprintf(state_path, sizeof(state_path), "%s", env && *env ? env : STATE_DIR);
	if (!(env && *env))
		mkdir(STATE_PARENT, 0755); /* the hook may have made it already */
	if (mkdir(state_path, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create the state directory %s: %s", state_path, strerror(-err));
		return err;
	}
	fd = open(state_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot open the state directory %s: %s%s", state_path, strerror(-err),
		       err == -ELOOP || err == -ENOTDIR
		           ? " (a symlink or not a directory: remove it, tunflow makes a new one)"
		           : "");
		return err;
	}
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		pr_err("refusing the state directory %s: owned by uid %u, mode %04o; it must "
		       "belong to uid %u and be writable by no one else (remove it, tunflow "
		       "makes a new one)",
		       state_path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
		       (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	state_fd = fd;
	return 0;
}

/* Write a whole file in the state directory, never through a link. 0 or -errno. */
static int state_write(const char *name, const char *text)
{
	size_t len = strlen(text);
	int fd, err = 0;

	if (state_fd < 0)
		return -EBADF;
	fd = openat(state_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* Read a regular file of the state directory into buf (NUL-terminated). */
static int state_read(const char *name, char *buf, size_t size)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = openat(state_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static bool state_has(const char *name)
{
	struct stat st;

	return state_fd >= 0 && !fstatat(state_fd, name, &st, AT_SYMLINK_NOFOLLOW) &&
	       S_ISREG(st.st_mode);
}

static void state_remove(const char *name)
{
	if (state_fd >= 0)
		unlinkat(state_fd, name, 0); /* a link is removed, never followed */
}

/* The start time of a process (clock ticks after boot, /proc/PID/stat field 22): with
 * the PID, it names one process even after the PID is reused. 0 when it is gone. */
static unsigned long long proc_start(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	if (!p)
		return 0;
	/* fields 3 (state) to 21 follow, then the start time */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

/* ifindexes repeat across network namespaces: a qdisc marker names the namespace too */
static unsigned long netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (unsigned long)st.st_ino;
}

static void qdisc_marker(int ifindex, char *buf, size_t len)
{
	snprintf(buf, len, "qdisc-%lu-%d", netns_ino(), ifindex);
}

/* A tunflow process and the programs it attaches, from an owner file. */
struct owner {
	int pid;
	bool alive;
	__u32 ids[MAX_OWNED];
	int nids;
};

static __u32 prog_id(int prog_fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? 0 : info.id;
}

static __u32 owned[MAX_OWNED]; /* program ids named in this process's owner file */
static int nowned;

static bool owns(__u32 id)
{
	for (int i = 0; i < nowned; i++)
		if (owned[i] == id)
			return true;
	return false;
}

int hook_owner_register(const int *prog_fds, int n)
{
	char text[256], name[64], tmp[64];
	size_t len;
	int err, pid = getpid();

	err = hook_state_open();
	if (err)
		return err;
	for (int i = 0; i < n; i++) {
		__u32 id = prog_id(prog_fds[i]);

		if (id && !owns(id) && nowned < MAX_OWNED)
			owned[nowned++] = id;
	}
	len = snprintf(text, sizeof(text), "pid %d start %llu progs", pid, proc_start(pid));
	for (int i = 0; i < nowned; i++)
		len += snprintf(text + len, sizeof(text) - len, " %u", owned[i]);
	snprintf(text + len, sizeof(text) - len, "\n"); /* 8 ids of 10 digits: room enough */
	/* whole or not at all: a tunflow starting meanwhile reads either no file or this */
	snprintf(name, sizeof(name), "owner-%d", pid);
	snprintf(tmp, sizeof(tmp), ".owner-%d.tmp", pid);
	err = state_write(tmp, text);
	if (!err && renameat(state_fd, tmp, state_fd, name))
		err = -errno;
	if (err) {
		state_remove(tmp);
		pr_err("cannot write %s/%s: %s", state_path, name, strerror(-err));
		return err;
	}
	owner_registered = true;
	return 0;
}

/* "pid PID start TICKS progs" at the start of an owner file: the offset after it, or -1. */
static int owner_head(const char *buf, int *pid, unsigned long long *start)
{
	const char *p = buf;
	char *end;
	long v;

	if (strncmp(p, "pid ", 4) != 0)
		return -1;
	errno = 0;
	v = strtol(p + 4, &end, 10);
	if (errno || end == p + 4 || v <= 0 || v > INT32_MAX || strncmp(end, " start ", 7) != 0)
		return -1;
	*pid = (int)v;
	p = end + 7;
	*start = strtoull(p, &end, 10);
	if (errno || end == p || strncmp(end, " progs", 6) != 0)
		return -1;
	return (int)(end + 6 - buf);
}

void hook_owner_unregister(void)
{
	char name[64];

	if (!owner_registered)
		return;
	snprintf(name, sizeof(name), "owner-%d", getpid());
	state_remove(name);
	owner_registered = false;
	nowned = 0;
}

/* Every owner file; those of processes that are gone are removed on the way (their
 * filters, wherever they are, are leftovers with or without the file). */
static GArray *owners_read(void)
{
	GArray *owners = g_array_new(FALSE, TRUE, sizeof(struct owner));
	struct dirent *de;
	DIR *d;
	int fd;

	if (state_fd < 0)
		return owners;
	fd = openat(state_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return owners;
	}
	while ((de = readdir(d))) {
		struct owner o = {0};
		unsigned long long start;
		char buf[512], *p;
		int off = 0;

		if (strncmp(de->d_name, "owner-", 6) != 0 ||
		    state_read(de->d_name, buf, sizeof(buf)) ||
		    (off = owner_head(buf, &o.pid, &start)) < 0)
			continue;
		o.alive = o.pid > 0 && start && proc_start(o.pid) == start;
		for (p = buf + off; o.nids < MAX_OWNED;) {
			char *end;
			unsigned long id = strtoul(p, &end, 10);

			if (end == p)
				break;
			o.ids[o.nids++] = (__u32)id;
			p = end;
		}
		if (!o.alive)
			state_remove(de->d_name); /* kept below, to name the PID */
		g_array_append_val(owners, o);
	}
	closedir(d);
	return owners;
}

static const struct owner *owner_of(const GArray *owners, __u32 id)
{
	for (guint i = 0; i < owners->len; i++) {
		const struct owner *o = &g_array_index(owners, struct owner, i);

		for (int j = 0; j < o->nids; j++)
			if (o->ids[j] == id)
				return o;
	}
	return NULL;
}

/* ---- attaching ---- */

bool tcx_supported(void)
{
	/* A link on an ifindex no interface has (0x7fffffff) fails with ENODEV where tcx
	 * exists, EINVAL where the attach type is unknown. Any loaded SCHED_CLS program
	 * would do; the probe needs none: a bad program fd is reported before the attach
	 * type on kernels without tcx. */
	static int cached = -1;
	struct bpf_insn insns[] = {
	    {.code = 0xb7, .dst_reg = 0, .imm = -1}, /* r0 = -1 */
	    {.code = 0x95},                          /* exit */
	};
	int prog, link;

	if (cached >= 0)
		return cached;
	prog = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "tunflow_probe", "GPL", insns, 2, NULL);
	if (prog < 0) {
		cached = 0;
		return false;
	}
	link = bpf_link_create(prog, 0x7fffffff, TUNFLOW_BPF_TCX_INGRESS, NULL);
	cached = link < 0 && errno == ENODEV;
	if (link >= 0)
		close(link);
	close(prog);
	return cached;
}

static int attach_tcx(struct hook *h, int prog_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = TUNFLOW_BPF_F_BEFORE);
	int type = h->dir == DIR_INGRESS ? TUNFLOW_BPF_TCX_INGRESS : TUNFLOW_BPF_TCX_EGRESS;
	int fd;

	/* First in line, so that a program before us ending the chain cannot hide packets;
	 * tunflow returns TCX_NEXT, so everything after it still runs. */
	fd = bpf_link_create(prog_fd, h->ifindex, type, &opts);
	if (fd < 0)
		return -errno;
	h->link_fd = fd;
	h->mode = MODE_TCX;
	return 0;
}

static void tc_hook_init(struct bpf_tc_hook *th, int ifindex, int dir)
{
	memset(th, 0, sizeof(*th));
	th->sz = sizeof(*th);
	th->ifindex = ifindex;
	th->attach_point = dir == DIR_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

/* Filters on one clsact direction, from an RTM_GETTFILTER dump. */
struct filter {
	__u32 handle, priority, prog_id;
};

struct filter_list {
	struct filter f[64];
	int n;
};

static int filter_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(attr) == TCA_BPF_ID)
		tb[TCA_BPF_ID] = attr;
	return MNL_CB_OK;
}

static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct filter_list *fl = data;
	struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *opt[TCA_BPF_MAX + 1] = {0};
	const char *kind = NULL;

	mnl_attr_for_each(attr, nlh, sizeof(*tcm))
	{
		if (mnl_attr_get_type(attr) == TCA_KIND)
			kind = mnl_attr_get_str(attr);
		else if (mnl_attr_get_type(attr) == TCA_OPTIONS)
			mnl_attr_parse_nested(attr, filter_attr_cb, opt);
	}
	/* the dump lists the chain head (handle 0) as well as each filter */
	if (tcm->tcm_handle && fl->n < (int)(sizeof(fl->f) / sizeof(fl->f[0]))) {
		struct filter *f = &fl->f[fl->n++];

		f->handle = tcm->tcm_handle;
		f->priority = TC_H_MAJ(tcm->tcm_info) >> 16;
		f->prog_id = kind && !strcmp(kind, "bpf") && opt[TCA_BPF_ID]
		                 ? mnl_attr_get_u32(opt[TCA_BPF_ID])
		                 : 0;
	}
	return MNL_CB_OK;
}

static int list_filters(int ifindex, int dir, struct filter_list *fl)
{
	struct tcmsg tcm = {
	    .tcm_family = AF_UNSPEC,
	    .tcm_ifindex = ifindex,
	    .tcm_parent =
	        TC_H_MAKE(TC_H_CLSACT, dir == DIR_INGRESS ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS),
	};

	fl->n = 0;
	return nl_dump(RTM_GETTFILTER, &tcm, sizeof(tcm), filter_cb, fl);
}

static int clsact_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(*tcm)) if (mnl_attr_get_type(attr) == TCA_KIND &&
	                                               !strcmp(mnl_attr_get_str(attr), "clsact"))
	    g_array_append_val((GArray *)data, tcm->tcm_ifindex);
	return MNL_CB_OK;
}

/* The ifindexes with a clsact qdisc in this network namespace. */
static int list_clsact(GArray *ifindexes)
{
	struct tcmsg tcm = {.tcm_family = AF_UNSPEC};

	return nl_dump(RTM_GETQDISC, &tcm, sizeof(tcm), clsact_cb, ifindexes);
}

static bool prog_is_ours(__u32 id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool ours;

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       !strncmp(info.name, PROG_PREFIX, strlen(PROG_PREFIX));
	close(fd);
	return ours;
}

/* Delete the clsact qdisc if tunflow made it (made, or a marker says so) and no filter
 * of anyone is left on it; the marker goes with it. */
static void drop_qdisc(int ifindex, bool made)
{
	struct filter_list fl;
	struct bpf_tc_hook th;
	char name[64];

	qdisc_marker(ifindex, name, sizeof(name));
	if (!made && !state_has(name))
		return;
	for (int dir = DIR_INGRESS; dir <= DIR_EGRESS; dir++) {
		int err = list_filters(ifindex, dir, &fl);

		if (err == -ENODEV) {
			state_remove(name); /* the interface went, and its qdisc with it */
			return;
		}
		if (err || fl.n)
			return; /* still in use (or unreadable): leave it */
	}
	tc_hook_init(&th, ifindex, DIR_INGRESS);
	th.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&th);
	state_remove(name);
}

static int attach_tc(struct hook *h, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	struct bpf_tc_hook th;
	char name[64];
	int err;

	/* named in the owner file before it runs anywhere, so that no other tunflow
	 * takes it for a leftover */
	if (!owns(prog_id(prog_fd))) {
		err = hook_owner_register(&prog_fd, 1);
		if (err)
			return err;
	}
	qdisc_marker(h->ifindex, name, sizeof(name));
	tc_hook_init(&th, h->ifindex, h->dir);
	th.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS; /* the clsact qdisc */
	err = bpf_tc_hook_create(&th);
	if (err && err != -EEXIST)
		return err;
	if (!err) {
		char text[64];

		h->made_qdisc = true;
		snprintf(text, sizeof(text), "pid %d start %llu\n", getpid(), proc_start(getpid()));
		err = state_write(name, text);
		if (err) {
			char *n = shown(h->ifname);

			pr_warn("cannot record the clsact qdisc made on %s in %s/%s: %s", n,
			        state_path, name, strerror(-err));
			g_free(n);
		}
	} else if (state_has(name)) {
		h->made_qdisc = true; /* another hook of ours made it a moment ago */
	}
	/* First in line, as with tcx: priority 1, or the first free one after it when
	 * another kind of filter holds it (the kernel refuses mixing kinds at one
	 * priority with EINVAL). Left to the kernel, the priority would come after
	 * existing filters, and one ending the chain would hide packets from tunflow. */
	tc_hook_init(&th, h->ifindex, h->dir);
	for (__u32 prio = 1; prio <= 64; prio++) {
		opts.priority = prio;
		opts.handle = 0;
		err = bpf_tc_attach(&th, &opts);
		if (err != -EINVAL && err != -EEXIST)
			break;
	}
	if (err) {
		/* no filter, no qdisc of ours: what this attach made goes again */
		if (h->made_qdisc)
			drop_qdisc(h->ifindex, true);
		h->made_qdisc = false;
		return err;
	}
	h->handle = opts.handle;
	h->priority = opts.priority;
	h->mode = MODE_TC;
	return 0;
}

int hook_attach(struct hook *h, int prog_fd, enum attach_mode mode)
{
	int err;

	h->link_fd = -1;
	h->made_qdisc = false;
	if (mode == MODE_TCX || (mode == MODE_AUTO && tcx_supported()))
		err = attach_tcx(h, prog_fd);
	else
		err = attach_tc(h, prog_fd);
	/* ENODEV: the interface went while being attached; the caller decides whether
	 * that is worth a word */
	if (err && err != -ENODEV) {
		char *n = shown(h->ifname);

		pr_err("cannot attach to %s %s (%s): %s", n,
		       h->dir == DIR_INGRESS ? "ingress" : "egress",
		       mode == MODE_TC    ? "clsact"
		       : mode == MODE_TCX ? "tcx"
		                          : "auto",
		       strerror(-err));
		g_free(n);
		if (mode == MODE_TCX && err == -EINVAL)
			pr_err("this kernel has no tcx (needs Linux 6.6); use --attach tc");
	}
	return err;
}

void hook_detach(struct hook *h)
{
	if (h->mode == MODE_TCX) {
		if (h->link_fd >= 0)
			close(h->link_fd);
		h->link_fd = -1;
	} else if (h->mode == MODE_TC) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = h->handle,
		                    .priority = h->priority);
		struct bpf_tc_hook th;

		tc_hook_init(&th, h->ifindex, h->dir);
		bpf_tc_detach(&th, &opts); /* ENOENT/ENODEV: the interface went first */
		if (h->made_qdisc)
			drop_qdisc(h->ifindex, true);
	}
	h->mode = MODE_AUTO;
}

/* ---- what a killed tunflow left ---- */

struct sweep {
	const GArray *owners;
	int removed;
	int live_pid;    /* a running tunflow's filter was kept */
	int dead_pid;    /* the owner of a removed filter, when one was recorded */
	bool other_dead; /* a removed filter of another or no recorded owner */
};

/* Remove the tunflow filters on ifindex whose owner is gone, then tunflow's qdisc if
 * that emptied it. 0 or -errno. */
static int sweep_iface(int ifindex, struct sweep *s)
{
	struct filter_list fl;

	for (int dir = DIR_INGRESS; dir <= DIR_EGRESS; dir++) {
		int err = list_filters(ifindex, dir, &fl);

		if (err)
			return err;
		for (int i = 0; i < fl.n; i++) {
			DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = fl.f[i].handle,
			                    .priority = fl.f[i].priority);
			const struct owner *o;
			struct bpf_tc_hook th;

			if (!fl.f[i].prog_id || !prog_is_ours(fl.f[i].prog_id))
				continue;
			o = owner_of(s->owners, fl.f[i].prog_id);
			if (o && o->alive) {
				s->live_pid = o->pid;
				continue;
			}
			tc_hook_init(&th, ifindex, dir);
			if (bpf_tc_detach(&th, &opts))
				continue;
			s->removed++;
			if (o && (!s->dead_pid || s->dead_pid == o->pid))
				s->dead_pid = o->pid;
			else
				s->other_dead = true;
		}
	}
	drop_qdisc(ifindex, false);
	return 0;
}

/* Qdisc markers of this namespace whose interface has no clsact qdisc any more. */
static void forget_stale_markers(const GArray *clsact_before)
{
	char prefix[64];
	struct dirent *de;
	size_t plen;
	DIR *d;
	int fd;

	plen = snprintf(prefix, sizeof(prefix), "qdisc-%lu-", netns_ino());
	fd = openat(state_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		char *end;
		long ifindex;
		bool there = false;

		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		errno = 0;
		ifindex = strtol(de->d_name + plen, &end, 10);
		if (errno || *end || ifindex <= 0 || ifindex > INT_MAX)
			continue;
		for (guint i = 0; i < clsact_before->len && !there; i++)
			there = g_array_index(clsact_before, int, i) == ifindex;
		if (!there)
			state_remove(de->d_name);
	}
	closedir(d);
}

int hook_remove_leftovers(void)
{
	GArray *ifs = g_array_new(FALSE, FALSE, sizeof(int));
	struct sweep s = {0};
	int err, nifs = 0, first = 0;

	err = hook_state_open();
	if (err)
		goto out;
	s.owners = owners_read();
	/* markers first, then the qdiscs: a marker written after the dump is kept */
	err = list_clsact(ifs);
	if (err) {
		pr_err("cannot list the clsact qdiscs: %s", strerror(-err));
		goto out;
	}
	for (guint i = 0; i < ifs->len; i++) {
		int ifindex = g_array_index(ifs, int, i), before = s.removed;

		if (sweep_iface(ifindex, &s))
			continue; /* went meanwhile */
		if (s.removed > before && !nifs++)
			first = ifindex;
	}
	forget_stale_markers(ifs);
	if (s.removed) {
		char name[IF_NAMESIZE] = "", who[64], *n;

		if (!if_indextoname(first, name))
			snprintf(name, sizeof(name), "if%d", first);
		n = shown(name);
		if (s.dead_pid)
			snprintf(who, sizeof(who), "PID %d%s", s.dead_pid,
			         s.other_dead ? " and others" : "");
		else
			snprintf(who, sizeof(who), "no owner recorded");
		pr_warn("removed %d tc filter%s left by a killed tunflow (%s) on %s%s", s.removed,
		        s.removed == 1 ? "" : "s", who, n, nifs > 1 ? " and other interfaces" : "");
		g_free(n);
	}
	err = s.removed;
out:
	if (s.owners)
		g_array_free((GArray *)s.owners, TRUE);
	g_array_free(ifs, TRUE);
	return err;
}

int hook_cleanup(const char *ifname)
{
	int ifindex = if_nametoindex(ifname), err;
	struct sweep s = {0};
	char *n = shown(ifname);

	if (!ifindex) {
		pr_err("no interface named '%s' (see 'ip link')", n);
		err = -ENODEV;
		goto out;
	}
	err = hook_state_open();
	if (err)
		goto out;
	s.owners = owners_read();
	err = sweep_iface(ifindex, &s);
	g_array_free((GArray *)s.owners, TRUE);
	if (err) {
		pr_err("cannot list tc filters on %s: %s", n, strerror(-err));
		goto out;
	}
	if (s.live_pid) {
		pr_err("%s: the tunflow filters left there belong to tunflow PID %d, which is "
		       "running: not removed (stop it, it removes its own)",
		       n, s.live_pid);
		err = -EBUSY;
		goto out;
	}
	err = s.removed;
out:
	g_free(n);
	return err;
}
