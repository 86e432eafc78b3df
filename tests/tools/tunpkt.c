// SPDX-License-Identifier: GPL-2.0-only
/* tunpkt: attach to a tun device and write crafted packets into it, so that they arrive
 * on the tun's ingress exactly as a VPN daemon's decrypted packets do.
 *
 *   tunpkt IFACE [--vnet] [--hold SEC] [--pps N] SPEC ...
 *   SPEC: comma-separated key=value: v=4|6 proto=tcp|udp|icmp|icmp6|N src= dst=
 *         sport= dport= (ICMP: type and code) flags=N payload=N count=N flows=N dsts=N
 *         gso=N (with --vnet: TCP/UDP GSO of that segment size) linear=N (with --vnet:
 *         bytes the kernel puts in the skb's linear area; the rest goes to pages)
 *         ihl=N (IPv4: overwrite the header length field, for malformed packets)
 *   count packets are spread round-robin over flows flows (source port sport+i) and
 *   dsts destinations (the destination address plus i).
 * Prints "wrote N packets" on stderr; exits non-zero if any write fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif
#include "pkt.h"

struct spec {
	struct pkt_spec p;
	int count, flows, dsts, gso, linear, ihl;
};

/* addr plus i (in its last 32 bits), as text in buf */
static const char *add_addr(const char *addr, int i, char *buf)
{
	unsigned char a[16];
	int af = strchr(addr, ':') ? AF_INET6 : AF_INET, last = af == AF_INET ? 0 : 12;
	unsigned int w;

	if (inet_pton(af, addr, a) != 1)
		return addr;
	memcpy(&w, a + last, 4);
	w = htonl(ntohl(w) + i);
	memcpy(a + last, &w, 4);
	return inet_ntop(af, a, buf, INET6_ADDRSTRLEN);
}

static int parse_spec(char *s, struct spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->p.ipv = 4;
	sp->count = sp->flows = sp->dsts = 1;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		char *v = strchr(tok, '=');

		if (!v)
			return -1;
		*v++ = 0;
		if (!strcmp(tok, "v"))
			sp->p.ipv = atoi(v);
		else if (!strcmp(tok, "proto"))
			sp->p.proto = !strcmp(v, "tcp")     ? IPPROTO_TCP
				      : !strcmp(v, "udp")   ? IPPROTO_UDP
				      : !strcmp(v, "icmp")  ? IPPROTO_ICMP
				      : !strcmp(v, "icmp6") ? IPPROTO_ICMPV6
							    : atoi(v);
		else if (!strcmp(tok, "src"))
			sp->p.src = v;
		else if (!strcmp(tok, "dst"))
			sp->p.dst = v;
		else if (!strcmp(tok, "sport"))
			sp->p.sport = atoi(v);
		else if (!strcmp(tok, "dport"))
			sp->p.dport = atoi(v);
		else if (!strcmp(tok, "flags"))
			sp->p.tcp_flags = strtol(v, NULL, 0);
		else if (!strcmp(tok, "payload"))
			sp->p.payload = atoi(v);
		else if (!strcmp(tok, "count"))
			sp->count = atoi(v);
		else if (!strcmp(tok, "flows"))
			sp->flows = atoi(v);
		else if (!strcmp(tok, "dsts"))
			sp->dsts = atoi(v);
		else if (!strcmp(tok, "gso"))
			sp->gso = atoi(v);
		else if (!strcmp(tok, "linear"))
			sp->linear = atoi(v);
		else if (!strcmp(tok, "ihl"))
			sp->ihl = atoi(v); /* overwrite the IPv4 header length (malformed tests) */
		else
			return -1;
	}
	return sp->p.src && sp->p.dst && sp->flows > 0 && sp->dsts > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int vnet = 0, pps = 0, fd, written = 0, nread = 0, i = 2;
	double hold = 0;
	struct ifreq ifr;
	static uint8_t buf[sizeof(struct virtio_net_hdr) + PKT_MAX];

	if (argc < 3) {
		fprintf(stderr, "usage: tunpkt IFACE [--vnet] [--hold SEC] [--pps N] SPEC ...\n");
		return 2;
	}
	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--vnet"))
			vnet = 1;
		else if (!strcmp(argv[i], "--hold") && i + 1 < argc)
			hold = atof(argv[++i]);
		else if (!strcmp(argv[i], "--pps") && i + 1 < argc)
			pps = atoi(argv[++i]);
		else {
			fprintf(stderr, "tunpkt: bad option %s\n", argv[i]);
			return 2;
		}
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("tunpkt: /dev/net/tun");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		fprintf(stderr, "tunpkt: attach to %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (vnet) {
		unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
		ioctl(fd, TUNSETOFFLOAD, off);
	}
	for (; i < argc; i++) {
		struct spec sp;
		struct pkt_layout lay;
		size_t hl = vnet ? sizeof(struct virtio_net_hdr) : 0;
		char *copy = strdup(argv[i]);

		if (parse_spec(copy, &sp)) {
			fprintf(stderr, "tunpkt: bad spec '%s'\n", argv[i]);
			return 2;
		}
		for (int n = 0; n < sp.count; n++) {
			struct pkt_spec p = sp.p;
			char dst[INET6_ADDRSTRLEN];
			size_t len;

			p.sport = sp.p.sport + n % sp.flows;
			if (sp.dsts > 1)
				p.dst = add_addr(sp.p.dst, n % sp.dsts, dst);
			len = pkt_build(&p, buf + hl, &lay);
			if (!len) {
				fprintf(stderr, "tunpkt: cannot build '%s'\n", argv[i]);
				return 2;
			}
			if (sp.ihl && p.ipv == 4)
				buf[hl + lay.l3] = 0x40 | (sp.ihl & 0xf);
			if (vnet) {
				struct virtio_net_hdr *vh = (void *)buf;

				memset(vh, 0, sizeof(*vh));
				vh->hdr_len = sp.linear ? (size_t)sp.linear : lay.l4 + pkt_l4_len(p.proto);
				if (sp.gso) {
					vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
					vh->csum_start = lay.l4;
					vh->csum_offset = p.proto == IPPROTO_TCP ? 16 : 6;
					vh->gso_size = sp.gso;
					vh->gso_type = p.proto == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4
						       : p.ipv == 6	    ? VIRTIO_NET_HDR_GSO_TCPV6
									    : VIRTIO_NET_HDR_GSO_TCPV4;
				}
			}
			if (write(fd, buf, hl + len) != (ssize_t)(hl + len)) {
				fprintf(stderr, "tunpkt: write %zu bytes to %s: %s\n", hl + len,
					argv[1], strerror(errno));
				return 1;
			}
			written++;
			if (pps > 0) {
				struct timespec ts = {0, 1000000000L / pps};
				nanosleep(&ts, NULL);
			}
		}
		free(copy);
	}
	/* Stay attached (carrier up) and drain what the kernel sends out of the tun. */
	for (struct timespec t0, t; hold > 0;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (poll(&pfd, 1, 50) > 0 && read(fd, buf, sizeof(buf)) > 0)
			nread++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		hold -= (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
	}
	fprintf(stderr, "tunpkt: wrote %d packets, read %d\n", written, nread);
	close(fd);
	return 0;
}
