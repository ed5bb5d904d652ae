/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * server.c - the xensim host process: its transport and main loop.
 *
 * DOC: Overview
 *
 * One thread runs a poll() loop over: the listening SOCK_SEQPACKET socket,
 * every client connection, an eventfd that hypervisor notifications wake,
 * and a signalfd for SIGTERM/SIGINT.  Every request is handled to the end
 * (hypercall into the model, xenstore operation, guest creation) before the next
 * one is read, so the store and the server's tables need no locks; the
 * hypervisor model has its own lock because guest vCPU threads (vcpu.c)
 * write memory concurrently.
 *
 * Connections (wire.h): a CALLS connection gets a cookie and the memfd of
 * host memory; foreign mappings, event channel bindings and xenstore
 * watches belong to that cookie, so when the connection goes away the
 * server drops all of them (sim_hv_unmap_owner(), bindings, watches) -- a
 * client killed with -9 leaks nothing, as with privcmd and xenstored.
 * EVENTS and WATCHES connections are paired with a CALLS cookie and only
 * ever receive pushed messages; those are queued per connection and sent
 * when the socket is writable, so a slow client never blocks the host.
 *
 * Hypervisor notifications (the sharing ring's event channel, VIRQ_ENOMEM)
 * arrive through sim_hv_set_notify() on whatever thread raised them, after
 * hv dropped its lock; the callback only queues them under nq_lock and
 * kicks the eventfd, and the poll loop forwards them.
 *
 * The requests themselves are handled by the server's parts, sharing its
 * state (srv.h): xenstore requests (srv_xenstore.c), hypercalls and event
 * channels (srv_hypercall.c), the command line's (srv_cli.c); the guests,
 * their memory and balloons are srv_guest.c's.
 *
 * Robustness: every request is length-checked before its payload is read;
 * anything malformed gets an error reply (-EINVAL / -EPROTO / -EMSGSIZE),
 * never a crash.  Replies to CALLS connections are sent blocking with a
 * send timeout; a client that stops reading its replies is disconnected.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>

#include "cli.h"
#include "srv.h"
#include "srv_cli.h"
#include "srv_guest.h"
#include "srv_hypercall.h"
#include "srv_xenstore.h"

#define SIM_SERVER_TICK_MS 250
#define SIM_OUTQ_MAX 65536          /* pushed messages queued per connection */
#define SIM_EVTCHN_FIRST_PORT 32    /* local ports below are "used by dom0's kernel" */

struct sim_out_msg {
	struct sim_out_msg *next;
	size_t len;
	uint8_t data[];
};

struct sim_notice { uint32_t domid, port; };

/* ---- sending ------------------------------------------------------------ */

static int send_fd_msg(int fd, const struct sim_wire_hdr *hdr, const void *payload,
		       int pass_fd)
{
	struct iovec iov[2] = {
		{ (void *)hdr, sizeof(*hdr) }, { (void *)payload, hdr->len },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = hdr->len ? 2 : 1 };
	ssize_t r;

	if (pass_fd >= 0) {
		struct cmsghdr *ch;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		ch = CMSG_FIRSTHDR(&mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(ch), &pass_fd, sizeof(int));
	}
	do
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return 0;
}

/* Flushes as much of a pushed-message queue as the socket takes. */
static void client_flush(struct sim_client *c)
{
	while (c->outq && !c->dead) {
		struct sim_out_msg *m = c->outq;
		ssize_t r = send(c->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			c->dead = true;
			return;
		}
		c->outq = m->next;
		if (!c->outq)
			c->outq_tail = NULL;
		c->outq_len--;
		free(m);
	}
}

static void client_push(struct sim_client *c, uint32_t op, const void *a, size_t alen,
			const void *b, size_t blen)
{
	struct sim_wire_hdr hdr = { .op = op, .len = (uint32_t)(alen + blen) };
	struct sim_out_msg *m;

	if (c->dead)
		return;
	if (c->outq_len >= SIM_OUTQ_MAX) {
		if (!c->dropped_warned)
			srv_log("client cookie %" PRIu64 " does not read its %s: dropping pushed messages",
			      c->cookie, c->kind == SIM_CONN_EVENTS ? "events" : "watch events");
		c->dropped_warned = true;
		return;
	}
	m = malloc(sizeof(*m) + sizeof(hdr) + alen + blen);
	if (!m) {
		srv_log("out of memory queueing a pushed message: dropped");
		return;
	}
	m->next = NULL;
	m->len = sizeof(hdr) + alen + blen;
	memcpy(m->data, &hdr, sizeof(hdr));
	if (alen)
		memcpy(m->data + sizeof(hdr), a, alen);
	if (blen)
		memcpy(m->data + sizeof(hdr) + alen, b, blen);
	if (c->outq_tail)
		c->outq_tail->next = m;
	else
		c->outq = m;
	c->outq_tail = m;
	c->outq_len++;
	client_flush(c);
}

/* ---- notifications from the hypervisor and the store ---------------------- */

static void on_hv_notify(void *arg, uint32_t domid, uint32_t port)
{
	struct sim_server *srv = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&srv->nq_lock);
	if (srv->nq_len == srv->nq_cap) {
		size_t cap = srv->nq_cap ? srv->nq_cap * 2 : 64;
		struct sim_notice *n = realloc(srv->nq, cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&srv->nq_lock);
			fprintf(stderr, "xensim: out of memory: lost notification dom%u port %u\n",
				domid, port);
			return;
		}
		srv->nq = n;
		srv->nq_cap = cap;
	}
	srv->nq[srv->nq_len++] = (struct sim_notice){ domid, port };
	pthread_mutex_unlock(&srv->nq_lock);
	if (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fprintf(stderr, "xensim: cannot wake the server: %s\n", strerror(errno));
}

