/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * collect.h - the I/O half of xenshare-stat: ask the daemon, read the
 * hypervisor.  The formatting half (statfmt.h) never does I/O.
 *
 * Daemon: one connection per snapshot to the control socket, the command
 * "stats\n", one line back (docs/control-protocol.md), all under one
 * deadline: a hung daemon costs at most timeout_ms, never a hung tool.
 *
 * Hypervisor: libxenctrl (xc_sharing_freed_pages, xc_sharing_used_frames,
 * xc_physinfo, xc_domain_getinfolist), opened once and kept for watch mode;
 * names and the xl.cfg policy (memshare/enabled, memshare/group) come from
 * xenstore under /local/domain/<domid>/.  xenstore is optional: without it
 * the table shows the domid and the daemon's names.  libxenctrl's own
 * logging goes to a buffer instead of stderr so that the reason for a
 * failure ends up in our one error message (and not over a live view).
 */
#ifndef XST_COLLECT_H
#define XST_COLLECT_H

#include "statfmt.h"

struct xst_collector;

int xst_collector_alloc(const char *socket_path, int timeout_ms, struct xst_collector **out);
void xst_collector_free(struct xst_collector *c);

/*
 * Fills s (replacing its domains): hypervisor part and daemon part.  Never
 * fails as a whole: each source records its own failure in s->hv.ok/error
 * and s->daemon.state/error.  Returns -ENOMEM only.
 */
int xst_collect(struct xst_collector *c, struct xst_snapshot *s);

#endif /* XST_COLLECT_H */
