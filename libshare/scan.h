/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scan.h - the per-domain scan cursor (see scan.c).  The entry point,
 * shr_scan_batch(), is declared with the engine's state in internal.h.
 */
#ifndef SHR_SCAN_H
#define SHR_SCAN_H

/* gfns examined per batch at most (due or not): bounds a slice's latency
 * when most pages of a stretch are backed off. */
#define SHR_SCAN_EXAMINE_FACTOR 16u
/* pages left nominated released per batch at most (the rest next look) */
#define SHR_RELEASE_MAX 64u

#endif /* SHR_SCAN_H */
