// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
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
#include "sources/attach.h"
#include "flow.h"

/* Not in the UAPI headers of older distributions. */
#define TUNFLOW_BPF_TCX_INGRESS 46
#define TUNFLOW_BPF_TCX_EGRESS 47
#define TUNFLOW_BPF_F_BEFORE (1U << 3)

/* Marker files say "a tunflow made this clsact qdisc", so that --cleanup after a kill
 * removes a qdisc tunflow made and never one that was there before. */
#define STATE_DIR "/run/tunflow"
#define PROG_PREFIX "tunflow_"

const char *mode_name(enum attach_mode m)
{
	return m == MODE_TCX ? "tcx" : m == MODE_TC ? "tc" : "auto";
}

static void marker_path(int ifindex, char *buf, size_t len)
{
	struct stat st;
	unsigned long ns = 0;

	/* ifindexes repeat across network namespaces: qualify by the namespace inode */
	if (stat("/proc/self/ns/net", &st) == 0)
		ns = st.st_ino;
	snprintf(buf, len, STATE_DIR "/qdisc-%lu-%d", ns, ifindex);
}

static void marker_set(int ifindex, bool on)
{
	char path[128];
	int fd;

	marker_path(ifindex, path, sizeof(path));
	if (!on) {
		unlink(path);
		return;
	}
	mkdir(STATE_DIR, 0755);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
}

static bool marker_get(int ifindex)
{
	char path[128];

	marker_path(ifindex, path, sizeof(path));
	return access(path, F_OK) == 0;
}

bool tcx_supported(void)
{
	/* A link on ifindex 0 fails with ENODEV where tcx exists, EINVAL where the attach
	 * type is unknown. Any loaded SCHED_CLS program would do; the probe needs none:
	 * a bad program fd is reported before the attach type on kernels without tcx. */
	static int cached = -1;
	struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = -1 }, /* r0 = -1 */
		{ .code = 0x95 },                         /* exit */
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

static int attach_tc(struct hook *h, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	struct bpf_tc_hook th;
	int err;

	tc_hook_init(&th, h->ifindex, h->dir);
	th.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS; /* the clsact qdisc */
	err = bpf_tc_hook_create(&th);
	if (err && err != -EEXIST)
		return err;
	if (!err) {
		h->made_qdisc = true;
		marker_set(h->ifindex, true);
	} else if (marker_get(h->ifindex)) {
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
	if (err)
		return err;
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
		fprintf(stderr, "tunflow: cannot attach to %s %s (%s): %s\n", h->ifname,
			h->dir == DIR_INGRESS ? "ingress" : "egress",
			mode == MODE_TC ? "clsact" : mode == MODE_TCX ? "tcx" : "auto",
			strerror(-err));
		if (mode == MODE_TCX && err == -EINVAL)
			fprintf(stderr, "tunflow: this kernel has no tcx (needs Linux 6.6); use "
					"--attach tc\n");
	}
	return err;
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

	mnl_attr_for_each(attr, nlh, sizeof(*tcm)) {
		if (mnl_attr_get_type(attr) == TCA_KIND)
			kind = mnl_attr_get_str(attr);
		else if (mnl_attr_get_type(attr) == TCA_OPTIONS)
			mnl_attr_parse_nested(attr, filter_attr_cb, opt);
	}
	if (fl->n < (int)(sizeof(fl->f) / sizeof(fl->f[0]))) {
		struct filter *f = &fl->f[fl->n++];

		f->handle = tcm->tcm_handle;
		f->priority = TC_H_MAJ(tcm->tcm_info) >> 16;
		f->prog_id = kind && !strcmp(kind, "bpf") && opt[TCA_BPF_ID]
				     ? mnl_attr_get_u32(opt[TCA_BPF_ID])
				     : 0;
		/* the dump lists the chain head (handle 0) as well as each filter */
		if (!f->handle)
			fl->n--;
	}
	return MNL_CB_OK;
}

static int list_filters(int ifindex, int dir, struct filter_list *fl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	unsigned int seq = 1, portid;
	int ret;

	fl->n = 0;
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = TC_H_MAKE(TC_H_CLSACT,
				    dir == DIR_INGRESS ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	while ((ret = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, ret, seq, portid, filter_cb, fl);
		if (ret <= 0)
			break;
	}
	ret = ret < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return ret;
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

/* Delete the clsact qdisc if tunflow made it and no filter of anyone is left on it. */
static void drop_qdisc_if_ours(int ifindex)
{
	struct filter_list fl;
	struct bpf_tc_hook th;

	if (!marker_get(ifindex))
		return;
	for (int dir = DIR_INGRESS; dir <= DIR_EGRESS; dir++)
		if (list_filters(ifindex, dir, &fl) || fl.n)
			return; /* still in use (or unreadable): leave it */
	tc_hook_init(&th, ifindex, DIR_INGRESS);
	th.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&th);
	marker_set(ifindex, false);
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
			drop_qdisc_if_ours(h->ifindex);
	}
	h->mode = MODE_AUTO;
}

int hook_cleanup(const char *ifname)
{
	int ifindex = if_nametoindex(ifname), removed = 0, err;
	struct filter_list fl;

	if (!ifindex) {
		fprintf(stderr, "tunflow: no interface named '%s' (see 'ip link')\n", ifname);
		return -ENODEV;
	}
	for (int dir = DIR_INGRESS; dir <= DIR_EGRESS; dir++) {
		err = list_filters(ifindex, dir, &fl);
		if (err) {
			fprintf(stderr, "tunflow: cannot list tc filters on %s: %s\n", ifname,
				strerror(-err));
			return err;
		}
		for (int i = 0; i < fl.n; i++) {
			DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = fl.f[i].handle,
					    .priority = fl.f[i].priority);
			struct bpf_tc_hook th;

			if (!fl.f[i].prog_id || !prog_is_ours(fl.f[i].prog_id))
				continue;
			tc_hook_init(&th, ifindex, dir);
			if (!bpf_tc_detach(&th, &opts))
				removed++;
		}
	}
	drop_qdisc_if_ours(ifindex);
	return removed;
}
