/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xevtchn.c - drop-in libxenevtchn.so.1 for xensim.
 *
 * DOC: Overview
 * A handle pairs two connections: CALLS for bind/unbind/notify requests and
 * EVENTS, on which the server pushes one SIM_OP_EVENT message per event on a
 * port bound through this handle.  The EVENTS socket is xenevtchn_fd(): it
 * polls readable exactly when xenevtchn_pending() has something to return,
 * like /dev/xen/evtchn.  pending() reads one message; it blocks unless the
 * caller set O_NONBLOCK on the fd (then -1/EAGAIN), as the real read() does.
 * The kernel driver masks a port when it delivers an event and unmask()
 * re-enables it; the simulator delivers every event, so unmask() only
 * checks its argument and succeeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <xenevtchn.h>

#include "conn.h"

struct xenevtchn_handle {
	struct sim_conn calls;
	struct sim_conn events;
};

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
				 unsigned int open_flags)
{
	xenevtchn_handle *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return NULL;
	rc = sim_conn_open_pair(&h->calls, &h->events, SIM_CONN_EVENTS, logger,
				"xenevtchn");
	if (rc)
		goto fail;
	if ((open_flags & XENEVTCHN_NO_CLOEXEC) &&
	    fcntl(h->events.fd, F_SETFD, 0) < 0) {
		rc = -errno;
		sim_conn_close(&h->events);
		sim_conn_close(&h->calls);
		goto fail;
	}
	return h;
fail:
	free(h);
	errno = -rc;
	return NULL;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	if (!xce)
		return 0;
	sim_conn_close(&xce->events);
	sim_conn_close(&xce->calls);
	free(xce);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->events.fd;
}

static int evtchn_call(xenevtchn_handle *xce, uint32_t op, uint32_t domid,
		       uint32_t port)
{
	struct sim_wire_evtchn req = { .domid = domid, .port = port };
	int64_t r = sim_conn_call1(&xce->calls, op, &req, sizeof(req), NULL, 0, NULL);

	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	if (r > INT32_MAX) {
		errno = EPROTO;
		return -1;
	}
	return (int)r;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	return evtchn_call(xce, SIM_OP_EVTCHN_NOTIFY, 0, port) < 0 ? -1 : 0;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce,
						     uint32_t domid,
						     evtchn_port_t remote_port)
{
	return evtchn_call(xce, SIM_OP_EVTCHN_BIND_INTERDOMAIN, domid, remote_port);
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce,
					      unsigned int virq)
{
	return evtchn_call(xce, SIM_OP_EVTCHN_BIND_VIRQ, 0, virq);
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	return evtchn_call(xce, SIM_OP_EVTCHN_UNBIND, 0, port) < 0 ? -1 : 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	struct sim_wire_evtchn ev;
	uint32_t op;
	long n = sim_conn_recv_push(&xce->events, &op, &ev, sizeof(ev), 0);

	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	if (op != SIM_OP_EVENT || (size_t)n != sizeof(ev) || ev.port > INT32_MAX) {
		errno = EPROTO;
		return -1;
	}
	return (xenevtchn_port_or_error_t)ev.port;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	(void)port;
	return 0;
}
