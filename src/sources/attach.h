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
	char ifname[IF_NAMESIZE]; /* the kernel's name (raw; cleaned where shown) */
	int dir;                  /* enum flow_dir */
	enum attach_mode mode;    /* MODE_TCX or MODE_TC once attached */
	int link_fd;              /* tcx link; -1 otherwise */
	__u32 handle, priority;   /* clsact filter */
	bool made_qdisc;          /* tunflow created the clsact qdisc for this hook */
};

/* Attach prog_fd; on failure returns -errno, having printed one line naming the
 * interface unless it is -ENODEV (the interface is gone). In tc mode, hook_owner_register()
 * comes first. */
int hook_attach(struct hook *h, int prog_fd, enum attach_mode mode);
/* Remove exactly what hook_attach() added; the qdisc only if tunflow made it and no
 * other filter lives on it. Safe on an interface that is already gone. */
void hook_detach(struct hook *h);

/* tc mode leaves state behind a kill -9: clsact filters running tunflow's programs,
 * and the qdisc tunflow made for them. What tunflow made is recorded in a root-only
 * state directory: /run/tunflow/state, or $TUNFLOW_STATE_DIR (tests). It must be a
 * directory owned by tunflow's user and writable by no one else, and not a symlink;
 * tunflow creates it (mode 0700) when it is missing. Files in it are never followed
 * through links:
 *   owner-PID              "pid PID start STARTTIME progs ID..." of a running tunflow
 *   qdisc-NETNS-IFINDEX    a tunflow made the clsact qdisc of IFINDEX in NETNS
 * A tunflow filter is a leftover when no live tunflow's owner file names its program.
 *
 * Open (create) and check the state directory. 0, or -errno with one line printed. */
int hook_state_open(void);
/* Record this process as the owner of the programs prog_fds[0..n) before attaching
 * them in tc mode. 0 or -errno (one line printed). */
int hook_owner_register(const int *prog_fds, int n);
/* At exit, after every hook is detached. */
void hook_owner_unregister(void);
/* At start: remove the tunflow filters a killed tunflow left on any interface of this
 * network namespace (and the qdiscs it made for them), and say so in one line. Returns
 * how many were removed, or -errno. */
int hook_remove_leftovers(void);
/* --cleanup: remove tunflow filters a killed tunflow left on IFNAME, and the clsact qdisc
 * if a tunflow made it and nothing else uses it. Filters of a running tunflow are kept:
 * then -EBUSY, after one line naming its PID. Returns filters removed or -errno. */
int hook_cleanup(const char *ifname);
/* Whether the kernel has tcx (BPF_TCX_INGRESS links). */
bool tcx_supported(void);

const char *mode_name(enum attach_mode m);

#endif
