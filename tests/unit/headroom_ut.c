/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * headroom_ut.c - unit tests of the headroom arithmetic
 * (tools/xenshare-stat/headroom.c): the worst-case burst, the room left,
 * a guest's profile, the admission figure on hosts worked out by hand,
 * and the --burst argument.
 */
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "tools/xenshare-stat/headroom.h"
#include "ut_common.h"

/* A burst of b of the shared pages needs ceil(b * shared) frames, but never
 * more than sharing freed: the last sharer of a frame takes it back. */
static void test_burst_pages(void)
{
	UT_ASSERT_EQ(xst_burst_pages(72000, 50000, 50), 36000);
	UT_ASSERT_EQ(xst_burst_pages(72000, 50000, 100), 50000);
	UT_ASSERT_EQ(xst_burst_pages(72000, 50000, 0), 0);
	UT_ASSERT_EQ(xst_burst_pages(3, 2, 50), 2);          /* 1.5 rounds up */
	UT_ASSERT_EQ(xst_burst_pages(1000, 1, 10), 1);       /* capped by freed */
	UT_ASSERT_EQ(xst_burst_pages(0, 0, 100), 0);
}

/* room = free - reserve - burst, negative when the host is short. */
static void test_room(void)
{
	struct xst_room r = { .free_pages = 300000, .reserve_pages = 65536,
			      .shared_pages = 72000, .freed_pages = 50000, .burst_percent = 50 };

	UT_ASSERT_EQ(xst_room_pages(&r), 300000 - 65536 - 36000);
	r.free_pages = 1000;
	CU_ASSERT(xst_room_pages(&r) == 1000 - 65536 - 36000);
}

/* A guest like d: d's whole memory, d's shared pages, and the host's
 * saving per shared page; nothing shared when nobody will share it. */
static void test_profile(void)
{
	struct xst_room r = { .shared_pages = 72000, .freed_pages = 50000 };
	struct xst_profile p;

	xst_profile_of(&r, 91072, 40000, true, &p);
	UT_ASSERT_EQ(p.mem_pages, 131072);
	UT_ASSERT_EQ(p.shared_pages, 40000);
	UT_ASSERT_EQ(p.saved_pages, 27777);   /* floor(40000 * 50000 / 72000) */
	xst_profile_of(&r, 91072, 40000, false, &p);
	UT_ASSERT_EQ(p.mem_pages, 131072);
	UT_ASSERT_EQ(p.shared_pages, 0);
	UT_ASSERT_EQ(p.saved_pages, 0);
	r.shared_pages = r.freed_pages = 0;   /* sharing off: nothing to go by */
	xst_profile_of(&r, 91072, 0, true, &p);
	UT_ASSERT_EQ(p.saved_pages, 0);
}

/*
 * No burst, no reserve: each guest needs 100 pages free to be created and
 * costs 40 once converged.  Free before the n-th creation is
 * 1000 - 40 (n - 1) >= 100, so n <= 23.5: 23 guests; without sharing 10.
 */
static void test_admit_by_hand(void)
{
	struct xst_room r = { .free_pages = 1000 };
	struct xst_profile p = { .mem_pages = 100, .shared_pages = 60, .saved_pages = 60 };
	struct xst_profile none = { .mem_pages = 100 };

	UT_ASSERT_EQ(xst_admit(&r, &p, 1, 1000), 23);
	UT_ASSERT_EQ(xst_admit(&r, &none, 1, 1000), 10);
	UT_ASSERT_EQ(xst_admit(&r, &p, 1, 5), 5);            /* Xen's domain ids */
	r.reserve_pages = 50;                             /* 1000 - 40 (n - 1) >= 150 */
	UT_ASSERT_EQ(xst_admit(&r, &p, 1, 1000), 22);
	UT_ASSERT_EQ(xst_admit(&r, &none, 1, 1000), 9);
	r.free_pages = 149;                               /* already short */
	UT_ASSERT_EQ(xst_admit(&r, &p, 1, 1000), 0);
}

/*
 * The moment after convergence counts too: a guest that puts 100 pages at
 * risk but saves only 20 raises a 50% burst by 50 (the burst is below its
 * cap) while giving back 20.  Created, free is 5020 >= 5000 (burst of
 * 10000 shared pages); converged, 5040 < 5050.  So none fits with sharing,
 * one without (it would not be shared, nothing more at risk).
 */
static void test_admit_convergence_binds(void)
{
	struct xst_room r = { .free_pages = 5120, .shared_pages = 10000, .freed_pages = 8000,
			      .burst_percent = 50 };
	struct xst_profile p = { .mem_pages = 100, .shared_pages = 100, .saved_pages = 20 };
	struct xst_profile none = { .mem_pages = 100 };

	UT_ASSERT_EQ(xst_admit(&r, &p, 1, 1000), 0);
	UT_ASSERT_EQ(xst_admit(&r, &none, 1, 1000), 1);
	r.free_pages = 5130;                              /* converged: 5050 >= 5050 */
	UT_ASSERT_EQ(xst_admit(&r, &p, 1, 1000), 1);
}

