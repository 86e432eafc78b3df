/* SPDX-License-Identifier: GPL-2.0-only */
/* The privileges tunflow needs, and giving up the rest. */
#ifndef TUNFLOW_PRIVS_H
#define TUNFLOW_PRIVS_H

/* 0 when this process may load and attach tunflow's programs; else -EPERM with a
 * one-line error naming what is missing. */
int check_privileges(void);

#endif
