/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * report.h - the daemon's counters as the outside sees them: the control
 * socket's `stats` object (docs/control-protocol.md) and its mirror in
 * xenstore under /local/domain/0/xenshared/.
 *
 * Both are built from one snapshot (engine stats, the hypervisor's own
 * sharing counters, the domain table), so the socket and xenstore never
 * disagree by construction, only by age.  Which values they carry, under
 * which names, is the lists of statistics (schema.h); docs/control-protocol.md
 * has the generated table.
 */
#ifndef XSD_REPORT_H
#define XSD_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <xenstore.h>

#include "libshare/engine.h"
#include "domains.h"
#include "json.h"
#include "xen.h"

#define XSD_MIRROR_ROOT "/local/domain/0/xenshared"

struct xsd_report;

int xsd_report_alloc(struct xs_handle *xs, struct xsd_xen *xen, struct shr_engine *e,
		     struct xsd_domains *doms, struct xsd_report **out);
/* remove_mirror: delete /local/domain/0/xenshared (clean stop). */
void xsd_report_free(struct xsd_report *r, bool remove_mirror);

/* Pages dom0_balloon asked dom0 to give back since start (shown in stats). */
void xsd_report_set_balloon_counter(struct xsd_report *r, const uint64_t *pages_requested);
/* Samples CPU time for cpu_percent; call every few seconds. */
void xsd_report_tick(struct xsd_report *r);
/* Writes the `stats` object. */
void xsd_report_stats_json(struct xsd_report *r, struct xsd_json *j);
/* Writes the changed values of the xenstore mirror; returns 0 or -errno. */
int xsd_report_mirror(struct xsd_report *r);
/* Removes the mirror (xenstore_stats turned off by a reload): no stale numbers. */
void xsd_report_mirror_clear(struct xsd_report *r);

#endif /* XSD_REPORT_H */
