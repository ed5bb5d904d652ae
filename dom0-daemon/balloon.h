/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * balloon.h - giving memory back to Xen when the engine asks for it.
 *
 * Every page sharing saved can be asked back by an unshare.  When free host
 * memory is below the reserve, or a guest waits because an unshare found no
 * free frame, the engine calls its need-memory function with the number of
 * pages wanted (libshare/engine.h).  The daemon answers the way an operator
 * would with `xl mem-set 0`: it lowers dom0's /local/domain/0/memory/target
 * and dom0's balloon driver hands the pages to Xen -- never below the
 * dom0_min_memory setting, and never raising the target back (what dom0
 * should have afterwards is the operator's call).
 */
#ifndef XSD_BALLOON_H
#define XSD_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

#include <xenstore.h>

#include "settings.h"
#include "xen.h"

/*
 * The target to write (KiB), or 0 when nothing should be written: dom0 holds
 * tot_pages, need pages are wanted, dom0 may not go below floor_pages, and
 * cur_target_kib is what is asked of the balloon driver already.  *floored
 * tells that the floor cut the request short.  Pure: unit-tested.
 */
uint64_t xsd_balloon_target_kib(uint64_t tot_pages, uint64_t need, uint64_t floor_pages,
				uint64_t cur_target_kib, bool *floored);

struct xsd_balloon {
	struct xs_handle *xs;
	struct xsd_xen *xen;
	const struct xsd_config *cfg;    /* follows reloads (points at the daemon's) */
	double last_s;                   /* rate limit: one decision per second */
	bool warned_off, warned_floor, warned_no_target;
	uint64_t pages_requested;        /* total asked of dom0 since start */
};

/* The engine's need-memory callback; arg is a struct xsd_balloon. */
void xsd_balloon_need(void *arg, uint64_t pages);

#endif /* XSD_BALLOON_H */
