/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * balloon_ut.c - unit tests of dom0-daemon/balloon.c's target computation:
 * the engine repeats its need-memory request until memory shows up, so the
 * target must be idempotent, respect the floor and never rise.
 */
#include <CUnit/CUnit.h>
#include <stdbool.h>

#include "dom0-daemon/balloon.h"
#include "ut_common.h"

/* Proves a request lowers the target by exactly the pages needed, counted
 * from what dom0 holds now (KiB = pages * 4). */
static void test_lowers_by_need(void)
{
	bool floored;

	CU_ASSERT_EQUAL(xsd_balloon_target_kib(262144, 1000, 0, 262144 * 4, &floored), (262144 - 1000) * 4);
	CU_ASSERT_FALSE(floored);
}

/* Proves a repeated request for the same shortage, while the balloon driver
 * has not released anything yet, writes nothing (no double shrink). */
static void test_idempotent(void)
{
	bool floored;
	uint64_t t1 = xsd_balloon_target_kib(262144, 1000, 0, 262144 * 4, &floored);

	CU_ASSERT_NOT_EQUAL(t1, 0);
	CU_ASSERT_EQUAL(xsd_balloon_target_kib(262144, 1000, 0, t1, &floored), 0);
	/* a bigger shortage lowers it further */
	CU_ASSERT_EQUAL(xsd_balloon_target_kib(262144, 2000, 0, t1, &floored), (262144 - 2000) * 4);
}

/* Proves the floor (dom0_min_memory) bounds the target, says so, and that
 * a need larger than dom0 cannot wrap around. */
static void test_floor(void)
{
	bool floored;

	CU_ASSERT_EQUAL(xsd_balloon_target_kib(262144, 200000, 131072, 262144 * 4, &floored), 131072 * 4);
	CU_ASSERT_TRUE(floored);
	CU_ASSERT_EQUAL(xsd_balloon_target_kib(1000, 5000, 0, 1000 * 4, &floored), 0 + 0 * 4);
	CU_ASSERT_FALSE(floored);
	/* already at the floor: nothing to write */
	CU_ASSERT_EQUAL(xsd_balloon_target_kib(131072, 10, 131072, 131072 * 4, &floored), 0);
	CU_ASSERT_TRUE(floored);
}

/* Proves the target is never raised: an operator's lower target stays. */
static void test_never_raises(void)
{
	bool floored;

	CU_ASSERT_EQUAL(xsd_balloon_target_kib(262144, 10, 0, 1024, &floored), 0);
}

UT_MAIN("balloon", NULL, NULL,
	UT(test_lowers_by_need),
	UT(test_idempotent),
	UT(test_floor),
	UT(test_never_raises))
