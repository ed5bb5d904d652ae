/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * arch/x86/mm/mem_sharing_batch.c
 *
 * Batch driver of XENMEM_sharing_op_compare_share, and the frame
 * comparison it relies on.
 *
 * The pairs live in a guest array.  Each one is copied in, handed to
 * mem_sharing_cmpshr_pair() (which does the locking, nomination and
 * sharing in mem_sharing.c), and copied back with its result before
 * cs->done moves past it.  Invariants:
 *  - every pair below cs->done has its result in guest memory, and no pair
 *    above it has been acted upon, so a continuation never runs a pair
 *    twice or skips one; only a failed write-back (-EFAULT) or a pair that
 *    asks for preemption itself leaves the pair at cs->done acted upon, and
 *    running a pair again is harmless (an already-shared gfn keeps its
 *    handle, sharing a frame with itself is a no-op, a frame-to-frame merge
 *    goes on where it stopped);
 *  - the driver checks for preemption between pairs only, not after the
 *    last one, and a pair asks for it (-ERESTART) only after making
 *    progress, so a batch always makes progress and a finished batch never
 *    creates a continuation.
 *
 * The code here is kept free of mem_sharing internals so that it can be
 * compiled unchanged by a user-space test harness (as tools/tests/vpci does
 * for vpci.c).
 */

#include <xen/domain_page.h>
#include <xen/errno.h>
#include <xen/event.h>
#include <xen/guest_access.h>
#include <xen/lib.h>
#include <xen/sched.h>
#include <xen/string.h>

#include "mem_sharing_batch.h"

int mem_sharing_cmpshr_batch(struct mem_sharing_op_compare_share *cs)
{
    XEN_GUEST_HANDLE_PARAM(xen_mem_sharing_cmpshr_pair_t) pairs =
        guest_handle_cast(cs->pairs, xen_mem_sharing_cmpshr_pair_t);

    if ( cs->done > cs->nr_pairs )
        return -EINVAL;

    while ( cs->done < cs->nr_pairs )
    {
        xen_mem_sharing_cmpshr_pair_t pair;

        if ( copy_from_guest_offset(&pair, pairs, cs->done, 1) )
            return -EFAULT;

        pair.result = mem_sharing_cmpshr_pair(&pair);
        if ( pair.result == -ERESTART )
            return -ERESTART;

        if ( copy_to_guest_offset(pairs, cs->done, &pair, 1) )
            return -EFAULT;

        cs->done++;

        if ( cs->done < cs->nr_pairs && hypercall_preempt_check() )
            return -ERESTART;
    }

    return 0;
}

bool mem_sharing_frames_equal(mfn_t a, mfn_t b)
{
    const void *pa = map_domain_page(a);
    const void *pb = map_domain_page(b);
    bool equal = !memcmp(pa, pb, PAGE_SIZE);

    unmap_domain_page(pb);
    unmap_domain_page(pa);

    return equal;
}

/*
 * Local variables:
 * mode: C
 * c-file-style: "BSD"
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
