/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * audit_ut - unit tests of libshare/audit.c: the walk finds nothing wrong
 * in the state real passes leave, and finds each kind of violation it
 * checks when one is planted (one test per invariant, each expecting the
 * walk's own message); the frame census, against the fake Xen, finds a
 * frame holding pages of two groups and counts frames with gfns the
 * engine does not know.
 */
#include <errno.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "core_fixture.h"
#include "ut_common.h"

#define NR 32u

/* The world holds every state the walk counts. */
static void world_complete(struct fix *f)
{
	const struct shr_dom *d1 = shr_dom_find(&f->doms, 1);
	const struct shr_dom *d2 = shr_dom_find(&f->doms, 2);
	const struct shr_dom *d3 = shr_dom_find(&f->doms, 3);

	CU_ASSERT_FATAL(d1->pages.n_source > 0 && d2->pages.n_shared > 0 &&
			d3->pages.n_unique > 0 && d2->pages.n_zero_shared > 0);
	CU_ASSERT_FATAL(shr_index_count(&f->doms.index, SHR_FULL) > 0);
	UT_ASSERT_EQ_FATAL(fix_state(f, 3, 1), SHR_PS_HOLE);
}

/* d1 and d2 twins (d1 SOURCE, d2 SHARED), d3 unique pages and a few zero
 * pages, all merged by two passes: every state the walk knows, and the
 * three sides of the index (max_sharers 4 fills some frames). */
static void world(struct fix *f)
{
	struct shr_params p = fix_params();

	fix_host(4096, false, 3, NR);
	fix_fill(1, 0, NR - 8, 100, 1);
	fix_fill(2, 0, NR - 8, 100, 1);
	fix_fill(3, 0, NR - 4, 1000, 1);
	UT_ASSERT_EQ(fx_hole(3, 1), 0);
	p.max_sharers = 4;
	fix_open(f, &p);
	log_capture();
	fix_add(f, 1, SHR_MODE_ON, "g");
	fix_add(f, 2, SHR_MODE_ON, "g");
	fix_add(f, 3, SHR_MODE_ON, "g");
	fix_passes(f, 2);
	UT_ASSERT_EQ(fix_audit(f), 0);
	world_complete(f);
	log_clear();
}

static struct shr_dom *dom(struct fix *f, uint32_t domid)
{
	return shr_dom_find(&f->doms, domid);
}

/* The walk over a planted state: violations found, and the message. */
static void expect(struct fix *f, const char *msg)
{
	CU_ASSERT_TRUE(fix_audit(f) >= 1);
	UT_ASSERT_EQ(log_count(SHR_LOG_ERR, msg), 1);
}

/* Proves the walk is clean on what passes leave (with the census too),
 * and after a domain leaves, is reset, and the queue is flushed. */
static void test_clean(void)
{
	uint64_t unaccounted = 99;
	struct fix f;

	world(&f);
	UT_ASSERT_EQ(shr_audit_frames(&f.doms, f.xen, &unaccounted), 0);
	UT_ASSERT_EQ(unaccounted, 0);
	shr_dom_reset_pages(&f.doms, dom(&f, 2));
	UT_ASSERT_EQ(fix_audit(&f), 0);
	shr_dom_delete(&f.doms, dom(&f, 1));
	UT_ASSERT_EQ(fix_audit(&f), 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_ERR, ""), 0);
	fix_done(&f);
}

/* Proves the walk catches pairs left queued between runs (invariant 4). */
static void test_catches_queued_pairs(void)
{
	struct fix f;

	world(&f);
	UT_ASSERT_EQ(shr_audit_walk(&f.doms, 3, 0), 1);
	UT_ASSERT_EQ(log_count(SHR_LOG_ERR, "3 merge pairs queued between runs"), 1);
	fix_done(&f);
}

/* Proves the walk catches a foreign mapping left live (invariant 3). */
static void test_catches_live_mapping(void)
{
	struct fix f;

	world(&f);
	UT_ASSERT_EQ(shr_audit_walk(&f.doms, 0, 1), 1);
	UT_ASSERT_EQ(log_count(SHR_LOG_ERR, "1 foreign mappings live"), 1);
	fix_done(&f);
}

