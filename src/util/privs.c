// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <sys/capability.h>
#include "util/privs.h"

/* Root, or the two capabilities loading and attaching tc programs needs. */
int check_privileges(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t bpf = CAP_CLEAR, net = CAP_CLEAR, sys = CAP_CLEAR;

	if (caps) {
		cap_get_flag(caps, CAP_BPF, CAP_EFFECTIVE, &bpf);
		cap_get_flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE, &net);
		cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &sys);
		cap_free(caps);
	}
	if ((bpf == CAP_SET || sys == CAP_SET) && net == CAP_SET)
		return 0;
	fprintf(stderr, "tunflow: needs root, or CAP_BPF and CAP_NET_ADMIN (run it with sudo)\n");
	return -EPERM;
}

