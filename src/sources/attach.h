/* SPDX-License-Identifier: GPL-2.0-only */
/* Attaching tunflow's programs to an interface's tc hook, and leaving it as found. */
#ifndef TUNFLOW_ATTACH_H
#define TUNFLOW_ATTACH_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>

enum attach_mode {
	MODE_AUTO = 0, /* tcx where the kernel has it, else clsact */
	MODE_TCX,
	MODE_TC,
};

/* One program on one hook (interface + direction). */
struct hook {
	int ifindex;
	char ifname[IF_NAMESIZE];
	int dir;         /* enum flow_dir */
	enum attach_mode mode; /* MODE_TCX or MODE_TC once attached */
	int link_fd;     /* tcx link; -1 otherwise */
	__u32 handle, priority; /* clsact filter */
	bool made_qdisc; /* tunflow created the clsact qdisc for this hook */
};

/* Attach prog_fd; on failure returns -errno, having printed one line naming the
 * interface unless it is -ENODEV (the interface is gone). */
int hook_attach(struct hook *h, int prog_fd, enum attach_mode mode);
/* Remove exactly what hook_attach() added; the qdisc only if tunflow made it and no
 * other filter lives on it. Safe on an interface that is already gone. */
void hook_detach(struct hook *h);
/* --cleanup: remove tunflow filters a killed tunflow left on IFNAME, and the clsact qdisc
 * if a tunflow made it and nothing else uses it. Returns filters removed or -errno. */
int hook_cleanup(const char *ifname);
/* Whether the kernel has tcx (BPF_TCX_INGRESS links). */
bool tcx_supported(void);

const char *mode_name(enum attach_mode m);

#endif