/* Proves the walk catches ref ranges that overlap. */
static void test_catches_overlap(void)
{
	struct fix f;
	uint32_t base;

	world(&f);
	base = dom(&f, 2)->ref_base;
	dom(&f, 2)->ref_base = base - 1;
	expect(&f, "d2 ref range overlaps d1's");
	dom(&f, 2)->ref_base = base;
	fix_done(&f);
}

/* Proves the walk catches each per-domain count that no longer equals a
 * recount of the state bytes: unique, source, shared, volatile, zero. */
static void test_catches_counts(void)
{
	uint64_t *counts[5];
	struct fix f;

	world(&f);
	counts[0] = &dom(&f, 3)->pages.n_unique;
	counts[1] = &dom(&f, 1)->pages.n_source;
	counts[2] = &dom(&f, 2)->pages.n_shared;
	counts[3] = &dom(&f, 2)->pages.n_volatile;
	counts[4] = &dom(&f, 2)->pages.n_zero_shared;
	for (int i = 0; i < 5; i++) {
		log_clear();
		(*counts[i])++;
		UT_ASSERT_EQ(fix_audit(&f), 1);
		UT_ASSERT_EQ(log_count(SHR_LOG_ERR, "(recount/kept)"), 1);
		(*counts[i])--;
	}
	/* a level set behind the counts' back */
	log_clear();
	dom(&f, 2)->pages.pstate[0] = (uint8_t)(dom(&f, 2)->pages.pstate[0] | (2u << 3));
	expect(&f, "d2 counts: ");
	shr_ps_set_level(&dom(&f, 2)->pages.pstate[0], 0);
	UT_ASSERT_EQ(fix_audit(&f), 0);
	fix_done(&f);
}

/* Proves the walk catches a page PENDING outside a flush (invariant 4). */
static void test_catches_pending(void)
{
	struct fix f;

	world(&f);
	shr_pages_set(&dom(&f, 3)->pages, 1, SHR_PS_PENDING);
	expect(&f, "d3: 1 pages pending outside a flush");
	shr_pages_set(&dom(&f, 3)->pages, 1, SHR_PS_HOLE);
	fix_done(&f);
}

/* Proves the walk catches an evicting domain that still has pages
 * indexed or believed shared (section 10). */
static void test_catches_evicting_with_pages(void)
{
	struct fix f;

	world(&f);
	dom(&f, 2)->evicting = true;
	expect(&f, "d2 is evicting but has");
	dom(&f, 2)->evicting = false;
	fix_done(&f);
}

/* Proves the walk catches an index entry whose page's state does not
 * match its side (a UNIQUE page turned NEW without its entry dropped). */
static void test_catches_entry_state(void)
{
	struct fix f;
	uint32_t g;

	world(&f);
	for (g = 0; fix_state(&f, 3, g) != SHR_PS_UNIQUE; g++)
		;
	dom(&f, 3)->pages.pstate[g] = shr_ps_make(SHR_PS_NEW, 0);
	dom(&f, 3)->pages.n_unique--;
	expect(&f, "unstable entry but state 0");
	shr_pages_set(&dom(&f, 3)->pages, g, SHR_PS_UNIQUE);
	fix_done(&f);
}

/* Proves the walk catches an entry that its page's key_lo no longer
 * leads to (unreachable from its home slot). */
static void test_catches_unreachable_entry(void)
{
	struct fix f;
	uint32_t g, lo;

	world(&f);
	for (g = 0; fix_state(&f, 3, g) != SHR_PS_UNIQUE; g++)
		;
	lo = dom(&f, 3)->pages.key_lo[g];
	dom(&f, 3)->pages.key_lo[g] = lo ^ 0x5a5a5a5a;
	expect(&f, "entry unreachable from its key");
	dom(&f, 3)->pages.key_lo[g] = lo;
	fix_done(&f);
}

/* Proves the walk catches an entry naming no domain, and entries the
 * states do not account for. */
static void test_catches_orphan_entry(void)
{
	struct fix f;

	world(&f);
	UT_ASSERT_EQ(shr_index_insert(&f.doms.index, SHR_UNSTABLE, 0x1234567812345678ull,
				      SHR_REF_MAX - 1, 0), 0);
	expect(&f, "names no domain");
	UT_ASSERT_EQ(log_count(SHR_LOG_ERR, "pages say"), 1);
	shr_index_remove(&f.doms.index, SHR_UNSTABLE, 0x12345678, SHR_REF_MAX - 1);
	fix_done(&f);
}