static void deliver_event(struct sim_server *srv, const struct sim_binding *b)
{
	struct sim_wire_evtchn ev = { .domid = b->virq ? 0 : b->remote_dom, .port = b->local_port };

	for (struct sim_client *c = srv->clients; c; c = c->next)
		if (c->kind == SIM_CONN_EVENTS && c->cookie == b->cookie)
			client_push(c, SIM_OP_EVENT, &ev, sizeof(ev), NULL, 0);
}

/*
 * Fault injection: a notification may be lost or come twice (fault.c says
 * why a consumer must survive both).  Both draws are made for every
 * notification, so the two kinds stay independent.
 */
static void deliver_faulted(struct sim_server *srv, const struct sim_binding *b)
{
	bool drop = sim_fault_draw(srv->faults, SIM_FK_EVT_DROP, NULL);
	bool twice = sim_fault_draw(srv->faults, SIM_FK_EVT_DOUBLE, NULL);
	char what[96];

	snprintf(what, sizeof(what), "%s of client cookie %" PRIu64 " (local port %u)",
		 b->virq ? "VIRQ_ENOMEM" : "sharing ring event", b->cookie, b->local_port);
	if (drop) {
		sim_fault_note(srv->faults, SIM_FK_EVT_DROP, 1, "%s dropped", what);
		return;
	}
	deliver_event(srv, b);
	if (twice) {
		sim_fault_note(srv->faults, SIM_FK_EVT_DOUBLE, 1, "%s delivered twice", what);
		deliver_event(srv, b);
	}
}

