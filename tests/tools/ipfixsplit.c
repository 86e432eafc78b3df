// SPDX-License-Identifier: GPL-2.0-only
/* ipfixsplit: send the IPFIX messages of a stream (what an exporter wrote to a TCP
 * collector, or an IPFIX file) one per UDP datagram to HOST PORT, unchanged, for
 * collectors that listen on UDP only (nfcapd).
 *
 *   ipfixsplit FILE HOST PORT
 * Prints "sent N messages" on stderr; exits non-zero on a short or malformed stream. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai;
	unsigned char msg[65536];
	int fd, n = 0;
	FILE *in;

	if (argc != 4) {
		fprintf(stderr, "usage: ipfixsplit FILE HOST PORT\n");
		return 2;
	}
	if (!(in = fopen(argv[1], "rb"))) {
		perror(argv[1]);
		return 1;
	}
	if (getaddrinfo(argv[2], argv[3], &hints, &ai)) {
		fprintf(stderr, "ipfixsplit: bad address %s %s\n", argv[2], argv[3]);
		return 1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("ipfixsplit: socket");
		return 1;
	}
	for (;;) {
		size_t got = fread(msg, 1, 4, in), len;

		if (got == 0)
			break;
		len = (size_t)msg[2] << 8 | msg[3];
		if (got != 4 || msg[0] != 0 || msg[1] != 10 || len < 16 ||
		    fread(msg + 4, 1, len - 4, in) != len - 4) {
			fprintf(stderr, "ipfixsplit: not an IPFIX message at message %d\n", n + 1);
			return 1;
		}
		if (send(fd, msg, len, 0) != (ssize_t)len) {
			perror("ipfixsplit: send");
			return 1;
		}
		n++;
		usleep(1000); /* a collector's socket buffer is not a queue of every message */
	}
	fprintf(stderr, "sent %d messages\n", n);
	return 0;
}
