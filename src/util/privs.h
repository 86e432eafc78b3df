/* SPDX-License-Identifier: GPL-2.0-only */
/* The privileges tunflow needs, and giving up the rest.
 *
 * Loading needs root, or CAP_BPF (programs and maps), CAP_PERFMON (the verifier refuses
 * tunflow's programs without it) and CAP_NET_ADMIN (attaching). Running needs only
 * CAP_NET_ADMIN (attaching to interfaces that appear later, detaching at exit): the two
 * flow maps are made at start and used through their descriptors. */
#ifndef TUNFLOW_PRIVS_H
#define TUNFLOW_PRIVS_H

/* 0 when this process may load and attach tunflow's programs; else -EPERM with a
 * one-line error naming the missing capabilities ("needs CAP_PERFMON (or root): ..."). */
int check_privileges(void);

/* After loading, before any thread starts: keep only CAP_NET_ADMIN (effective and
 * permitted; the bounding set too when CAP_SETPCAP allows; inheritable and ambient
 * empty), set no_new_privs, and with user (non-NULL) become that user: its uid, gid and
 * groups, keeping that capability.
 *
 * Capabilities belong to a thread: a thread started before this call keeps all of its
 * capabilities (the uid change reaches every thread, the capability drop does not). Call
 * it while the process has one thread. 0, or -errno with a one-line error printed. */
int privs_drop(const char *user);

#endif
