// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include "core/loop.h"
#include "sources/ifwatch.h"
#include "sources/users.h"
#include "util/log.h"

static void signal_set(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
}

void loop_block_signals(void)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	signal_set(&mask);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
}

static int make_timer(double first, double every)
{
	struct itimerspec its = {0};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	its.it_value.tv_sec = (time_t)first;
	its.it_value.tv_nsec = (long)((first - (time_t)first) * 1e9);
	its.it_interval.tv_sec = (time_t)every;
	its.it_interval.tv_nsec = (long)((every - (time_t)every) * 1e9);
	if (timerfd_settime(fd, 0, &its, NULL)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* ptr: NULL for the loop's own descriptors (told apart by fd), else the sink. */
static int watch(int ep, int fd, void *ptr)
{
	struct epoll_event ev = {.events = EPOLLIN};

	if (ptr)
		ev.data.ptr = ptr;
	else
		ev.data.u64 = (__u64)fd << 32 | 1;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* A terminal hang-up: one of the standard descriptors was a terminal at start and the
 * kernel now refuses it (a hung-up terminal answers every ioctl with EIO). */
static bool terminal_gone(const bool was_tty[3])
{
	for (int fd = 0; fd < 3; fd++)
		if (was_tty[fd] && !isatty(fd) && errno == EIO)
			return true;
	return false;
}

enum loop_stop loop_run(struct pipeline *p, const struct loop_cfg *cfg, struct sink **failed,
			int *err)
{
	int ep = -1, sig = -1, tick = -1, stop = -1, links = ifwatch_fd(p->w);
	enum loop_stop why = STOP_SIGNAL;
	bool was_tty[3];
	sigset_t mask;

	*err = 0;
	for (int fd = 0; fd < 3; fd++)
		was_tty[fd] = isatty(fd);
	signal_set(&mask);
	ep = epoll_create1(EPOLL_CLOEXEC);
	sig = signalfd(-1, &mask, SFD_CLOEXEC);
	tick = make_timer(cfg->interval, cfg->interval);
	if (cfg->duration > 0)
		stop = make_timer(cfg->duration, 0);
	if (ep < 0 || sig < 0 || tick < 0 || (cfg->duration > 0 && stop < 0) ||
	    watch(ep, sig, NULL) || watch(ep, tick, NULL) || (stop >= 0 && watch(ep, stop, NULL)) ||
	    watch(ep, links, NULL)) {
		*err = -errno;
		pr_err("cannot set up the event loop: %s", strerror(errno));
		why = STOP_ERROR;
		goto out;
	}
	for (guint i = 0; i < p->sinks->len; i++) {
		struct sink *s = p->sinks->pdata[i];
		int fd = s->fd ? s->fd(s) : -1;

		if (fd >= 0 && (*err = watch(ep, fd, s))) {
			pr_err("cannot watch %s: %s", s->name, strerror(-*err));
			why = STOP_ERROR;
			goto out;
		}
	}
	pipeline_start(p);
	pr_info("ready, %zu interface%s", ifwatch_count(p->w), ifwatch_count(p->w) == 1 ? "" : "s");
	for (bool running = true; running;) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			*err = -errno;
			why = STOP_ERROR;
			break;
		}
		for (int i = 0; i < n && running; i++) {
			int fd = evs[i].data.u64 & 1 ? (int)(evs[i].data.u64 >> 32) : -1;
			int e = 0;
			__u64 exp;

			if (fd < 0) {
				struct sink *s = evs[i].data.ptr;

				if ((e = s->on_ready(s)))
					*failed = s;
			} else if (fd == tick) {
				if (read(tick, &exp, sizeof(exp)) == sizeof(exp))
					e = pipeline_harvest(p, false, NULL, 0, failed);
			} else if (fd == links) {
				/* an interface that went is reported at once, with its last flows */
				int *gone;
				size_t ng = ifwatch_take_gone(p->w, &gone);

				if (ng)
					e = pipeline_harvest(p, false, gone, ng, failed);
				free(gone);
			} else if (fd == stop) {
				running = false;
			} else if (fd == sig) {
				struct signalfd_siginfo si;

				if (read(sig, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo != SIGHUP) {
					running = false;
				} else if (terminal_gone(was_tty)) {
					why = STOP_TERMINAL;
					running = false;
				} else if (p->users && cfg->user_map && !users_reload_map(p->users)) {
					pr_info("re-read %s", cfg->user_map);
				}
			}
			if (e) {
				*err = e;
				why = STOP_OUTPUT;
				running = false;
			}
		}
	}
out:
	for (int fd, i = 0; i < 4; i++)
		if ((fd = (int[]){ep, sig, tick, stop}[i]) >= 0)
			close(fd);
	return why;
}
