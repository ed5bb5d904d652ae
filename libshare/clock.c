/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * clock.c - the engine's clocks (see clock.h).  The CPU clock is the
 * calling thread's: the engine runs on one thread, and the daemon's other
 * work (control socket, xenstore) is not the engine's cost.
 */
#include "clock.h"

#include <time.h>

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double shr_now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

double shr_cpu_s(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}
