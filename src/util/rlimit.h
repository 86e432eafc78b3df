/* SPDX-License-Identifier: GPL-2.0-only */
/* Descriptor limit. tcx holds two descriptors per watched interface (a link each way)
 * and every /metrics connection one more: the common soft limit of 1024 is reached at
 * about 505 interfaces, while the hard limit is usually far above it. */
#ifndef TUNFLOW_RLIMIT_H
#define TUNFLOW_RLIMIT_H

/* Raise the soft RLIMIT_NOFILE to the hard limit; call early in main(), before any
 * thread starts. Returns the soft limit in force afterwards (the old one, with a debug
 * message, when raising fails). */
unsigned long rlimit_nofile_raise(void);
/* The soft RLIMIT_NOFILE now. */
unsigned long rlimit_nofile(void);

#endif
