/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * control.c - non-blocking control socket server (see control.h).
 *
 * Invariants:
 *  - No call here blocks: accept4/recv/send on O_NONBLOCK sockets, sends
 *    with MSG_NOSIGNAL (a client gone away is EPIPE, not SIGPIPE).
 *  - A client's memory is bounded: XSD_CONTROL_MAX_LINE of input (a longer
 *    line is answered with an error and the client closed) and
 *    XSD_CONTROL_MAX_PENDING of output.
 *  - Only the euid of the daemon or root may talk to it (SO_PEERCRED), on
 *    top of the 0600 mode of the socket and the 0700 of its directory.
 *  - Answers go out in the order the commands came in, one line each.
 *  - No client holds a slot for ever: one with nothing pending is closed
 *    after XSD_CONTROL_IDLE_S, a line begun and not ended within
 *    XSD_CONTROL_LINE_S gets an error and the client is closed, and when
 *    every slot is taken a new connection takes the slot of the client
 *    that was quiet longest.  So a hung monitoring agent (or sixteen) can
 *    delay the operator's `xenshared -C` by nothing, and holds its slots
 *    for a bounded time.  "Quiet" is measured from the last byte received
 *    or sent (last_active); a line's age from its first byte (line_start),
 *    so a client trickling one byte a second still times out.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "logsink.h"

struct control_client {
	int fd;
	char in[XSD_CONTROL_MAX_LINE + 1];
	size_t inlen;
	char *out;
	size_t outlen, outoff, outcap;
	bool eof;                /* peer closed its sending side */
	bool dead;               /* to be closed */
	uint64_t last_active;    /* ns: connected, or last byte received or sent */
	uint64_t line_start;     /* ns: first byte of the unfinished line; 0 = none */
	uint64_t stalled_since;  /* ns: output pending and no progress since; 0 = none */
};

struct xsd_control {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	xsd_control_cmd_fn *fn;
	void *arg;
	uint64_t (*now_ns)(void);
	struct control_client *clients[XSD_CONTROL_MAX_CLIENTS];
	/* which fd the pollfds of the last fill call were for */
	int polled_fds[XSD_CONTROL_MAX_POLLFDS];
	size_t nr_polled;
};

#define NS_PER_S 1000000000ull

int xsd_control_alloc(xsd_control_cmd_fn *fn, void *arg, struct xsd_control **out)
{
	struct xsd_control *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->listen_fd = -1;
	c->fn = fn;
	c->arg = arg;
	c->now_ns = xsd_now_ns;
	*out = c;
	return 0;
}

void xsd_control_set_clock(struct xsd_control *c, uint64_t (*now_ns)(void))
{
	c->now_ns = now_ns;
}

/* A socket at path that accepts a connection belongs to a live server. */
static int probe_existing(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; not replacing it", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return rc;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		snprintf(err, errlen, "%s: another xenshared is serving this socket", path);
		return -EADDRINUSE;
	}
	rc = errno;
	close(fd);
	if (rc != ECONNREFUSED && rc != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(rc));
		return -rc;
	}
	/* stale: its server died without removing it */
	if (unlink(path) && errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "removing stale %s: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *dir;
	int rc;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (!mkdir(dir, 0700) || errno == EEXIST)
		return 0;
	rc = -errno;
	snprintf(err, errlen, "creating %s: %s", dir, strerror(errno));
	return rc;
}

