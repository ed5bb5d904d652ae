/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xenshare_cmpshr.h - the batched compare-and-share interface that
 * hypervisor-patch/ adds to Xen 4.17 (XENMEM_sharing_op_compare_share and
 * its libxenctrl wrapper).  Debian's xenctrl.h does not declare it, so this
 * header is the one declaration shared by the patched libxenctrl, xensim's
 * drop-in libxenctrl and the daemon.
 *
 * The daemon never links against the wrapper: it looks it up with dlsym()
 * at start-up (absent on an unpatched libxenctrl) and then probes it once
 * with an empty batch (ENOSYS/EOPNOTSUPP: the hypervisor lacks the op).
 *
 * Semantics, per pair: nominate the source gfn and the client gfn (an
 * already-shared gfn keeps its handle), compare the two frames inside the
 * hypervisor while neither can change, and share them only if identical.
 * result is XENSHARE_CMPSHR_SHARED, _DIFFERENT, _SPANNED (both frames also
 * back gfns of domains other than the pair's two: Xen can rewrite only the
 * p2m entries of the two domains whose p2m locks it holds, so nothing is
 * merged; the caller may retry with a client gfn that is not yet shared), or
 * a negative errno of the nominate or share step (-E2BIG extra reference, -EINVAL not sharable,
 * -EBUSY dying domain, -ENOMEM, -EXDEV, -EOPNOTSUPP, -ESRCH).  The call
 * returns 0 when every pair has a result, or -1 with errno set for the batch
 * as a whole (ENOSYS/EOPNOTSUPP: no such op; EINVAL: bad arguments).
 */
#ifndef XENSHARE_CMPSHR_H
#define XENSHARE_CMPSHR_H

#include <stdint.h>

#define XENSHARE_CMPSHR_SHARED    0
#define XENSHARE_CMPSHR_DIFFERENT 1
/* both frames also back gfns of other domains: not merged (share_pages()
 * can rewrite only the p2m entries of the two domains whose p2m it holds) */
#define XENSHARE_CMPSHR_SPANNED   2
#define XENSHARE_CMPSHR_MAX_BATCH 512
#define XENSHARE_CMPSHR_SYMBOL "xc_memshr_compare_share"

typedef struct xenshare_cmpshr_pair {
	uint64_t source_gfn;
	uint64_t client_gfn;
	uint16_t source_domain;
	uint16_t client_domain;
	int32_t result;          /* out */
} xenshare_cmpshr_pair_t;

struct xc_interface_core;
typedef int xenshare_cmpshr_fn(struct xc_interface_core *xch,
			       xenshare_cmpshr_pair_t *pairs, unsigned int nr);

/*
 * Unshare ENOMEM without a sharing ring (patch 0004/0005): the patched
 * hypervisor pauses the vCPU that needs a frame and raises VIRQ_ENOMEM
 * instead of crashing the domain.  xc_memshr_enomem_waiters() lists the
 * domains with such a vCPU (*nr: size of domids in, number of waiting
 * domains out, possibly more than fit); xc_memshr_enomem_resume() unpauses
 * the waiting vCPUs of one domain once memory is free and returns how many
 * it resumed.  Both fail with ENOSYS on an unpatched hypervisor; the daemon
 * looks them up with dlsym() like the batched op.
 */
#define XENSHARE_ENOMEM_WAITERS_SYMBOL "xc_memshr_enomem_waiters"
#define XENSHARE_ENOMEM_RESUME_SYMBOL "xc_memshr_enomem_resume"
typedef int xenshare_enomem_waiters_fn(struct xc_interface_core *xch,
				       uint16_t *domids, unsigned int *nr);
typedef int xenshare_enomem_resume_fn(struct xc_interface_core *xch,
				      uint32_t domid);

#endif /* XENSHARE_CMPSHR_H */
