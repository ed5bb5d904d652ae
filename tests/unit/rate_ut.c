/* SPDX-License-Identifier: GPL-2.0-only */
/* rate_ut - unit tests of libshare/rate.c (pass schedule and CPU cap). */
#include <CUnit/CUnit.h>

#include "libshare/rate.h"
#include "ut_common.h"

/* Proves that ahead of schedule the engine sleeps exactly its lead: half
 * the work done after a quarter of a 10 s target -> sleep 2.5 s, capped at
 * the 1 s maximum; on schedule or behind it, no sleep without a CPU cap. */
static void test_schedule(void)
{
	struct shr_rate r = { .target_s = 10, .cpu_cap = 1, .pass_start_s = 100 };

	CU_ASSERT_EQUAL(shr_rate_sleep_ns(&r, 102.5, 0.5, 0.01), 1000000000);
	CU_ASSERT_EQUAL(shr_rate_sleep_ns(&r, 104.8, 0.5, 0.01), 200000000);
	CU_ASSERT_EQUAL(shr_rate_sleep_ns(&r, 105.0, 0.5, 0.01), 0);
	CU_ASSERT_EQUAL(shr_rate_sleep_ns(&r, 107.0, 0.5, 0.01), 0);
	CU_ASSERT_TRUE(shr_rate_ahead(&r, 102.5, 0.5, 0.002));
	CU_ASSERT_FALSE(shr_rate_ahead(&r, 106, 0.5, 0.002));
}

/* Proves the CPU cap: after 10 ms of CPU at a 25% cap the engine sleeps
 * 30 ms even when behind schedule (10 / (10 + 30) = 25%). */
static void test_cpu_cap(void)
{
	struct shr_rate r = { .target_s = 10, .cpu_cap = 0.25, .pass_start_s = 0 };
	int64_t ns = shr_rate_sleep_ns(&r, 9, 0.1, 0.010);

	CU_ASSERT_TRUE(ns >= 29999000 && ns <= 30001000);
}

/* Proves the closed loop converges on the target: a simulated scanner whose
 * true speed is unknown to the controller (and changes mid-pass) finishes
 * each pass within 2% of the 30 s target, where a rate estimate from the
 * previous pass would be off by the speed change. */
static void test_converges(void)
{
	struct shr_rate r = { .target_s = 30, .cpu_cap = 0.7 };
	double now = 0;

	for (int pass = 0; pass < 3; pass++) {
		double done = 0, speed = pass == 1 ? 0.004 : 0.001; /* fraction per slice-ms */

		r.pass_start_s = now;
		while (done < 1) {
			double slice_cpu = 0.005;  /* 5 ms of work per slice */

			if (pass == 2 && done > 0.5)
				speed = 0.0002;    /* content got slow mid-pass */
			done += speed * slice_cpu * 1000;
			now += slice_cpu;
			now += (double)shr_rate_sleep_ns(&r, now, done < 1 ? done : 1, slice_cpu) * 1e-9;
		}
		if (pass < 2)
			CU_ASSERT_DOUBLE_EQUAL(now - r.pass_start_s, 30, 0.6);
	}
}

/* Proves that without a target the only sleep is the CPU cap's, and at a
 * cap of 1 nothing sleeps. */
static void test_unlimited(void)
{
	struct shr_rate r = { .target_s = 0, .cpu_cap = 1 };

	CU_ASSERT_EQUAL(shr_rate_sleep_ns(&r, 5, 0.1, 0.05), 0);
	CU_ASSERT_FALSE(shr_rate_ahead(&r, 5, 0.9, 0));
	r.cpu_cap = 0.5;
	CU_ASSERT_EQUAL(shr_rate_sleep_ns(&r, 5, 0.1, 0.05), 50000000);
}

UT_MAIN("rate", NULL, NULL,
	UT(test_schedule),
	UT(test_cpu_cap),
	UT(test_converges),
	UT(test_unlimited))