static void drain_notices(struct sim_server *srv)
{
	struct sim_notice *q;
	size_t n;
	uint64_t v;

	if (read(srv->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		srv_log("eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&srv->nq_lock);
	q = srv->nq;
	n = srv->nq_len;
	srv->nq = NULL;
	srv->nq_len = srv->nq_cap = 0;
	pthread_mutex_unlock(&srv->nq_lock);
	for (size_t i = 0; i < n; i++) {
		bool virq = q[i].domid == 0 && q[i].port == 0;

		for (struct sim_binding *b = srv->bindings; b; b = b->next) {
			if (virq ? (b->virq && b->remote_port == VIRQ_ENOMEM)
				 : (!b->virq && b->remote_dom == q[i].domid &&
				    b->remote_port == q[i].port))
				deliver_faulted(srv, b);
		}
	}
	free(q);
}

static void on_store_fire(void *arg, uint64_t cookie, const char *path, const char *token)
{
	struct sim_server *srv = arg;

	for (struct sim_client *c = srv->clients; c; c = c->next)
		if (c->kind == SIM_CONN_WATCHES && c->cookie == cookie)
			client_push(c, SIM_OP_XS_WATCH_EVENT, path, strlen(path) + 1,
				    token, strlen(token) + 1);
}

/* ---- requests --------------------------------------------------------------- */

static void op_hello(struct sim_server *srv, struct sim_client *c, const uint8_t *p,
		     size_t len, struct sim_reply *r)
{
	struct sim_wire_hello h;
	struct sim_wire_hello_reply rep = { 0 };
	uint64_t total = 0, free_frames = 0;

	NEED(len >= sizeof(h));
	memcpy(&h, p, sizeof(h));
	if (c->kind) {
		r->ret = -EISCONN;
		return;
	}
	if (h.version != SIM_WIRE_VERSION) {
		r->ret = -EPROTONOSUPPORT;
		return;
	}
	if (h.as_domid >= DOMID_FIRST_RESERVED) {
		r->ret = -EINVAL;
		return;
	}
	switch (h.kind) {
	case SIM_CONN_CALLS:
		c->cookie = ++srv->next_cookie;
		c->cli = h.flags & SIM_HELLO_CLI;
		r->pass_fd = sim_hv_frames_fd(srv->hv);
		break;
	case SIM_CONN_EVENTS:
	case SIM_CONN_WATCHES: {
		struct sim_client *pair = NULL;

		for (struct sim_client *o = srv->clients; o; o = o->next)
			if (o->kind == SIM_CONN_CALLS && o->cookie == h.cookie && !o->dead)
				pair = o;
		if (!pair) {
			r->ret = -ENOENT;
			return;
		}
		/* libxenstore's getinfo (xs_is_domain_introduced) asks xenstored,
		 * not the hypervisor: no hypercall faults on that connection */
		if (h.kind == SIM_CONN_WATCHES)
			pair->xenstore = true;
		c->cookie = h.cookie;
		break;
	}
	default:
		r->ret = -EINVAL;
		return;
	}
	c->kind = h.kind;
	c->as_domid = h.as_domid;
	sim_hv_physinfo(srv->hv, &total, &free_frames);
	rep.cookie = c->cookie;
	rep.nr_frames = total;
	rep.patched = srv->hv_cfg->patched;
	memcpy(srv->tx, &rep, sizeof(rep));
	r->len = sizeof(rep);
}

static void dispatch(struct sim_server *srv, struct sim_client *c,
		     const struct sim_wire_hdr *hdr, const uint8_t *p, size_t len,
		     struct sim_reply *r)
{
	uint32_t op = hdr->op;

	if (op == SIM_OP_HELLO) {
		op_hello(srv, c, p, len, r);
		return;
	}
	if (c->kind != SIM_CONN_CALLS) {
		/* no HELLO yet, or a push-only connection sending requests */
		r->ret = c->kind ? -EINVAL : -ENOTCONN;
		return;
	}
	if (op >= SIM_OP_XS_READ && op <= SIM_OP_XS_INTRODUCE) {
		if (op == SIM_OP_XS_WATCH_EVENT || op == SIM_OP_XS_INTRODUCE) {
			r->ret = op == SIM_OP_XS_INTRODUCE ? -ENOSYS : -EINVAL;
			return;
		}
		srv_op_xenstore(srv, c, op, p, len, r);
		return;
	}
	/* Everything else is a privileged (dom0) interface. */
	if (c->as_domid != 0) {
		r->ret = -EPERM;
		if (op >= SIM_OP_CLI_FIRST)
			srv_set_text(srv, r, "only dom0 may control the host");
		return;
	}
	if (op >= SIM_OP_CLI_FIRST)
		srv_op_cli(srv, c, op, p, len, r);
	else if (op >= SIM_OP_EVTCHN_BIND_INTERDOMAIN && op <= SIM_OP_EVENT)
		srv_op_evtchn(srv, c, op, p, len, r);
	else
		srv_op_hypercall(srv, c, op, p, len, r);
}

/* Reads and answers one request. */
static void client_read(struct sim_server *srv, struct sim_client *c)
{
	struct sim_wire_hdr hdr, rh;
	struct sim_reply r = { .ret = 0, .len = 0, .pass_fd = -1 };
	struct msghdr mh = { 0 };
	struct iovec iov = { srv->rx, SIM_WIRE_MAX_MSG };
	ssize_t n;
	int rc;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->dead = true;
		return;
	}
	if (n == 0) {
		c->dead = true;
		return;
	}
	if ((size_t)n < sizeof(hdr)) {
		/* not even a header: nothing to answer to */
		srv_log("client cookie %" PRIu64 ": %zd-byte message, dropping connection",
		      c->cookie, n);
		c->dead = true;
		return;
	}
	memcpy(&hdr, srv->rx, sizeof(hdr));
	if (mh.msg_flags & MSG_TRUNC)
		r.ret = -EMSGSIZE;
	else if (hdr.len != (size_t)n - sizeof(hdr))
		r.ret = -EPROTO;
	else {
		/* the command line's requests neither meet nor draw faults */
		sim_faults_set_active(srv->faults, !c->cli);
		dispatch(srv, c, &hdr, srv->rx + sizeof(hdr), hdr.len, &r);
		sim_faults_set_active(srv->faults, true);
	}
	if (sim_hv_panic_reason(srv->hv)) {
		/* A Xen BUG(): the whole host goes down, dom0 with it; nothing
		 * is answered and every client sees its connection drop. */
		srv_log("(XEN) %s", sim_hv_panic_reason(srv->hv));
		srv_log("(XEN) Panic on CPU 0 in op %u: host down", hdr.op);
		_exit(SIM_EXIT_PANIC);
	}
	if (c->kind == SIM_CONN_EVENTS || c->kind == SIM_CONN_WATCHES) {
		if (hdr.op != SIM_OP_HELLO)
			return;   /* push-only: requests get no reply, only HELLO does */
	}
	/* non-CLI ops carry no payload on failure (clients size their buffers for success) */
	if (r.ret < 0 && hdr.op < SIM_OP_CLI_FIRST)
		r.len = 0;
	if (r.ret < 0)
		r.pass_fd = -1;
	rh = (struct sim_wire_hdr){ .op = hdr.op, .seq = hdr.seq, .ret = r.ret, .len = (uint32_t)r.len };
	rc = send_fd_msg(c->fd, &rh, srv->tx, r.pass_fd);
	if (r.close_fd && r.pass_fd >= 0)
		close(r.pass_fd);
	if (rc) {
		srv_log("client cookie %" PRIu64 ": reply to op %u failed (%s), dropping connection",
		      c->cookie, hdr.op, strerror(-rc));
		c->dead = true;
	}
}

static void client_free(struct sim_server *srv, struct sim_client *c)
{
	if (c->kind == SIM_CONN_CALLS) {
		/* a connection's mappings, bindings and watches die with it (cookies are unique) */
		sim_hv_unmap_owner(srv->hv, c->cookie);
		sim_store_unwatch_conn(srv->store, c->cookie);
		for (struct sim_binding **pb = &srv->bindings; *pb;) {
			if ((*pb)->cookie == c->cookie) {
				struct sim_binding *b = *pb;

				*pb = b->next;
				free(b);
			} else {
				pb = &(*pb)->next;
			}
		}
	}
	while (c->outq) {
		struct sim_out_msg *m = c->outq;

		c->outq = m->next;
		free(m);
	}
	close(c->fd);
	free(c);
}

static void accept_client(struct sim_server *srv)
{
	struct timeval tv = { .tv_sec = 5 };
	struct sim_client *c;
	int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			srv_log("accept: %s", strerror(errno));
		return;
	}
	/* replies are sent blocking; a client that never reads them is dropped */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->next = srv->clients;
	srv->clients = c;
}

static void ready(const struct sim_server_opts *o, const char *status)
{
	if (o->ready_fd < 0)
		return;
	if (write(o->ready_fd, status, strlen(status)) < 0)
		fprintf(stderr, "xensim: cannot report start-up status: %s\n", strerror(errno));
	close(o->ready_fd);
}

static int listen_on(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	mode_t old;
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	/* a socket file nobody listens on is stale; one that answers is a running host */
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		snprintf(err, errlen, "another xensim is already listening on %s", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	old = umask(077);   /* the socket is created 0600 */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		umask(old);
		close(fd);
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(e));
		return -e;
	}
	umask(old);
	if (chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		int e = errno;

		close(fd);
		unlink(path);
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
		return -e;
	}
	return fd;
}

