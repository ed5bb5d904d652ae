/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rate.h - pass scheduling: a target time per full pass under a CPU cap.
 *
 * Pure arithmetic (no clocks read here), so it is unit-tested in-process.
 */
#ifndef SHR_RATE_H
#define SHR_RATE_H

#include <stdint.h>

struct shr_rate {
	double target_s;       /* 0: as fast as the CPU cap allows */
	double cpu_cap;        /* (0, 1] */
	double pass_start_s;   /* wall clock at the start of the current pass */
};

/*
 * Nanoseconds to sleep after a slice that used slice_cpu_s of CPU, when the
 * current pass is done_fraction complete at wall time now_s.  The schedule
 * is a straight line from pass_start_s to pass_start_s + target_s: ahead of
 * it, sleep until the line catches up; behind it, sleep only what the CPU
 * cap demands (cpu / (cpu + sleep) <= cap).  Following a schedule instead of
 * a rate estimate is what makes the pass time converge on the target.
 */
int64_t shr_rate_sleep_ns(const struct shr_rate *r, double now_s,
			  double done_fraction, double slice_cpu_s);
/* Whether the work is ahead of the schedule by more than slack_s. */
int shr_rate_ahead(const struct shr_rate *r, double now_s, double done_fraction,
		   double slack_s);

#endif /* SHR_RATE_H */
