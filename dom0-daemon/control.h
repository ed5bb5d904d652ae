/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * control.h - the control socket server (protocol: docs/control-protocol.md).
 *
 * A Unix stream socket, mode 0600, serving any number (up to
 * XSD_CONTROL_MAX_CLIENTS) of clients at once.  A client sends one command
 * per line; the handler writes exactly one JSON object as the answer.  The
 * server never blocks: sockets are non-blocking, answers are queued per
 * client, and a client that does not read its answers is first throttled
 * (its further commands are not read while XSD_CONTROL_THROTTLE bytes are
 * pending) and then dropped (more than XSD_CONTROL_MAX_PENDING bytes pending,
 * or nothing could be written for XSD_CONTROL_STALL_S seconds).  A client
 * with nothing pending is closed after XSD_CONTROL_IDLE_S, one that leaves a
 * line unfinished for XSD_CONTROL_LINE_S is answered with an error and
 * closed, and a connection that finds every slot taken takes the slot of
 * the client quiet longest, so the operator is always served at once.
 * The timeouts are checked in xsd_control_handle(), which the daemon's loop
 * calls at least once a second.
 *
 * The server knows no commands: the daemon's handler does, so this module is
 * tested against a socketpair with a test handler.
 */
#ifndef XSD_CONTROL_H
#define XSD_CONTROL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define XSD_CONTROL_MAX_CLIENTS 16
#define XSD_CONTROL_MAX_LINE 1024
#define XSD_CONTROL_THROTTLE (64 * 1024)
#define XSD_CONTROL_MAX_PENDING (8 * 1024 * 1024)
#define XSD_CONTROL_STALL_S 30
#define XSD_CONTROL_IDLE_S 60
#define XSD_CONTROL_LINE_S 10
/* pollfds one server needs at most: the listener and the clients */
#define XSD_CONTROL_MAX_POLLFDS (XSD_CONTROL_MAX_CLIENTS + 1)

struct xsd_control;

/* Answers one command (cmd, and args after the first blank, "" if none)
 * by writing one JSON value into out. */
typedef void xsd_control_cmd_fn(void *arg, const char *cmd, const char *args,
				struct xsd_json *out);

/*
 * Creates the socket at path: makes its directory (0700) if missing,
 * replaces a stale socket, refuses (-EADDRINUSE) if a live server answers
 * on it, and refuses (-EEXIST) to replace anything that is not a socket.
 * A message saying why is written to err.
 */
int xsd_control_open(const char *path, xsd_control_cmd_fn *fn, void *arg,
		     struct xsd_control **out, char *err, size_t errlen);
/* A server without a listening socket (tests: clients from socketpair()). */
int xsd_control_alloc(xsd_control_cmd_fn *fn, void *arg, struct xsd_control **out);
/* Adopts a connected stream socket as a client; when every slot is taken,
 * the client quiet longest is closed to make room.  -ENOMEM, -errno. */
int xsd_control_add_client(struct xsd_control *c, int fd);
/* Replaces the clock (CLOCK_MONOTONIC ns) the timeouts are measured with:
 * for tests, which drive time instead of sleeping. */
void xsd_control_set_clock(struct xsd_control *c, uint64_t (*now_ns)(void));
/* Closes every client and the listener, removes the socket file (if it is
 * still the one we created). */
void xsd_control_free(struct xsd_control *c);

size_t xsd_control_nr_clients(const struct xsd_control *c);

/* Fills pfds (at most max, XSD_CONTROL_MAX_POLLFDS suffice); returns count. */
size_t xsd_control_fill_pollfds(struct xsd_control *c, struct pollfd *pfds, size_t max);
/* Acts on the revents of the pollfds filled by the last fill call. */
void xsd_control_handle(struct xsd_control *c, const struct pollfd *pfds, size_t n);

#endif /* XSD_CONTROL_H */