static void server_loop(struct sim_server *srv)
{
	struct pollfd *pfd = NULL;
	struct timespec now, last_check = { 0, 0 };
	size_t cap = 0;

	while (!srv->stopping) {
		size_t n = 3, i;
		struct sim_client *c;

		for (c = srv->clients; c; c = c->next)
			n++;
		if (n > cap) {
			struct pollfd *np = realloc(pfd, n * 2 * sizeof(*pfd));

			if (!np) {
				srv_log("out of memory in the poll loop; stopping");
				break;
			}
			pfd = np;
			cap = n * 2;
		}
		pfd[0] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = srv->wake_fd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = srv->signal_fd, .events = POLLIN };
		for (i = 3, c = srv->clients; c; c = c->next, i++)
			pfd[i] = (struct pollfd){ .fd = c->fd,
						  .events = POLLIN | (c->outq ? POLLOUT : 0) };
		if (poll(pfd, n, SIM_SERVER_TICK_MS) < 0) {
			if (errno == EINTR)
				continue;
			srv_log("poll: %s", strerror(errno));
			break;
		}
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(srv->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				srv_log("signal %u: stopping", si.ssi_signo);
			srv->stopping = true;
		}
		if (pfd[1].revents & POLLIN)
			drain_notices(srv);
		/* clients: the list may only grow at the head (accept below) */
		for (i = 3, c = srv->clients; c && i < n; c = c->next, i++) {
			if (pfd[i].revents & POLLOUT)
				client_flush(c);
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				if (pfd[i].revents & POLLIN)
					client_read(srv, c);
				else
					c->dead = true;
			}
		}
		for (struct sim_client **pc = &srv->clients; *pc;) {
			if ((*pc)->dead) {
				c = *pc;
				*pc = c->next;
				client_free(srv, c);
			} else {
				pc = &(*pc)->next;
			}
		}
		if (pfd[0].revents & POLLIN)
			accept_client(srv);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - last_check.tv_sec) * 1000 +
		    (now.tv_nsec - last_check.tv_nsec) / 1000000 >= SIM_SERVER_TICK_MS) {
			srv_guests_check(srv);
			last_check = now;
		}
	}
	free(pfd);
}

