/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * arch/x86/mm/mem_sharing_batch.h
 *
 * Interface between mem_sharing.c and the batch driver of
 * XENMEM_sharing_op_compare_share (mem_sharing_batch.c).  The driver only
 * uses guest-access, preemption and domain-page primitives, so it can be
 * built unchanged by a user-space test harness which provides those.
 */
#ifndef __ASM_X86_MM_MEM_SHARING_BATCH_H__
#define __ASM_X86_MM_MEM_SHARING_BATCH_H__

#include <xen/types.h>
#include <xen/mm-frame.h>
#include <public/memory.h>

/*
 * Run the pairs [cs->done, cs->nr_pairs) through mem_sharing_cmpshr_pair(),
 * writing each result back to the guest array and advancing cs->done.
 * Returns 0 when all pairs have a result, -ERESTART when preemption is
 * needed (cs->done tells where to resume), -EINVAL or -EFAULT.
 */
int mem_sharing_cmpshr_batch(struct mem_sharing_op_compare_share *cs);

/* Compare the contents of two frames. */
bool mem_sharing_frames_equal(mfn_t a, mfn_t b);

/*
 * One pair: nominate both gfns, compare, share when identical (in
 * mem_sharing.c).  Returns XENMEM_SHARING_CMPSHR_* or a negative error, or
 * -ERESTART when it needs preemption half-way: the pair has made progress,
 * has no result yet, and finishes when run again.
 */
int mem_sharing_cmpshr_pair(const xen_mem_sharing_cmpshr_pair_t *pair);

#endif /* __ASM_X86_MM_MEM_SHARING_BATCH_H__ */