int xsd_control_open(const char *path, xsd_control_cmd_fn *fn, void *arg,
		     struct xsd_control **out, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xsd_control *c;
	struct stat st;
	mode_t old_umask;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: longer than %zu characters", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	rc = make_dir(path, err, errlen);
	if (rc)
		return rc;
	rc = probe_existing(path, err, errlen);
	if (rc)
		return rc;
	rc = xsd_control_alloc(fn, arg, &c);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* Born 0600: no window in which another user could connect. */
	old_umask = umask(0177);
	rc = bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (rc) {
		rc = -errno;
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (chmod(path, 0600) || stat(path, &st) || listen(c->listen_fd, 16)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	*out = c;
	return 0;
fail:
	xsd_control_free(c);
	return rc;
}

static void client_free(struct control_client *cl)
{
	close(cl->fd);
	free(cl->out);
	free(cl);
}

void xsd_control_free(struct xsd_control *c)
{
	struct stat st;
	size_t i;

	if (!c)
		return;
	for (i = 0; i < XSD_CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i])
			client_free(c->clients[i]);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	/* Remove the socket only if it is still ours (not a successor's). */
	if (c->path[0] && !stat(c->path, &st) && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	free(c);
}

size_t xsd_control_nr_clients(const struct xsd_control *c)
{
	size_t i, n = 0;

	for (i = 0; i < XSD_CONTROL_MAX_CLIENTS; i++)
		n += c->clients[i] != NULL;
	return n;
}

static void queue(struct control_client *cl, const char *s, size_t n)
{
	if (cl->dead)
		return;
	if (cl->outlen - cl->outoff + n > XSD_CONTROL_MAX_PENDING) {
		xsd_warn("control: client fd %d does not read its answers; dropping it", cl->fd);
		cl->dead = true;
		return;
	}
	if (cl->outoff && cl->outoff == cl->outlen)
		cl->outoff = cl->outlen = 0;
	if (cl->outlen + n > cl->outcap) {
		size_t cap = cl->outcap ? cl->outcap : 4096;
		char *nb;

		/* compact first, then grow */
		if (cl->outoff) {
			memmove(cl->out, cl->out + cl->outoff, cl->outlen - cl->outoff);
			cl->outlen -= cl->outoff;
			cl->outoff = 0;
		}
		while (cap < cl->outlen + n)
			cap *= 2;
		if (cap != cl->outcap) {
			nb = realloc(cl->out, cap);
			if (!nb) {
				xsd_warn("control: out of memory for client fd %d; dropping it", cl->fd);
				cl->dead = true;
				return;
			}
			cl->out = nb;
			cl->outcap = cap;
		}
	}
	memcpy(cl->out + cl->outlen, s, n);
	cl->outlen += n;
}

static void queue_error(struct control_client *cl, const char *msg)
{
	struct xsd_json j;

	xsd_json_init(&j);
	xsd_json_obj_begin(&j, NULL);
	xsd_json_str(&j, "error", msg);
	xsd_json_obj_end(&j);
	if (!xsd_json_finish(&j))
		queue(cl, j.buf, j.len);
	xsd_json_free(&j);
}

static void flush(struct xsd_control *c, struct control_client *cl)
{
	while (!cl->dead && cl->outoff < cl->outlen) {
		ssize_t n = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			cl->outoff += (size_t)n;
			cl->stalled_since = 0;
			cl->last_active = c->now_ns();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!cl->stalled_since)
				cl->stalled_since = c->now_ns();
			return;
		}
		cl->dead = true;      /* EPIPE, ECONNRESET: the client is gone */
	}
	if (cl->outoff == cl->outlen) {
		cl->outoff = cl->outlen = 0;
		cl->stalled_since = 0;
	}
}

static void run_command(struct xsd_control *c, struct control_client *cl, char *line)
{
	struct xsd_json j;
	char *args;

	args = line + strcspn(line, " \t");
	if (*args) {
		*args++ = 0;
		args += strspn(args, " \t");
	}
	xsd_json_init(&j);
	c->fn(c->arg, line, args, &j);
	if (xsd_json_finish(&j)) {
		xsd_json_free(&j);
		queue_error(cl, "internal error: answer could not be built");
		return;
	}
	queue(cl, j.buf, j.len);
	xsd_json_free(&j);
}

