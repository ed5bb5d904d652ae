/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * conn.h - one connection of a drop-in Xen client library to the xensim
 * server (wire.h), shared by the four libraries (compiled into each, with
 * hidden visibility through the version scripts' "local: *").
 *
 * A sim_conn is owned by exactly one library handle (xc_interface,
 * xenforeignmemory_handle, ...); connections are never shared between
 * handles, so a handle's failure or close affects no other.  Requests on a
 * CALLS connection are strictly request/reply under the connection's mutex:
 * one message out, one message back with the same seq.
 */
#ifndef XENSIM_CLIENT_CONN_H
#define XENSIM_CLIENT_CONN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../wire.h"

struct sim_conn {
	int fd;
	uint32_t seq;
	uint32_t kind;           /* enum sim_conn_kind */
	pthread_mutex_t lock;
	/* from the HELLO reply (CALLS only) */
	uint64_t cookie;
	int memfd;               /* host memory, -1 if not received */
	uint64_t nr_frames;
	uint32_t patched;
};

/*
 * Connect to $XENSIM_SOCKET (or SIM_WIRE_DEFAULT_SOCKET) and say HELLO as
 * kind, as domain $XENSIM_AS_DOMID (default 0).  For EVENTS and WATCHES,
 * cookie names the CALLS connection to pair with.  who names the library
 * in error messages, printed through lg (NULL: stderr) as the real
 * libraries log a missing /dev/xen device.  Returns 0 or -errno (-ENOENT /
 * -ECONNREFUSED: no server).
 */
struct xentoollog_logger;
int sim_conn_open(struct sim_conn *c, uint32_t kind, uint64_t cookie,
		  struct xentoollog_logger *lg, const char *who);
void sim_conn_close(struct sim_conn *c);
/*
 * A CALLS connection and the push connection (EVENTS or WATCHES) paired
 * with it, as libxenevtchn and libxenstore handles hold them.  Host memory
 * is of no use to them: the memfd is closed.  0, or -errno with neither
 * left open.
 */
int sim_conn_open_pair(struct sim_conn *calls, struct sim_conn *push,
		       uint32_t push_kind, struct xentoollog_logger *lg,
		       const char *who);

/* The socket path the library uses. */
const char *sim_conn_socket_path(void);

/*
 * One request/reply on a CALLS connection.  The request payload is the
 * concatenation of req[0..nreq); the reply payload is scattered into
 * rep[0..nrep) (unused tail left untouched) and its length stored in
 * *replen when replen is not NULL.  Returns the reply's ret (>= 0, or the
 * server's -errno), or -errno of the transport (-EPIPE/-ECONNRESET when
 * the server went away, -EPROTO on a malformed reply, -EMSGSIZE).
 * Takes c->lock.
 */
int64_t sim_conn_call(struct sim_conn *c, uint32_t op,
		      const struct iovec *req, int nreq,
		      const struct iovec *rep, int nrep, size_t *replen);
/*
 * Same, for a reply that may pass a file descriptor: *fd_out gets it (the
 * caller closes it), or -1.
 */
int64_t sim_conn_call_fd(struct sim_conn *c, uint32_t op,
			 const struct iovec *req, int nreq,
			 const struct iovec *rep, int nrep, size_t *replen,
			 int *fd_out);

/* Same with one request buffer and one reply buffer. */
int64_t sim_conn_call1(struct sim_conn *c, uint32_t op, const void *req,
		       size_t reqlen, void *rep, size_t repmax, size_t *replen);

/*
 * Receive one pushed message (SIM_OP_EVENT, SIM_OP_XS_WATCH_EVENT) on an
 * EVENTS/WATCHES connection.  Honours O_NONBLOCK set on the fd by the
 * caller (-EAGAIN), unless nonblock forces it.  Returns the payload length
 * or -errno; *op gets the message's op.
 */
long sim_conn_recv_push(struct sim_conn *c, uint32_t *op, void *buf,
			size_t max, int nonblock);

/* $XENSIM_AS_DOMID or 0. */
uint32_t sim_conn_as_domid(void);

#endif /* XENSIM_CLIENT_CONN_H */