int sim_server_run(const struct sim_server_opts *opts)
{
	struct sim_server srv = { .hv_cfg = &opts->hv, .listen_fd = -1, .wake_fd = -1,
				   .signal_fd = -1 };
	char err[512] = "";
	sigset_t mask;
	int rc, status = 1;

	pthread_mutex_init(&srv.nq_lock, NULL);
	srv.next_port = SIM_EVTCHN_FIRST_PORT;
	srv.rx = malloc(SIM_WIRE_MAX_MSG);
	srv.tx = malloc(SIM_WIRE_MAX_MSG);
	if (!srv.rx || !srv.tx) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	rc = sim_hv_create(&opts->hv, &srv.hv);
	if (rc) {
		snprintf(err, sizeof(err), "cannot create the host (%" PRIu64 " frames, dom0 %" PRIu64
			 " frames): %s", opts->hv.nr_frames, opts->hv.dom0_pages, strerror(-rc));
		goto out;
	}
	sim_hv_set_notify(srv.hv, on_hv_notify, &srv);
	srv.faults = sim_hv_faults(srv.hv);
	rc = sim_store_alloc(on_store_fire, &srv, &srv.store);
	if (rc) {
		snprintf(err, sizeof(err), "cannot create the xenstore: %s", strerror(-rc));
		goto out;
	}
	srv_dom0_write_nodes(&srv);
	srv.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);   /* before any vCPU thread exists */
	signal(SIGPIPE, SIG_IGN);
	srv.signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (srv.wake_fd < 0 || srv.signal_fd < 0) {
		snprintf(err, sizeof(err), "eventfd/signalfd: %s", strerror(errno));
		goto out;
	}
	srv.listen_fd = listen_on(opts->socket_path, err, sizeof(err));
	if (srv.listen_fd < 0)
		goto out;
	srv_log("host up: %" PRIu64 " MiB (%" PRIu64 " frames), dom0 %" PRIu64 " MiB, %s hypervisor%s%s%s; listening on %s",
	      opts->hv.nr_frames / 256, opts->hv.nr_frames, opts->hv.dom0_pages / 256,
	      opts->hv.patched ? "patched" : "unpatched", opts->hv.cpu_vmx ? "" : ", no VMX",
	      opts->hv.debug_build ? ", debug build" : "",
	      opts->hv.no_mem_sharing ? ", no CONFIG_MEM_SHARING" : "", opts->socket_path);
	if (srv.faults) {
		char kinds[256] = "";

		for (unsigned int k = 0; k < SIM_FK_NR; k++)
			if (opts->hv.faults.kinds & (1u << k))
				snprintf(kinds + strlen(kinds), sizeof(kinds) - strlen(kinds), "%s%s=%g",
					 kinds[0] ? "," : "", sim_fault_kind_name(k),
					 opts->hv.faults.rates[k]);
		srv_log("fault injection on: seed %" PRIu64 ", rate %g per operation, kinds %s",
		      opts->hv.faults.seed, opts->hv.faults.rate, kinds);
	}
	ready(opts, "ok\n");
	server_loop(&srv);
	status = 0;
