/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conn.c - the transport shared by xensim's drop-in Xen client libraries.
 *
 * DOC: Overview
 * Each library handle opens its own SOCK_SEQPACKET connection(s) to the
 * xensim server; seqpacket keeps message boundaries, so a request is one
 * sendmsg() of [header, payload pieces] and its reply one recvmsg() into
 * [header, caller's buffers].  The header's seq ties a reply to its request;
 * since a CALLS connection is used under its mutex by one request at a time,
 * any other seq, a short or truncated message, or EOF is a protocol failure
 * reported as -EPROTO / -EMSGSIZE / -ECONNRESET, never a crash.
 *
 * The HELLO reply of a CALLS connection carries the host-memory memfd as
 * SCM_RIGHTS ancillary data; it is received with MSG_CMSG_CLOEXEC so that a
 * fork+exec of the client does not leak host memory into the child.
 *
 * Error reporting follows the real libraries: they print through their
 * xentoollog logger (stderr by default) when the device is missing; we do
 * the same when the server socket is missing or refuses.
 */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xentoollog.h>

#include "simstub.h"

/* Through the caller's logger as the real libraries do, else on stderr. */
static void report(struct xentoollog_logger *lg, const char *who, int err,
		   const char *what, const char *path)
{
	if (lg)
		xtl_log(lg, XTL_ERROR, err, who, "%s (xensim socket %s)", what, path);
	else
		fprintf(stderr, "%s: error: %s (xensim socket %s): %s\n", who, what,
			path, strerror(err));
}

const char *sim_conn_socket_path(void)
{
	const char *p = getenv(SIM_WIRE_ENV_SOCKET);

	return (p && *p) ? p : SIM_WIRE_DEFAULT_SOCKET;
}

uint32_t sim_conn_as_domid(void)
{
	const char *s = getenv("XENSIM_AS_DOMID");
	char *end;
	unsigned long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0x7fef) {
		fprintf(stderr, "xensim client: ignoring bad XENSIM_AS_DOMID '%s'\n", s);
		return 0;
	}
	return (uint32_t)v;
}

void sim_stub_enosys(const char *fn)
{
	if (getenv("XENSIM_TRACE_STUBS"))
		fprintf(stderr, "xensim: %s is not simulated (ENOSYS)\n", fn);
	errno = ENOSYS;
}

static int send_msg(struct sim_conn *c, uint32_t op, const struct iovec *req,
		    int nreq)
{
	struct iovec iov[8];
	struct sim_wire_hdr hdr = { .op = op, .seq = ++c->seq };
	struct msghdr mh = { .msg_iov = iov };
	size_t len = 0;
	ssize_t r;
	int i;

	if (nreq > 7)
		return -EINVAL;
	for (i = 0; i < nreq; i++) {
		iov[i + 1] = req[i];
		len += req[i].iov_len;
	}
	if (len + sizeof(hdr) > SIM_WIRE_MAX_MSG)
		return -EMSGSIZE;
	hdr.len = (uint32_t)len;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	mh.msg_iovlen = (size_t)nreq + 1;
	do
		r = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if ((size_t)r != len + sizeof(hdr))
		return -EPROTO;
	return 0;
}

/*
 * Receive one message into [hdr, rep...], optionally with one passed fd.
 * Returns payload length or -errno.
 */
static long recv_msg(struct sim_conn *c, struct sim_wire_hdr *hdr,
		     const struct iovec *rep, int nrep, int *fd_out, int flags)
{
	struct iovec iov[8];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct msghdr mh = { .msg_iov = iov };
	ssize_t r;
	int i;

	if (nrep > 7)
		return -EINVAL;
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(*hdr);
	for (i = 0; i < nrep; i++)
		iov[i + 1] = rep[i];
	mh.msg_iovlen = (size_t)nrep + 1;
	if (fd_out) {
		*fd_out = -1;
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
	}
	do
		r = recvmsg(c->fd, &mh, flags | MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (fd_out) {
		struct cmsghdr *ch;

		for (ch = CMSG_FIRSTHDR(&mh); ch; ch = CMSG_NXTHDR(&mh, ch))
			if (ch->cmsg_level == SOL_SOCKET && ch->cmsg_type == SCM_RIGHTS &&
			    ch->cmsg_len >= CMSG_LEN(sizeof(int)))
				memcpy(fd_out, CMSG_DATA(ch), sizeof(int));
	}
	if (r == 0)
		return -ECONNRESET;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (fd_out && *fd_out >= 0) {
			close(*fd_out);
			*fd_out = -1;
		}
		return -EMSGSIZE;
	}
	if ((size_t)r < sizeof(*hdr) || hdr->len != (size_t)r - sizeof(*hdr))
		return -EPROTO;
	return (long)hdr->len;
}

