// SPDX-License-Identifier: GPL-2.0-only
/* Hold connections to an HTTP server the way a careless or hostile client does.
 *
 *   connhold ADDR PORT [-i IDLE] [-l SLOW] [-e SEC] [-d SEC] SRC...
 *
 * IDLE connections send nothing; SLOW connections start a request and then send one
 * byte of a never-ending header every SEC seconds (default 2). Connections are spread
 * over the source addresses SRC in turn; one the server closes is opened again 0.1 s
 * later. After -d SEC (default 10) prints
 *   max_open=N        most connections open at once for 0.5 s or more (as seen once a
 *                     second: one the server closes at once does not count)
 *   slow_longest=S    longest life of a slow connection, in whole seconds (rounded up)
 *   closed=N          connections the server closed
 * IPv4 only. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct slot {
	int fd;
	int slow;
	const char *src;
	double opened, next;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int open_to(const char *src, const struct sockaddr_in *to)
{
	struct sockaddr_in from = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&from, sizeof(from)) ||
	    connect(fd, (const struct sockaddr *)to, sizeof(*to))) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	int idle = 0, slow = 0, o, n, max_open = 0, closed = 0;
	double every = 2, dur = 10, longest = 0, t0, last_sample = 0;
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct slot *s;
	struct pollfd *p;

	while ((o = getopt(argc, argv, "i:l:e:d:")) != -1) {
		switch (o) {
		case 'i': idle = atoi(optarg); break;
		case 'l': slow = atoi(optarg); break;
		case 'e': every = atof(optarg); break;
		case 'd': dur = atof(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind < 3 || inet_pton(AF_INET, argv[optind], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: connhold ADDR PORT [-i N] [-l N] [-e SEC] [-d SEC] SRC...\n");
		return 2;
	}
	to.sin_port = htons(atoi(argv[optind + 1]));
	n = idle + slow;
	s = calloc(n, sizeof(*s));
	p = calloc(n, sizeof(*p));
	t0 = now();
	for (int i = 0; i < n; i++) {
		s[i].fd = -1;
		s[i].slow = i >= idle;
		s[i].src = argv[optind + 2 + i % (argc - optind - 2)];
		s[i].next = t0;
	}
	for (;;) {
		double t = now();
		int open = 0;

		if (t - t0 >= dur)
			break;
		for (int i = 0; i < n; i++) {
			if (s[i].fd < 0 && t >= s[i].next) {
				s[i].fd = open_to(s[i].src, &to);
				s[i].opened = t;
				s[i].next = t;
				if (s[i].fd < 0)
					s[i].next = t + 0.1;
				else if (s[i].slow)
					/* a failure shows as a close on the next poll */
					(void)!send(s[i].fd, "GET /metrics HTTP/1.1\r\nX-Slow: ", 31,
						    MSG_NOSIGNAL);
			}
			if (s[i].fd >= 0 && s[i].slow && t >= s[i].next) {
				s[i].next = t + every;
				(void)!send(s[i].fd, "a", 1, MSG_NOSIGNAL);
			}
			p[i] = (struct pollfd){.fd = s[i].fd, .events = POLLIN};
			open += s[i].fd >= 0 && t - s[i].opened >= 0.5;
		}
		if (t - last_sample >= 1) {
			last_sample = t;
			if (open > max_open)
				max_open = open;
		}
		if (poll(p, n, 100) < 0 && errno != EINTR)
			return 1;
		t = now();
		for (int i = 0; i < n; i++) {
			char buf[4096];

			if (s[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (read(s[i].fd, buf, sizeof(buf)) > 0)
				continue; /* an answer (408, 400): the close follows */
			close(s[i].fd);
			s[i].fd = -1;
			s[i].next = t + 0.1;
			closed++;
			if (s[i].slow && t - s[i].opened > longest)
				longest = t - s[i].opened;
		}
	}
	for (int i = 0; i < n; i++)
		if (s[i].fd >= 0 && s[i].slow && now() - s[i].opened > longest)
			longest = now() - s[i].opened;
	printf("max_open=%d\nslow_longest=%d\nclosed=%d\n", max_open, (int)(longest + 0.999),
	       closed);
	return 0;
}
