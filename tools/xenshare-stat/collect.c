/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * collect.c - reading the daemon's control socket and the hypervisor for
 * xenshare-stat.  See collect.h.
 */
#include "collect.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenstore.h>

#include "statparse.h"

#define MAX_REPLY (16u << 20)     /* a host with thousands of domains stays far below */
#define DOMINFO_CHUNK 256

/* libxenctrl logger that keeps the last error message instead of printing it */
struct quiet_logger {
	xentoollog_logger vtable;
	char last[160];
};

struct xst_collector {
	char socket_path[108];
	int timeout_ms;
	struct quiet_logger log;
	xc_interface *xch;
	struct xs_handle *xsh;
	bool xs_tried;
};

static void quiet_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
	__attribute__((format(printf, 5, 0)));

static void quiet_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
{
	(void)errnoval; (void)context;
	struct quiet_logger *q = (struct quiet_logger *)logger;

	if (level < XTL_ERROR)
		return;
	vsnprintf(q->last, sizeof(q->last), format, al);
}

static void quiet_destroy(xentoollog_logger *logger)
{
	(void)logger;
}

int xst_collector_alloc(const char *socket_path, int timeout_ms, struct xst_collector **out)
{
	struct xst_collector *c;

	if (strlen(socket_path) >= sizeof(c->socket_path))
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	strcpy(c->socket_path, socket_path);
	c->timeout_ms = timeout_ms;
	c->log.vtable.vmessage = quiet_vmessage;
	c->log.vtable.destroy = quiet_destroy;
	*out = c;
	return 0;
}

void xst_collector_free(struct xst_collector *c)
{
	if (!c)
		return;
	if (c->xsh)
		xs_close(c->xsh);
	if (c->xch)
		xc_interface_close(c->xch);
	free(c);
}

/* ---- daemon ------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void daemon_fail(struct xst_daemon *dm, enum xst_daemon_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void daemon_fail(struct xst_daemon *dm, enum xst_daemon_state st, const char *fmt, ...)
{
	va_list ap;

	memset(dm, 0, sizeof(*dm));
	dm->state = st;
	va_start(ap, fmt);
	vsnprintf(dm->error, sizeof(dm->error), fmt, ap);
	va_end(ap);
}

/* Waits for fd to be ready for events before the deadline; -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Sends "stats\n" and reads one line.  Returns 0 with a malloc'd NUL-ended
 * reply, or fills dm with the failure.
 */
static int daemon_ask(struct xst_collector *c, struct xst_daemon *dm, char **reply, size_t *len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + c->timeout_ms;
	static const char cmd[] = "stats\n";
	size_t sent = 0, got = 0, cap = 0;
	char *buf = NULL;
	int fd, r = 0;

	*reply = NULL;
	strcpy(sa.sun_path, c->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		daemon_fail(dm, XST_DAEMON_ERROR, "socket: %s", strerror(-r));
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		if (r == -EAGAIN || r == -EINPROGRESS) {
			/* listen backlog full: the daemon is alive but stuck */
			daemon_fail(dm, XST_DAEMON_TIMEOUT, "%s: connection not accepted", c->socket_path);
			r = -ETIMEDOUT;
		} else if (r == -ENOENT) {
			daemon_fail(dm, XST_DAEMON_ABSENT, "%s: no such socket; is xenshared running?",
				    c->socket_path);
		} else if (r == -ECONNREFUSED) {
			daemon_fail(dm, XST_DAEMON_REFUSED,
				    "%s: connection refused; xenshared is not running (stale socket)",
				    c->socket_path);
		} else {
			daemon_fail(dm, XST_DAEMON_ERROR, "%s: %s", c->socket_path, strerror(-r));
		}
		goto out;
	}
	while (sent < sizeof(cmd) - 1) {
		ssize_t w;

		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			goto io_err;
		w = send(fd, cmd + sent, sizeof(cmd) - 1 - sent, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = -errno;
			goto io_err;
		}
		sent += (size_t)w;
	}
	for (;;) {
		ssize_t n;

		if (got + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto io_err;
			}
			buf = nb;
		}
		r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			goto io_err;
		n = recv(fd, buf + got, cap - got - 1, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = -errno;
			goto io_err;
		}
		if (n == 0) {
			r = -ECONNRESET;
			goto io_err;
		}
		got += (size_t)n;
		if (memchr(buf + got - n, '\n', (size_t)n))
			break;
		if (got > MAX_REPLY) {
			daemon_fail(dm, XST_DAEMON_BAD_REPLY, "%s: reply longer than %u bytes",
				    c->socket_path, MAX_REPLY);
			r = -EPROTO;
			goto out;
		}
	}
	buf[got] = '\0';
	*len = (size_t)((char *)memchr(buf, '\n', got) - buf) + 1;
	*reply = buf;
	buf = NULL;
	r = 0;
	goto out;
io_err:
	if (r == -ETIMEDOUT)
		daemon_fail(dm, XST_DAEMON_TIMEOUT, "%s: no answer within %d ms", c->socket_path,
			    c->timeout_ms);
	else if (r == -ECONNRESET || r == -EPIPE)
		daemon_fail(dm, XST_DAEMON_BAD_REPLY, "%s: daemon closed the connection without answering",
			    c->socket_path);
	else
		daemon_fail(dm, XST_DAEMON_ERROR, "%s: %s", c->socket_path, strerror(-r));