int sim_conn_open(struct sim_conn *c, uint32_t kind, uint64_t cookie,
		  struct xentoollog_logger *lg, const char *who)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = sim_conn_socket_path();
	struct sim_wire_hello hello = {
		.version = SIM_WIRE_VERSION, .kind = kind, .cookie = cookie,
		.as_domid = sim_conn_as_domid(),
	};
	struct sim_wire_hello_reply rep;
	struct sim_wire_hdr hdr;
	struct iovec req = { &hello, sizeof(hello) };
	struct iovec repv = { &rep, sizeof(rep) };
	int memfd = -1;
	long n;
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->memfd = -1;
	c->kind = kind;
	pthread_mutex_init(&c->lock, NULL);

	if (strlen(path) >= sizeof(sa.sun_path)) {
		rc = -ENAMETOOLONG;
		report(lg, who, -rc, "socket path too long", path);
		goto out;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		goto out;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		report(lg, who, -rc, "Could not obtain handle on the simulated "
		       "privileged command interface", path);
		goto out;
	}
	rc = send_msg(c, SIM_OP_HELLO, &req, 1);
	if (rc)
		goto proto;
	memset(&rep, 0, sizeof(rep));
	n = recv_msg(c, &hdr, &repv, 1, kind == SIM_CONN_CALLS ? &memfd : NULL, 0);
	if (n < 0) {
		rc = (int)n;
		goto proto;
	}
	if (hdr.op != SIM_OP_HELLO || hdr.seq != c->seq) {
		rc = -EPROTO;
		goto proto;
	}
	if (hdr.ret < 0) {
		rc = (int)hdr.ret;
		goto proto;
	}
	if ((size_t)n < sizeof(rep)) {
		rc = -EPROTO;
		goto proto;
	}
	c->cookie = rep.cookie;
	c->nr_frames = rep.nr_frames;
	c->patched = rep.patched;
	c->memfd = memfd;
	return 0;

proto:
	if (memfd >= 0)
		close(memfd);
	report(lg, who, -rc, "xensim refused the connection", path);
out:
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	pthread_mutex_destroy(&c->lock);
	return rc;
}

int sim_conn_open_pair(struct sim_conn *calls, struct sim_conn *push,
		       uint32_t push_kind, struct xentoollog_logger *lg,
		       const char *who)
{
	int rc = sim_conn_open(calls, SIM_CONN_CALLS, 0, lg, who);

	if (rc)
		return rc;
	rc = sim_conn_open(push, push_kind, calls->cookie, lg, who);
	if (rc) {
		sim_conn_close(calls);
		return rc;
	}
	if (calls->memfd >= 0) {
		close(calls->memfd);
		calls->memfd = -1;
	}
	return 0;
}

void sim_conn_close(struct sim_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->memfd >= 0)
		close(c->memfd);
	c->fd = c->memfd = -1;
	pthread_mutex_destroy(&c->lock);
}

int64_t sim_conn_call(struct sim_conn *c, uint32_t op,
		      const struct iovec *req, int nreq,
		      const struct iovec *rep, int nrep, size_t *replen)
{
	return sim_conn_call_fd(c, op, req, nreq, rep, nrep, replen, NULL);
}

int64_t sim_conn_call_fd(struct sim_conn *c, uint32_t op,
			 const struct iovec *req, int nreq,
			 const struct iovec *rep, int nrep, size_t *replen,
			 int *fd_out)
{
	struct sim_wire_hdr hdr;
	int64_t ret;
	long n;
	int rc;

	if (fd_out)
		*fd_out = -1;
	pthread_mutex_lock(&c->lock);
	if (c->fd < 0) {
		ret = -EBADF;
		goto out;
	}
	rc = send_msg(c, op, req, nreq);
	if (rc) {
		ret = rc;
		goto out;
	}
	n = recv_msg(c, &hdr, rep, nrep, fd_out, 0);
	if (n < 0) {
		ret = n;
		goto out;
	}
	if (hdr.op != op || hdr.seq != c->seq) {
		ret = -EPROTO;
		goto out;
	}
	if (replen)
		*replen = (size_t)n;
	ret = hdr.ret;
	/* Anything but a plain -errno would be misread by every caller. */
	if (ret < -4095)
		ret = -EPROTO;
out:
	pthread_mutex_unlock(&c->lock);
	if (ret < 0 && fd_out && *fd_out >= 0) {
		close(*fd_out);
		*fd_out = -1;
	}
	return ret;
}

int64_t sim_conn_call1(struct sim_conn *c, uint32_t op, const void *req,
		       size_t reqlen, void *rep, size_t repmax, size_t *replen)
{
	struct iovec q = { (void *)req, reqlen }, r = { rep, repmax };

	return sim_conn_call(c, op, &q, req ? 1 : 0, &r, rep ? 1 : 0, replen);
}

long sim_conn_recv_push(struct sim_conn *c, uint32_t *op, void *buf,
			size_t max, int nonblock)
{
	struct sim_wire_hdr hdr;
	struct iovec r = { buf, max };
	long n;

	/* No lock: only the owning handle's reader consumes pushed messages. */
	n = recv_msg(c, &hdr, &r, 1, NULL, nonblock ? MSG_DONTWAIT : 0);
	if (n < 0)
		return n;
	*op = hdr.op;
	return n;
}
