// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include "sinks/sink.h"

int sink_out_fd(FILE *out, unsigned *events)
{
	*events = 0;
	return fileno(out);
}

int sink_out_gone(FILE *out, unsigned revents)
{
	struct stat st;

	if (!(revents & (EPOLLERR | EPOLLHUP)))
		return 0;
	if (!fstat(fileno(out), &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return -EPIPE;
	return -EIO;
}

static int stream_fd(struct sink *s, unsigned *events)
{
	return sink_out_fd(((struct stream_sink *)s)->out, events);
}

static int stream_gone(struct sink *s, unsigned revents)
{
	return sink_out_gone(((struct stream_sink *)s)->out, revents);
}

void stream_sink_init(struct stream_sink *ss, FILE *out)
{
	ss->s.name = "standard output";
	ss->s.fd = stream_fd;
	ss->s.on_ready = stream_gone;
	ss->out = out;
}