/* Proves the walk catches a stable entry with fewer than two sharers
 * (invariant 5). */
static void test_catches_lone_stable_entry(void)
{
	struct fix f;
	int64_t slot;
	uint32_t g;

	world(&f);
	for (g = 0; fix_state(&f, 1, g) != SHR_PS_SOURCE; g++)
		;
	slot = shr_index_slot_of(&f.doms.index, SHR_STABLE, dom(&f, 1)->pages.key_lo[g],
				 dom(&f, 1)->ref_base + g);
	CU_ASSERT_FATAL(slot >= 0);
	*shr_index_sharers(&f.doms.index, SHR_STABLE, slot) = 1;
	expect(&f, "stable entry with 1 sharers");
	*shr_index_sharers(&f.doms.index, SHR_STABLE, slot) = 2;
	fix_done(&f);
}

static const char *group_by_parity(uint32_t domid)
{
	return domid % 2 ? "red" : "blue";
}

/* Proves the frame census (section 10): pages the engine believes shared
 * that sit on one frame with pages of another group are found (one frame
 * spanning, logged with both pages), however the host got there (here:
 * another tool shared them); a frame with gfns of a domain the engine
 * does not scan counts as unaccounted, not as a violation; a page private
 * again is skipped. */
static void test_census(void)
{
	struct shr_params p = fix_params();
	uint64_t h1, h2, h3, unaccounted = 0;
	struct fix f;

	fix_host(4096, false, 3, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_fill(2, 0, NR, 100, 1);
	fix_fill(3, 0, NR, 100, 1);
	fix_open(&f, &p);
	log_capture();
	fix_add(&f, 1, SHR_MODE_ON, "red");
	fix_add(&f, 2, SHR_MODE_ON, "blue");
	/* another tool put d1:3, d2:3 and d3:3 (not scanned) on one frame */
	UT_ASSERT_EQ(fx_nominate(1, 3, &h1), 0);
	UT_ASSERT_EQ(fx_nominate(2, 3, &h2), 0);
	UT_ASSERT_EQ(fx_nominate(3, 3, &h3), 0);
	UT_ASSERT_EQ(fx_share(1, 3, h1, 2, 3, h2), 0);
	UT_ASSERT_EQ(fx_share(1, 3, h1, 3, 3, h3), 0);
	UT_ASSERT_EQ(fx_mixed_frames(group_by_parity), 1);
	/* and the engine believes it shared them (a record lost) */
	shr_pages_set(&dom(&f, 1)->pages, 3, SHR_PS_SHARED);
	shr_pages_set(&dom(&f, 2)->pages, 3, SHR_PS_SHARED);
	/* a page believed shared that is private again */
	shr_pages_set(&dom(&f, 2)->pages, 5, SHR_PS_SHARED);
	UT_ASSERT_EQ(fix_audit(&f), 0);
	UT_ASSERT_EQ(shr_audit_frames(&f.doms, f.xen, &unaccounted), 1);
	UT_ASSERT_EQ(log_count(SHR_LOG_ERR, "holds d1 gfn 0x3 of group red and d2 gfn 0x3 of "
			       "group blue"), 1);
	UT_ASSERT_EQ(unaccounted, 1);
	UT_ASSERT_EQ(log_count(SHR_LOG_INFO, "1 shared frames hold gfns the engine does not "
			       "know"), 1);
	/* the census asks twice per page believed shared, at most */
	CU_ASSERT_TRUE(fx_calls(FX_DEBUG_GFN) == 3 && fx_calls(FX_NOMINATE) == 2);
	shr_pages_set(&dom(&f, 1)->pages, 3, SHR_PS_NEW);
	shr_pages_set(&dom(&f, 2)->pages, 3, SHR_PS_NEW);
	shr_pages_set(&dom(&f, 2)->pages, 5, SHR_PS_NEW);
	fix_done(&f);
}

UT_MAIN("audit", NULL, NULL,
	UT(test_clean),
	UT(test_catches_queued_pairs),
	UT(test_catches_live_mapping),
	UT(test_catches_overlap),
	UT(test_catches_counts),
	UT(test_catches_pending),
	UT(test_catches_evicting_with_pages),
	UT(test_catches_entry_state),
	UT(test_catches_unreachable_entry),
	UT(test_catches_orphan_entry),
	UT(test_catches_lone_stable_entry),
	UT(test_census))
