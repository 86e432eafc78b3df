// SPDX-License-Identifier: GPL-2.0-only
/* tunrelay NS1 IF1 NS2 IF2: join two tun devices in two network namespaces by copying
 * packets between them, the shape of a VPN (minus the crypto). Runs until killed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_tun.h>

static int tun_in(const char *ns, const char *ifname)
{
	char path[256];
	struct ifreq ifr;
	int nsfd, fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET)) {
		fprintf(stderr, "tunrelay: namespace %s: %s\n", ns, strerror(errno));
		return -1;
	}
	close(nsfd);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr)) {
		fprintf(stderr, "tunrelay: %s in %s: %s\n", ifname, ns, strerror(errno));
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	struct pollfd p[2];

	if (argc != 5) {
		fprintf(stderr, "usage: tunrelay NS1 IF1 NS2 IF2\n");
		return 2;
	}
	p[0].fd = tun_in(argv[1], argv[2]);
	p[1].fd = tun_in(argv[3], argv[4]);
	if (p[0].fd < 0 || p[1].fd < 0)
		return 1;
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!(p[i].revents & POLLIN))
				continue;
			/* drain what is queued; a full peer queue drops, as a VPN would */
			while ((n = read(p[i].fd, buf, sizeof(buf))) > 0)
				if (write(p[!i].fd, buf, n) < 0 && errno != EAGAIN)
					return 1;
		}
	}
}
