// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if_arp.h>
#include "ifaces.h"
#include "sink.h"

#ifndef ARPHRD_IP6GRE
#define ARPHRD_IP6GRE 823
#endif
#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif

int link_layer(unsigned short arphrd)
{
	switch (arphrd) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return 1;
	case ARPHRD_NONE:    /* tun (IFF_TUN), WireGuard, ocserv vpnsN */
	case ARPHRD_PPP:
	case ARPHRD_RAWIP:
	case ARPHRD_TUNNEL:  /* ipip */
	case ARPHRD_TUNNEL6: /* ip6tnl */
	case ARPHRD_SIT:
	case ARPHRD_IPGRE:
	case ARPHRD_IP6GRE:
		return 0;
	}
	return -1;
}

int iface_arphrd(const char *name)
{
	struct ifreq ifr;
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ret = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : ifr.ifr_hwaddr.sa_family;
	close(fd);
	return ret;
}

static bool is_glob(const char *p)
{
	return strpbrk(p, "*?[") != NULL;
}

int ifaces_resolve(char **patterns, int npatterns, struct iface **out, int *count)
{
	struct if_nameindex *all = if_nameindex(), *it;
	struct iface *list = NULL;
	int n = 0, err = 0;

	*out = NULL;
	*count = 0;
	if (!all) {
		fprintf(stderr, "tunflow: cannot list interfaces: %s\n", strerror(errno));
		return -errno;
	}
	for (int p = 0; p < npatterns; p++) {
		if (strlen(patterns[p]) >= IF_NAMESIZE && !is_glob(patterns[p])) {
			fprintf(stderr, "tunflow: '%s' is too long for an interface name (max %d)\n",
				patterns[p], IF_NAMESIZE - 1);
			err = -EINVAL;
			goto out;
		}
	}
	for (it = all; it->if_index; it++) {
		bool want = npatterns == 0;
		int hrd, ll;

		for (int p = 0; p < npatterns && !want; p++)
			want = !fnmatch(patterns[p], it->if_name, 0);
		if (!want)
			continue;
		hrd = iface_arphrd(it->if_name);
		ll = hrd < 0 ? -1 : link_layer(hrd);
		if (npatterns == 0 && ll != 0)
			continue; /* default: L3 tunnels only */
		if (ll < 0) {
			fprintf(stderr,
				"tunflow: %s has link type %d, which tunflow cannot parse (it "
				"reads Ethernet and L3 tunnel links)\n",
				it->if_name, hrd);
			err = -EPROTONOSUPPORT;
			goto out;
		}
		struct iface *nl = realloc(list, (n + 1) * sizeof(*list));
		if (!nl) {
			err = -ENOMEM;
			goto out;
		}
		list = nl;
		list[n].ifindex = it->if_index;
		snprintf(list[n].name, sizeof(list[n].name), "%s", it->if_name);
		list[n].arphrd = hrd;
		list[n].l2 = ll == 1;
		n++;
	}
	/* Every pattern must match something: a typo should not go unnoticed. */
	for (int p = 0; p < npatterns; p++) {
		bool hit = false;

		for (int i = 0; i < n && !hit; i++)
			hit = !fnmatch(patterns[p], list[i].name, 0);
		if (!hit) {
			if (is_glob(patterns[p]))
				fprintf(stderr, "tunflow: no interface matches '%s' (see 'ip link')\n",
					patterns[p]);
			else
				fprintf(stderr, "tunflow: no interface named '%s' (see 'ip link')\n",
					patterns[p]);
			err = -ENODEV;
			goto out;
		}
	}
	if (npatterns == 0 && n == 0) {
		fprintf(stderr, "tunflow: no tunnel interface found; name the interfaces to watch "
				"(e.g. 'tunflow eth0')\n");
		err = -ENODEV;
		goto out;
	}
out:
	if_freenameindex(all);
	if (err) {
		free(list);
		return err;
	}
	*out = list;
	*count = n;
	return 0;
}

/* Names of the interfaces tunflow watches, kept after an interface is gone so that its
 * last flows still carry its name. */
static struct {
	int ifindex;
	char name[IF_NAMESIZE];
} *known;
static size_t nknown;

void iface_remember(int ifindex, const char *name)
{
	for (size_t i = 0; i < nknown; i++) {
		if (known[i].ifindex == ifindex) {
			snprintf(known[i].name, IF_NAMESIZE, "%s", name);
			return;
		}
	}
	void *nk = realloc(known, (nknown + 1) * sizeof(*known));
	if (!nk)
		return;
	known = nk;
	known[nknown].ifindex = ifindex;
	snprintf(known[nknown].name, IF_NAMESIZE, "%s", name);
	nknown++;
}

const char *iface_name(int ifindex)
{
	static char buf[IF_NAMESIZE + 8];

	for (size_t i = 0; i < nknown; i++)
		if (known[i].ifindex == ifindex)
			return known[i].name;
	if (if_indextoname(ifindex, buf))
		return buf;
	snprintf(buf, sizeof(buf), "if%d", ifindex);
	return buf;
}
