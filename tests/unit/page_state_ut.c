/* SPDX-License-Identifier: GPL-2.0-only */
/* page_state_ut - unit tests of libshare/page_state.[ch] (state byte, backoff, counts). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "libshare/page_state.h"
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

/* ---- one domain's table: the setters keep the counts ------------------------- */

/* The counts of struct shr_pages, recounted from the state bytes as
 * page_state.h defines them. */
static void recount(const struct shr_pages *p, uint64_t n[5])
{
	memset(n, 0, 5 * sizeof(n[0]));
	for (uint32_t g = 0; g < p->nr; g++) {
		enum shr_pstate s = shr_ps_state(p->pstate[g]);

		n[0] += s == SHR_PS_UNIQUE;
		n[1] += s == SHR_PS_SOURCE;
		n[2] += s == SHR_PS_SHARED;
		n[3] += shr_ps_level(p->pstate[g]) && shr_ps_counts_volatile(s);
		n[4] += s == SHR_PS_SHARED && p->key_lo[g] == p->zero_lo;
	}
}

static bool counts_match(const struct shr_pages *p)
{
	uint64_t n[5];

	recount(p, n);
	return n[0] == p->n_unique && n[1] == p->n_source && n[2] == p->n_shared &&
	       n[3] == p->n_volatile && n[4] == p->n_zero_shared;
}

/* Proves each setter moves the right count: a state's own count, the
 * zero-page count for a SHARED page under the zero key, the volatile count
 * on a level's 0 -> 1 and 1 -> 0 steps (not for HOLE and NOSHARE, which
 * back off without being volatile, and across a change between the two
 * kinds at a level); a new state clears the rest and the SUSPECT mark. */
static void test_setters(void)
{
	struct shr_pages p;

	UT_ASSERT_EQ_FATAL(shr_pages_alloc(&p, 4), 0);
	p.zero_lo = 0x1234;
	p.key_lo[1] = 0x1234;
	shr_pages_set(&p, 0, SHR_PS_UNIQUE);
	UT_ASSERT_EQ(p.n_unique, 1);
	shr_pages_set(&p, 0, SHR_PS_SOURCE);
	UT_ASSERT_EQ(p.n_unique, 0);
	UT_ASSERT_EQ(p.n_source, 1);
	shr_pages_set(&p, 1, SHR_PS_SHARED);
	UT_ASSERT_EQ(p.n_shared, 1);
	UT_ASSERT_EQ(p.n_zero_shared, 1);
	shr_pages_set(&p, 0, SHR_PS_SHARED);
	UT_ASSERT_EQ(p.n_zero_shared, 1);
	UT_ASSERT_EQ(p.n_shared, 2);
	shr_pages_set(&p, 1, SHR_PS_WATCH);
	UT_ASSERT_EQ(p.n_zero_shared, 0);
	CU_ASSERT_TRUE(counts_match(&p));

	shr_pages_back_off(&p, 1);                 /* WATCH: 0 -> 1 is volatile */
	UT_ASSERT_EQ(p.n_volatile, 1);
	shr_pages_back_off(&p, 1);
	UT_ASSERT_EQ(p.n_volatile, 1);
	shr_pages_set(&p, 1, SHR_PS_HOLE);         /* a hole is not volatile */
	UT_ASSERT_EQ(p.n_volatile, 0);
	shr_pages_back_off(&p, 1);
	UT_ASSERT_EQ(p.n_volatile, 0);
	shr_pages_set(&p, 1, SHR_PS_NEW);          /* populated: volatile at its level */
	UT_ASSERT_EQ(p.n_volatile, 1);
	for (int i = 0; i < 3; i++)
		shr_pages_calm(&p, 1);
	UT_ASSERT_EQ(p.n_volatile, 0);
	UT_ASSERT_EQ(shr_ps_level(p.pstate[1]), 0);
	CU_ASSERT_TRUE(counts_match(&p));

	shr_pages_set(&p, 2, SHR_PS_UNIQUE);
	shr_ps_mark_suspect(&p.pstate[2]);
	CU_ASSERT_TRUE(shr_ps_suspect(p.pstate[2]));
	shr_pages_set(&p, 2, SHR_PS_NEW);
	CU_ASSERT_FALSE(shr_ps_suspect(p.pstate[2]));
	shr_ps_rest_more(&p.pstate[0]);
	UT_ASSERT_EQ(shr_ps_rest(p.pstate[0]), 1);
	shr_pages_set(&p, 0, SHR_PS_SHARED);
	UT_ASSERT_EQ(shr_ps_rest(p.pstate[0]), 0);

	shr_pages_reset(&p);
	UT_ASSERT_EQ(p.n_unique + p.n_source + p.n_shared + p.n_volatile + p.n_zero_shared, 0);
	for (uint32_t g = 0; g < p.nr; g++)
		UT_ASSERT_EQ(p.pstate[g], shr_ps_make(SHR_PS_NEW, 0));
	shr_pages_free(&p);
	CU_ASSERT_PTR_NULL(p.pstate);
	UT_ASSERT_EQ(p.nr, 0);
}

/* Proves the counts stay equal to a recount through 100000 random calls
 * of every setter on a table of 64 pages (key_lo changed only where the
 * contract allows: before the page is set SHARED under it). */
static void test_setters_random(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct shr_pages p;
	unsigned int bad = 0;

	UT_ASSERT_EQ_FATAL(shr_pages_alloc(&p, 64), 0);
	p.zero_lo = 7;
	for (int i = 0; i < 100000 && !bad; i++) {
		uint32_t gfn, op;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		gfn = (uint32_t)(x % 64);
		op = (uint32_t)((x >> 8) % 6);
		switch (op) {
		case 0:
		case 1:
			shr_pages_set(&p, gfn, (enum shr_pstate)((x >> 16) % SHR_NR_PSTATES));
			break;
		case 2:
			shr_pages_back_off(&p, gfn);
			break;
		case 3:
			shr_pages_calm(&p, gfn);
			break;
		case 4:
			if (shr_ps_state(p.pstate[gfn]) != SHR_PS_SHARED)
				p.key_lo[gfn] = (x >> 20) % 2 ? 7 : (uint32_t)(x >> 32);
			break;
		default:
			shr_ps_mark_suspect(&p.pstate[gfn]);
			break;
		}
		bad += !counts_match(&p);
	}
	UT_ASSERT_EQ(bad, 0);
	shr_pages_free(&p);
}

UT_MAIN("volatility", NULL, NULL,
	UT(test_layout),
	UT(test_due_fraction),
	UT(test_backoff_calm),
	UT(test_spread),
	UT(test_rest),
	UT(test_setters),
	UT(test_setters_random))
