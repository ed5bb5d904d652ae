/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rate.c - pass scheduling (see rate.h).
 *
 * DOC: Overview
 *
 * KSM's advisor estimates a scan rate from the last pass and adjusts
 * pages_to_scan by bounded steps; when its estimate is off (CPU time per
 * page varies with content and with how much merging a pass does) it
 * drifts, and on this machine class it took 194 s for a 30 s target.  Here
 * the control variable is the schedule itself: the fraction of the pass
 * done is compared with the fraction of the target time elapsed, and the
 * engine sleeps exactly the lead it has built up.  Errors in any per-page
 * cost estimate cannot accumulate, because the next slice starts from the
 * measured position on the line.  The CPU cap is a hard second bound:
 * after a slice of c seconds of CPU, sleep at least c * (1 - cap) / cap.
 * When the cap makes the target unreachable the pass simply takes longer
 * (reported as pass_time_s) instead of the controller winding up.
 *
 * Invariant: the returned sleep is in [0, 1 s]: the daemon's loop stays
 * responsive to events and new domains even during long idle stretches.
 */
#include "rate.h"

#define SLEEP_MAX_S 1.0

int64_t shr_rate_sleep_ns(const struct shr_rate *r, double now_s,
			  double done_fraction, double slice_cpu_s)
{
	double sleep_s = 0;

	if (r->target_s > 0) {
		double due_s = r->pass_start_s + done_fraction * r->target_s;

		if (due_s > now_s)
			sleep_s = due_s - now_s;
	}
	if (r->cpu_cap > 0 && r->cpu_cap < 1 && slice_cpu_s > 0) {
		double cap_s = slice_cpu_s * (1 - r->cpu_cap) / r->cpu_cap;

		if (cap_s > sleep_s)
			sleep_s = cap_s;
	}
	if (sleep_s > SLEEP_MAX_S)
		sleep_s = SLEEP_MAX_S;
	return (int64_t)(sleep_s * 1e9);
}

int shr_rate_ahead(const struct shr_rate *r, double now_s, double done_fraction,
		   double slack_s)
{
	if (r->target_s <= 0)
		return 0;
	return r->pass_start_s + done_fraction * r->target_s > now_s + slack_s;
}