out:
	free(buf);
	close(fd);
	return r;
}

/* ---- hypervisor ---------------------------------------------------------- */

static void hv_fail(struct xst_collector *c, struct xst_hv *hv, const char *what, int err)
{
	memset(hv, 0, sizeof(*hv));
	hv->ok = false;
	snprintf(hv->error, sizeof(hv->error), "%s: %s%s%s", what, strerror(err),
		 c->log.last[0] ? "; libxenctrl: " : "", c->log.last);
}

static void xs_read_into(struct xs_handle *xsh, uint32_t domid, const char *node,
			 char *dst, size_t size)
{
	char path[80];
	unsigned int len = 0;
	char *v;

	snprintf(path, sizeof(path), "/local/domain/%" PRIu32 "/%s", domid, node);
	v = xs_read(xsh, XBT_NULL, path, &len);
	if (!v)
		return;
	/* a guest controls nothing here (dom0-owned nodes), but keep it printable */
	for (unsigned int i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			v[i] = '?';
	snprintf(dst, size, "%.*s", (int)len, v);
	free(v);
}

static int hv_read(struct xst_collector *c, struct xst_hv *hv, struct xst_domain **doms,
		   size_t *nr)
{
	xc_domaininfo_t info[DOMINFO_CHUNK];
	struct xst_domain *list = NULL;
	size_t n = 0, cap = 0;
	uint32_t next = 0;
	xc_physinfo_t pi = { 0 };
	long freed, used;

	*doms = NULL;
	*nr = 0;
	c->log.last[0] = '\0';
	if (!c->xch) {
		c->xch = xc_interface_open(&c->log.vtable, &c->log.vtable, 0);
		if (!c->xch) {
			hv_fail(c, hv, "cannot open the hypervisor interface (are you root in dom0?)",
				errno ? errno : EACCES);
			return 0;
		}
	}
	if (!c->xsh && !c->xs_tried) {
		c->xs_tried = true;
		c->xsh = xs_open(0);   /* optional: names and xl.cfg policy only */
	}
	freed = xc_sharing_freed_pages(c->xch);
	if (freed < 0) {
		hv_fail(c, hv, "xc_sharing_freed_pages", errno);
		return 0;
	}
	used = xc_sharing_used_frames(c->xch);
	if (used < 0) {
		hv_fail(c, hv, "xc_sharing_used_frames", errno);
		return 0;
	}
	if (xc_physinfo(c->xch, &pi) < 0) {
		hv_fail(c, hv, "xc_physinfo", errno);
		return 0;
	}
	for (;;) {
		int got = xc_domain_getinfolist(c->xch, next, DOMINFO_CHUNK, info);

		if (got < 0) {
			hv_fail(c, hv, "xc_domain_getinfolist", errno);
			free(list);
			return 0;
		}
		for (int i = 0; i < got; i++) {
			struct xst_domain *d;

			if (n == cap) {
				struct xst_domain *nl;

				cap = cap ? cap * 2 : 64;
				nl = realloc(list, cap * sizeof(*nl));
				if (!nl) {
					free(list);
					return -ENOMEM;
				}
				list = nl;
			}
			d = &list[n++];
			memset(d, 0, sizeof(*d));
			d->domid = info[i].domain;
			d->in_hv = true;
			d->tot_pages = info[i].tot_pages;
			d->shr_pages = info[i].shr_pages;
			if (c->xsh) {
				xs_read_into(c->xsh, d->domid, "name", d->name, sizeof(d->name));
				xs_read_into(c->xsh, d->domid, "memshare/enabled", d->mode, sizeof(d->mode));
				xs_read_into(c->xsh, d->domid, "memshare/group", d->group, sizeof(d->group));
			}
		}
		if (got < DOMINFO_CHUNK)
			break;
		next = info[got - 1].domain + 1;
	}
	hv->ok = true;
	hv->error[0] = '\0';
	hv->freed_pages = (uint64_t)freed;
	hv->used_frames = (uint64_t)used;
	hv->total_pages = pi.total_pages;
	hv->free_pages = pi.free_pages;
	*doms = list;
	*nr = n;
	return 0;
}

int xst_collect(struct xst_collector *c, struct xst_snapshot *s)
{
	struct xst_domain *hv_doms = NULL, *dm_doms = NULL;
	size_t nr_hv = 0, nr_dm = 0, len = 0;
	char *reply = NULL;
	int r;

	r = hv_read(c, &s->hv, &hv_doms, &nr_hv);
	if (r < 0)
		goto out;
	if (daemon_ask(c, &s->daemon, &reply, &len) == 0) {
		char err[160];

		if (xst_parse_daemon_reply(reply, len, &s->daemon, &dm_doms, &nr_dm,
					   err, sizeof(err)) < 0) {
			snprintf(s->daemon.error, sizeof(s->daemon.error), "%s: bad reply: %s",
				 c->socket_path, err);
			s->daemon.state = XST_DAEMON_BAD_REPLY;
		}
	}
	r = xst_snapshot_merge(s, hv_doms, nr_hv, dm_doms, nr_dm);
out:
	free(reply);
	free(hv_doms);
	free(dm_doms);
	return r;
}
