/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge.h - verify and share (see merge.c).  The entry points are declared
 * with the engine's state in internal.h; this header holds the constants.
 */
#ifndef SHR_MERGE_H
#define SHR_MERGE_H

/* Xen's errno values for a share whose handle died (the guest wrote). */
#define SHR_ERR_S_HANDLE (-10)   /* XENMEM_SHARING_OP_S_HANDLE_INVALID */
#define SHR_ERR_C_HANDLE (-9)    /* XENMEM_SHARING_OP_C_HANDLE_INVALID */

/* pairs per flush of the upstream protocol (bounds the queue's latency) */
#define SHR_MERGE_UPSTREAM_QUEUE 256u
/* pairs whose pages are mapped together (one mapping call per domain) */
#define SHR_MERGE_CHUNK 64u

#endif /* SHR_MERGE_H */