out:
	if (err[0]) {
		char line[600];

		fprintf(stderr, "xensim: %s\n", err);
		snprintf(line, sizeof(line), "error: %s\n", err);
		ready(opts, line);
	}
	/*
	 * Take the name down first: clients learn that the host stopped when
	 * their connection closes below, and by then the socket must be gone
	 * (`xensim stop` returns on that close; a new start may follow).
	 */
	if (srv.listen_fd >= 0) {
		close(srv.listen_fd);
		srv.listen_fd = -1;
		unlink(opts->socket_path);
	}
	while (srv.guests)
		srv_guest_destroy(&srv, srv.guests);
	if (srv.hv)
		sim_hv_set_notify(srv.hv, NULL, NULL);   /* no vCPU is left to raise one */
	while (srv.clients) {
		struct sim_client *c = srv.clients;

		srv.clients = c->next;
		client_free(&srv, c);
	}
	while (srv.bindings) {
		struct sim_binding *b = srv.bindings;

		srv.bindings = b->next;
		free(b);
	}
	if (srv.listen_fd >= 0) {
		close(srv.listen_fd);
		unlink(opts->socket_path);
	}
	if (srv.wake_fd >= 0)
		close(srv.wake_fd);
	if (srv.signal_fd >= 0)
		close(srv.signal_fd);
	sim_store_free(srv.store);
	if (srv.hv)
		sim_hv_destroy(srv.hv);
	free(srv.nq);
	free(srv.rx);
	free(srv.tx);
	pthread_mutex_destroy(&srv.nq_lock);
	if (status == 0)
		srv_log("host stopped");
	return status;
}
