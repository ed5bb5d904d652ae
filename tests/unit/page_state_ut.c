/* SPDX-License-Identifier: GPL-2.0-only */
/* page_state_ut - unit tests of libshare/page_state.[ch] (state byte, backoff, counts). */
#include <CUnit/CUnit.h>

#include "../../libshare/page_state.h"
#include "ut_common.h"

/* Proves state and level are independent fields of the byte. */
static void test_layout(void)
{
	uint8_t b = shr_ps_make(SHR_PS_SHARED, 5);

	CU_ASSERT_EQUAL(shr_ps_state(b), SHR_PS_SHARED);
	CU_ASSERT_EQUAL(shr_ps_level(b), 5);
	shr_ps_set_state(&b, SHR_PS_PENDING);
	CU_ASSERT_EQUAL(shr_ps_state(b), SHR_PS_PENDING);
	CU_ASSERT_EQUAL(shr_ps_level(b), 5);
}

/* Proves the backoff schedule: at level L a page is due on exactly one pass
 * in 2^L (counted over 128 passes), and level 0 is due every pass. */
static void test_due_fraction(void)
{
	for (unsigned int level = 0; level <= SHR_VOL_LEVEL_MAX; level++) {
		uint8_t b = shr_ps_make(SHR_PS_WATCH, level);
		unsigned int due = 0;

		for (uint64_t pass = 0; pass < 128; pass++)
			due += shr_ps_due(b, 12345, pass);
		CU_ASSERT_EQUAL(due, 128u >> level);
	}
}

/* Proves back-off saturates at the cap and calm-down returns to 0, and the
 * transitions 0->1 / 1->0 are reported (the volatile counter relies on it). */
static void test_backoff_calm(void)
{
	uint8_t b = shr_ps_make(SHR_PS_SHARED, 0);

	CU_ASSERT_TRUE(shr_ps_raise(&b));
	for (int i = 0; i < 10; i++)
		CU_ASSERT_FALSE(shr_ps_raise(&b));
	CU_ASSERT_EQUAL(shr_ps_level(b), SHR_VOL_LEVEL_MAX);
	for (unsigned int i = 0; i < SHR_VOL_LEVEL_MAX - 1; i++)
		CU_ASSERT_FALSE(shr_ps_lower(&b));
	CU_ASSERT_TRUE(shr_ps_lower(&b));
	CU_ASSERT_EQUAL(shr_ps_level(b), 0);
	CU_ASSERT_FALSE(shr_ps_lower(&b));
	CU_ASSERT_EQUAL(shr_ps_state(b), SHR_PS_SHARED);
}

/* Proves pages at the same level are spread over passes by their gfn, so
 * backed-off work does not all land on one pass. */
static void test_spread(void)
{
	uint8_t b = shr_ps_make(SHR_PS_WATCH, 3);
	unsigned int due = 0;

	for (uint32_t gfn = 0; gfn < 800; gfn++)
		due += shr_ps_due(b, gfn, 5);
	CU_ASSERT_EQUAL(due, 100);
}

/* Proves resting: a shared page seen unchanged three times is due one pass
 * in 8, any change of state clears the rest, and rest plus backoff never
 * exceed the one-in-64 cap. */
static void test_rest(void)
{
	uint8_t b = shr_ps_make(SHR_PS_SHARED, 0);
	unsigned int due = 0;

	for (int i = 0; i < 5; i++)
		shr_ps_rest_more(&b);
	CU_ASSERT_EQUAL(shr_ps_rest(b), SHR_REST_MAX);
	CU_ASSERT_EQUAL(shr_ps_state(b), SHR_PS_SHARED);
	CU_ASSERT_EQUAL(shr_ps_level(b), 0);
	for (uint64_t pass = 0; pass < 128; pass++)
		due += shr_ps_due(b, 3, pass);
	CU_ASSERT_EQUAL(due, 16);
	shr_ps_set_state(&b, SHR_PS_WATCH);
	CU_ASSERT_EQUAL(shr_ps_rest(b), 0);
	b = shr_ps_make(SHR_PS_SOURCE, SHR_VOL_LEVEL_MAX);
	for (int i = 0; i < 3; i++)
		shr_ps_rest_more(&b);
	due = 0;
	for (uint64_t pass = 0; pass < 128; pass++)
		due += shr_ps_due(b, 3, pass);
	CU_ASSERT_EQUAL(due, 2);
}

UT_MAIN("volatility", NULL, NULL,
	UT(test_layout),
	UT(test_due_fraction),
	UT(test_backoff_calm),
	UT(test_spread),
	UT(test_rest))