/* Against a burst of every shared page, sharing buys no admission: the
 * memory a guest saves is exactly what its shared pages put at risk. */
static void test_admit_full_burst(void)
{
	struct xst_room r = { .free_pages = 900000, .reserve_pages = 65536,
			      .shared_pages = 72000, .freed_pages = 50000, .burst_percent = 100 };
	struct xst_profile p, none;

	xst_profile_of(&r, 91072, 40000, true, &p);
	xst_profile_of(&r, 91072, 40000, false, &none);
	UT_ASSERT_EQ(xst_admit(&r, &p, 1, 100000), xst_admit(&r, &none, 1, 100000));
	/* (900000 - 65536 - 50000) / 131072 = 5.98 */
	UT_ASSERT_EQ(xst_admit(&r, &none, 1, 100000), 5);
}

/* More burst or more reserve never admits more. */
static void test_admit_monotone(void)
{
	struct xst_room r = { .free_pages = 900000, .shared_pages = 72000, .freed_pages = 50000 };
	struct xst_profile p;
	uint64_t last = UINT64_MAX;

	xst_profile_of(&r, 91072, 40000, true, &p);
	for (int pct = 0; pct <= 100; pct += 5) {
		uint64_t n;

		r.burst_percent = pct;
		n = xst_admit(&r, &p, 1, 100000);
		CU_ASSERT(n <= last);
		last = n;
	}
	r.burst_percent = 0;
	/* n - 1 <= (900000 - 131072) / (131072 - 27777) = 7.44 */
	UT_ASSERT_EQ(xst_admit(&r, &p, 1, 100000), 8);
}

/* A profile that cannot be (no memory, saving more than it has) admits 0. */
static void test_admit_degenerate(void)
{
	struct xst_room r = { .free_pages = 1000 };
	struct xst_profile empty = { 0 }, odd = { .mem_pages = 10, .saved_pages = 11 };
	struct xst_profile all = { .mem_pages = 10, .shared_pages = 10, .saved_pages = 10 };

	UT_ASSERT_EQ(xst_admit(&r, &empty, 1, 1000), 0);
	UT_ASSERT_EQ(xst_admit(&r, &odd, 1, 1000), 0);
	/* costs nothing once converged: bounded by the domain ids alone */
	UT_ASSERT_EQ(xst_admit(&r, &all, 1, XST_MAX_DOMAINS), XST_MAX_DOMAINS);
}

/*
 * Profiles in turn, from the first: A takes 100 and saves nothing, B takes
 * 100 and gives 80 back.  From 1000 free: 900, 880, 780, 760, ... 160, 60
 * (A, the 15th), then B finds 60 < 100: 15.  B first ends 140, 40 (A, the
 * 16th): 16.
 */
static void test_admit_in_turn(void)
{
	struct xst_room r = { .free_pages = 1000 };
	struct xst_profile ab[2] = { { .mem_pages = 100 },
				     { .mem_pages = 100, .shared_pages = 80, .saved_pages = 80 } };
	struct xst_profile ba[2] = { ab[1], ab[0] };

	UT_ASSERT_EQ(xst_admit(&r, ab, 2, 1000), 15);
	UT_ASSERT_EQ(xst_admit(&r, ba, 2, 1000), 16);
	UT_ASSERT_EQ(xst_admit(&r, ab, 0, 1000), 0);
}

/* --burst takes a number from 0 to 100 and nothing else. */
static void test_parse_burst(void)
{
	static const char *const bad[] = { "-1", "100.1", "101", "abc", "", "nan", "inf", "50%", " " };
	double v = -1;

	CU_ASSERT(xst_parse_burst("50", &v) == 0 && v == 50);
	CU_ASSERT(xst_parse_burst("0", &v) == 0 && v == 0);
	CU_ASSERT(xst_parse_burst("100", &v) == 0 && v == 100);
	CU_ASSERT(xst_parse_burst("12.5", &v) == 0 && v == 12.5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		CU_ASSERT(xst_parse_burst(bad[i], &v) < 0);
		CU_ASSERT(v == 7);
	}
}

UT_MAIN("headroom", NULL, NULL,
	UT(test_burst_pages),
	UT(test_room),
	UT(test_profile),
	UT(test_admit_by_hand),
	UT(test_admit_convergence_binds),
	UT(test_admit_full_burst),
	UT(test_admit_monotone),
	UT(test_admit_degenerate),
	UT(test_admit_in_turn),
	UT(test_parse_burst))
