/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * audit.h - the engine checks its own invariants (see audit.c): a walk of
 * its state, and the frame census that asks the hypervisor.
 */
#ifndef SHR_AUDIT_H
#define SHR_AUDIT_H

#include <stdint.h>

#include "dom.h"
#include "xen.h"

/*
 * Walks the domain table and the index: O(pages + index), no hypercall.
 * queued_pairs and live_mappings must be 0 between runs.  Returns the
 * number of violations (each logged).
 */
int shr_audit_walk(const struct shr_doms *t, unsigned int queued_pairs,
		   uint64_t live_mappings);
/*
 * The frame census: two hypercalls per page the engine believes shared;
 * returns the frames holding pages of two groups (each logged), -errno if
 * it could not run; *unaccounted (may be NULL): frames with more gfns than
 * the engine knows.
 */
int shr_audit_frames(const struct shr_doms *t, struct shr_xen *x, uint64_t *unaccounted);

#endif /* SHR_AUDIT_H */
