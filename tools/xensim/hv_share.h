/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_share.h - what the rest of the hypervisor model needs of its memory
 * sharing (hv_share.c): unsharing a gfn, dropping a domain's reference to a
 * shared frame, reporting an unshare that found no memory, and tearing
 * down the sharing ring.  All are called with the host lock held.
 */
#ifndef XENSIM_HV_SHARE_H
#define XENSIM_HV_SHARE_H

#include "hv_internal.h"

/* __mem_sharing_unshare_page(d, gfn, destroy = false): 0 or -ENOMEM. */
int sim_share_unshare(struct sim_hv *hv, struct sim_dom *d, uint64_t gfn);
/* ... (destroy = true): the caller clears the p2m entry. */
void sim_share_drop(struct sim_hv *hv, struct sim_dom *d, uint64_t gfn);
/*
 * mem_sharing_notify_enomem() after a failed unshare of gfn (guest: by
 * vCPU vcpu of d itself, which may then be paused or the domain crashed).
 * Returns 0 when a request was queued on the ring.
 */
int sim_share_enomem(struct sim_hv *hv, struct sim_dom *d, uint32_t vcpu,
		     uint64_t gfn, bool guest);
/* The sharing ring goes away (domain destruction, ring disable). */
void sim_ring_teardown(struct sim_hv *hv, struct sim_dom *d);

#endif /* XENSIM_HV_SHARE_H */
