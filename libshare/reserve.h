/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reserve.h - host memory reserve, sharing rings and VIRQ_ENOMEM (see
 * reserve.c).  Entry points are declared with the engine's state in
 * internal.h.
 */
#ifndef SHR_RESERVE_H
#define SHR_RESERVE_H

#include <stdint.h>

#define SHR_VIRQ_ENOMEM 12            /* VIRQ_ENOMEM of xen/include/public/xen.h */
#define SHR_RESERVE_CHECK_S 0.1       /* physinfo at most every 100 ms */
/* After an unshare ENOMEM: ask for at least this much room (8 MiB) on top
 * of the waiting domains' pages at risk (each counted up to the max), and
 * share again only once the reserve plus this much is free. */
#define SHR_ENOMEM_MIN_PAGES 2048u
/* ring-less domains listed per VIRQ_ENOMEM round; more are listed next round */
#define SHR_VIRQ_MAX_WAITERS 256u
#define SHR_ENOMEM_MAX_PAGES 65536u
#define SHR_DOMID_VIRQ UINT32_MAX      /* "the ring-less waiters" in messages */

#endif /* SHR_RESERVE_H */