/* Runs every complete line in the input buffer, unless throttled. */
static void process_input(struct xsd_control *c, struct control_client *cl)
{
	char *nl;

	while (!cl->dead && cl->outlen - cl->outoff < XSD_CONTROL_THROTTLE &&
	       (nl = memchr(cl->in, '\n', cl->inlen))) {
		size_t linelen = (size_t)(nl - cl->in), cmdlen = linelen;

		*nl = 0;
		if (cmdlen && cl->in[cmdlen - 1] == '\r')
			cl->in[--cmdlen] = 0;
		if (strlen(cl->in) != cmdlen)
			queue_error(cl, "command contains a NUL byte");
		else if (cl->in[strspn(cl->in, " \t")])   /* a blank line asks nothing */
			run_command(c, cl, cl->in + strspn(cl->in, " \t"));
		memmove(cl->in, nl + 1, cl->inlen - linelen - 1);
		cl->inlen -= linelen + 1;
	}
	/* a full buffer without a newline can only be an over-long line */
	if (!cl->dead && cl->inlen >= XSD_CONTROL_MAX_LINE && !memchr(cl->in, '\n', cl->inlen)) {
		queue_error(cl, "command line too long");
		flush(c, cl);
		cl->dead = true;
	}
}

static void read_client(struct xsd_control *c, struct control_client *cl)
{
	for (;;) {
		ssize_t n;

		if (cl->inlen >= XSD_CONTROL_MAX_LINE || cl->outlen - cl->outoff >= XSD_CONTROL_THROTTLE)
			break;
		n = recv(cl->fd, cl->in + cl->inlen, XSD_CONTROL_MAX_LINE - cl->inlen, MSG_DONTWAIT);
		if (n > 0) {
			char *last_nl = memrchr(cl->in + cl->inlen, '\n', (size_t)n);

			cl->last_active = c->now_ns();
			if (last_nl)   /* a new line starts after it, if anything follows */
				cl->line_start = last_nl + 1 < cl->in + cl->inlen + n ? cl->last_active : 0;
			else if (!cl->line_start)
				cl->line_start = cl->last_active;
			cl->inlen += (size_t)n;
			process_input(c, cl);
			continue;
		}
		if (n == 0) {
			/* a last command without its newline still counts */
			if (cl->inlen && !memchr(cl->in, '\n', cl->inlen) &&
			    cl->inlen < XSD_CONTROL_MAX_LINE)
				cl->in[cl->inlen++] = '\n';
			cl->eof = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			cl->dead = true;
		break;
	}
	process_input(c, cl);
}

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

/* The slot of the client quiet longest, freed for a new connection. */
static size_t evict_quietest(struct xsd_control *c, uint64_t now)
{
	size_t i, victim = 0;

	for (i = 1; i < XSD_CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i]->last_active < c->clients[victim]->last_active)
			victim = i;
	xsd_warn("control: all %d client slots taken; closing fd %d, quiet for %.1f s, "
		 "to serve a new connection", XSD_CONTROL_MAX_CLIENTS, c->clients[victim]->fd,
		 (double)(now - c->clients[victim]->last_active) / NS_PER_S);
	client_free(c->clients[victim]);
	c->clients[victim] = NULL;
	return victim;
}

int xsd_control_add_client(struct xsd_control *c, int fd)
{
	struct control_client *cl;
	uint64_t now = c->now_ns();
	size_t i;
	int fl;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return -errno;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	for (i = 0; i < XSD_CONTROL_MAX_CLIENTS; i++)
		if (!c->clients[i])
			break;
	if (i == XSD_CONTROL_MAX_CLIENTS)
		i = evict_quietest(c, now);
	cl->fd = fd;
	cl->last_active = now;
	c->clients[i] = cl;
	return 0;
}

