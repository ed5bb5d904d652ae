/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * clock.h - the two clocks of the engine: wall (CLOCK_MONOTONIC, for the
 * pass schedule and rate limits) and the thread's CPU time (for the CPU
 * cap and the statistics).  Seconds as doubles.
 */
#ifndef SHR_CLOCK_H
#define SHR_CLOCK_H

double shr_now_s(void);
double shr_cpu_s(void);

#endif /* SHR_CLOCK_H */
