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
static int watch(int ep, int fd, void *ptr, unsigned events)
{
	struct epoll_event ev = {.events = events};

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

struct loop {
	struct pipeline *p;
	const struct loop_cfg *cfg;
	int ep, sig, tick, stop, links, names;
	double interval; /* the harvest timer's, which SIGHUP may change */
	bool was_tty[3];
	bool running;
	enum loop_stop why;
	struct sink **failed;
	int *err;
};

/* The loop's descriptors and the sinks'. 0 or -errno, said. */
static int setup(struct loop *l)
{
	sigset_t mask;

	for (int fd = 0; fd < 3; fd++)
		l->was_tty[fd] = isatty(fd);
	signal_set(&mask);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->sig = signalfd(-1, &mask, SFD_CLOEXEC);
	l->tick = make_timer(l->cfg->interval, l->cfg->interval);
	if (l->cfg->duration > 0)
		l->stop = make_timer(l->cfg->duration, 0);
	if (l->ep < 0 || l->sig < 0 || l->tick < 0 || (l->cfg->duration > 0 && l->stop < 0) ||
	    watch(l->ep, l->sig, NULL, EPOLLIN) || watch(l->ep, l->tick, NULL, EPOLLIN) ||
	    (l->stop >= 0 && watch(l->ep, l->stop, NULL, EPOLLIN)) ||
	    watch(l->ep, l->links, NULL, EPOLLIN) ||
	    (l->names >= 0 && watch(l->ep, l->names, NULL, EPOLLIN))) {
		pr_err("cannot set up the event loop: %s", strerror(errno));
		return -errno;
	}
	for (guint i = 0; i < l->p->sinks->len; i++) {
		struct sink *s = l->p->sinks->pdata[i];
		unsigned events = 0;
		int fd = s->fd ? s->fd(s, &events) : -1, err;

		/* a regular file or /dev/null cannot be watched (EPERM): writes tell */
		if (fd >= 0 && (err = watch(l->ep, fd, s, events)) && err != -EPERM) {
			pr_err("cannot watch %s: %s", s->name, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* SIGHUP: the configuration again; a new interval from the next harvest on. */
static void reload(struct loop *l)
{
	double iv = l->interval;
	struct itimerspec its = {0};

	if (!l->cfg->reload)
		return;
	l->cfg->reload(l->cfg->reload_arg, &iv);
	if (iv == l->interval || iv <= 0)
		return;
	its.it_value.tv_sec = its.it_interval.tv_sec = (time_t)iv;
	its.it_value.tv_nsec = its.it_interval.tv_nsec = (long)((iv - (time_t)iv) * 1e9);
	if (timerfd_settime(l->tick, 0, &its, NULL)) {
		pr_warn("cannot change the interval to %g s: %s", iv, strerror(errno));
		return;
	}
	l->interval = iv;
}

static void on_signal(struct loop *l)
{
	struct signalfd_siginfo si;

	if (read(l->sig, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo != SIGHUP) {
		l->running = false;
	} else if (terminal_gone(l->was_tty)) {
		l->why = STOP_TERMINAL;
		l->running = false;
	} else {
		reload(l);
		if (l->p->users && l->cfg->user_map && !users_reload_map(l->p->users))
			pr_info("re-read %s", l->cfg->user_map);
	}
}

/* One ready descriptor. 0, or the -errno of a sink that failed. */
static int handle(struct loop *l, const struct epoll_event *ev)
{
	int fd = ev->data.u64 & 1 ? (int)(ev->data.u64 >> 32) : -1, e = 0;
	__u64 exp;

	if (fd < 0) {
		struct sink *s = ev->data.ptr;

		if ((e = s->on_ready(s, ev->events)))
			*l->failed = s;
	} else if (fd == l->tick) {
		if (read(l->tick, &exp, sizeof(exp)) == sizeof(exp))
			e = pipeline_harvest(l->p, false, NULL, 0, l->failed);
	} else if (fd == l->links) {
		/* an interface that went is reported at once, with its last flows */
		int *gone;
		size_t n = ifwatch_take_gone(l->p->w, &gone);

		if (n)
			e = pipeline_harvest(l->p, false, gone, n, l->failed);
		free(gone);
	} else if (fd == l->names) {
		naming_poll(l->p->names); /* between harvests: the ring buffer never fills up */
	} else if (fd == l->stop) {
		l->running = false;
	} else if (fd == l->sig) {
		on_signal(l);
	}
	return e;
}

enum loop_stop loop_run(struct pipeline *p, const struct loop_cfg *cfg, struct sink **failed,
                        int *err)
{
	struct loop l = {.p = p,
	                 .cfg = cfg,
	                 .interval = cfg->interval,
	                 .ep = -1,
	                 .sig = -1,
	                 .tick = -1,
	                 .stop = -1,
	                 .links = ifwatch_fd(p->w),
	                 .names = naming_fd(p->names),
	                 .running = true,
	                 .why = STOP_SIGNAL,
	                 .failed = failed,
	                 .err = err};

	*err = setup(&l);
	if (*err) {
		l.why = STOP_ERROR;
		goto out;
	}
	pipeline_start(p);
	pr_info("ready, %zu interface%s", ifwatch_count(p->w), ifwatch_count(p->w) == 1 ? "" : "s");
	while (l.running) {
		struct epoll_event evs[8];
		int n = epoll_wait(l.ep, evs, 8, -1);

		if (n < 0 && errno != EINTR) {
			*err = -errno;
			l.why = STOP_ERROR;
			break;
		}
		for (int i = 0; i < n && l.running; i++) {
			int e = handle(&l, &evs[i]);

			if (e) {
				/* writing to a hung-up terminal fails before its SIGHUP is read */
				*err = e;
				l.why = e == -EIO && terminal_gone(l.was_tty) ? STOP_TERMINAL
				                                              : STOP_OUTPUT;
				l.running = false;
			}
		}
	}
out:
	for (int fd, i = 0; i < 4; i++)
		if ((fd = (int[]){l.ep, l.sig, l.tick, l.stop}[i]) >= 0)
			close(fd);
	return l.why;
}