static void accept_clients(struct xsd_control *c)
{
	for (;;) {
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		static const char failed[] = "{\"error\":\"out of memory\"}\n";
		static const char denied[] = "{\"error\":\"permission denied\"}\n";

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				xsd_warn("control: accept: %s", strerror(errno));
			return;
		}
		if (!peer_allowed(fd)) {
			(void)!send(fd, denied, sizeof(denied) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		if (xsd_control_add_client(c, fd)) {
			(void)!send(fd, failed, sizeof(failed) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
		}
	}
}

size_t xsd_control_fill_pollfds(struct xsd_control *c, struct pollfd *pfds, size_t max)
{
	size_t n = 0, i;

	if (c->listen_fd >= 0 && n < max) {
		pfds[n] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
		c->polled_fds[n++] = c->listen_fd;
	}
	for (i = 0; i < XSD_CONTROL_MAX_CLIENTS && n < max; i++) {
		struct control_client *cl = c->clients[i];
		short ev = 0;

		if (!cl)
			continue;
		if (!cl->eof && cl->inlen < XSD_CONTROL_MAX_LINE &&
		    cl->outlen - cl->outoff < XSD_CONTROL_THROTTLE)
			ev |= POLLIN;
		if (cl->outlen > cl->outoff)
			ev |= POLLOUT;
		pfds[n] = (struct pollfd){ .fd = cl->fd, .events = ev };
		c->polled_fds[n++] = cl->fd;
	}
	c->nr_polled = n;
	return n;
}

/* Closes a client that holds its slot without using it (see the overview). */
static void expire(struct xsd_control *c, struct control_client *cl, uint64_t now)
{
	if (cl->stalled_since && now - cl->stalled_since > XSD_CONTROL_STALL_S * NS_PER_S) {
		xsd_warn("control: client fd %d read nothing for %d s; dropping it",
			 cl->fd, XSD_CONTROL_STALL_S);
		cl->dead = true;
	} else if (cl->line_start && !memchr(cl->in, '\n', cl->inlen) &&
		   now - cl->line_start > XSD_CONTROL_LINE_S * NS_PER_S) {
		xsd_warn("control: client fd %d left a command unfinished for %d s; dropping it",
			 cl->fd, XSD_CONTROL_LINE_S);
		queue_error(cl, "command line not finished in time");
		flush(c, cl);
		cl->dead = true;
	} else if (!cl->inlen && cl->outlen == cl->outoff &&
		   now - cl->last_active > XSD_CONTROL_IDLE_S * NS_PER_S) {
		xsd_debug("control: client fd %d idle for %d s; closing it", cl->fd, XSD_CONTROL_IDLE_S);
		cl->dead = true;
	}
}

void xsd_control_handle(struct xsd_control *c, const struct pollfd *pfds, size_t n)
{
	size_t i, k;

	for (k = 0; k < n; k++) {
		if (!pfds[k].revents)
			continue;
		if (pfds[k].fd == c->listen_fd) {
			accept_clients(c);
			continue;
		}
		for (i = 0; i < XSD_CONTROL_MAX_CLIENTS; i++) {
			struct control_client *cl = c->clients[i];

			if (!cl || cl->fd != pfds[k].fd)
				continue;
			if (pfds[k].revents & (POLLIN | POLLHUP | POLLERR))
				read_client(c, cl);
			break;
		}
	}
	for (i = 0; i < XSD_CONTROL_MAX_CLIENTS; i++) {
		struct control_client *cl = c->clients[i];

		if (!cl)
			continue;
		/*
		 * Run buffered commands and send answers until either no complete
		 * command is left or the client is throttled with output pending
		 * (then POLLOUT brings us back): a full input buffer of commands
		 * asks for no poll event by itself, so it must not be left here.
		 */
		for (;;) {
			process_input(c, cl);
			flush(c, cl);
			if (cl->dead || !memchr(cl->in, '\n', cl->inlen) ||
			    cl->outlen - cl->outoff >= XSD_CONTROL_THROTTLE)
				break;
		}
		if (!cl->dead)
			expire(c, cl, c->now_ns());   /* not before any stamp set above */
		if (cl->dead || (cl->eof && cl->outlen == cl->outoff && !memchr(cl->in, '\n', cl->inlen))) {
			client_free(cl);
			c->clients[i] = NULL;
		}
	}
}
