/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reserve.h - host memory reserve, sharing rings and VIRQ_ENOMEM (see
 * reserve.c).  Entry points are declared with the engine's state in
 * internal.h.
 */
#ifndef SHR_RESERVE_H
#define SHR_RESERVE_H

#define SHR_VIRQ_ENOMEM 12            /* VIRQ_ENOMEM of xen/include/public/xen.h */
#define SHR_RESERVE_CHECK_S 0.1       /* physinfo at most every 100 ms */

#endif /* SHR_RESERVE_H */
