/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scan_ut - unit tests of libshare/scan.c against the fake Xen: batches
 * and their one mapping call, what a rescan learns (a write, a hole, a
 * share lost to a rewrite of the same bytes, a frame that lost its stable
 * entry), pages left nominated, the eviction sweep, a domain that grows or
 * dies.  Every scenario ends with the engine's audit and the fake host's
 * own checks (fix_done).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "core_fixture.h"
#include "ut_common.h"

#define NR 32u                       /* gfns per domain */

/* Two domains of nr gfns holding the same nr distinct pages, scanned in
 * one group: after one pass every gfn of d2 is on d1's frame. */
static void twins(struct fix *f, const struct shr_params *p, unsigned int nr)
{
	fix_host(nr * 4 > 1024 ? nr * 4 : 1024, false, 2, nr);
	fix_fill(1, 0, nr, 100, 1);
	fix_fill(2, 0, nr, 100, 1);
	fix_open(f, p);
	fix_add(f, 1, SHR_MODE_ON, "g");
	fix_add(f, 2, SHR_MODE_ON, "g");
}

static void two_twins(struct fix *f, const struct shr_params *p)
{
	twins(f, p, NR);
}

static uint64_t counter_mappings(const struct fix *f)
{
	return shr_xen_counters(f->xen)->mappings;
}

/* Proves the batch of section 1: batch_pages due gfns are mapped with ONE
 * map call (NR / 16 calls for NR unique pages), every page is
 * fingerprinted, nothing is nominated when nothing matches, and no
 * mapping is left. */
static void test_one_map_call_per_batch(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	fix_host(1024, false, 1, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_pass(&f);
	UT_ASSERT_EQ(counter_mappings(&f), NR / p.batch_pages);
	UT_ASSERT_EQ(shr_xen_counters(f.xen)->mapped_pages, NR);
	UT_ASSERT_EQ(f.st.pages_scanned, NR);
	UT_ASSERT_EQ(fx_calls(FX_NOMINATE), 0);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 1)->pages.n_unique, NR);
	UT_ASSERT_EQ(shr_xen_counters(f.xen)->live_mappings, 0);
	fix_done(&f);
}

/* Proves that the batch is unmapped before anything is nominated
 * (invariant 3): with a batch larger than the merge queue, the queue
 * fills and is flushed while the batch is being classified; every twin
 * is still merged (a page this engine still mapped would give E2BIG), and
 * the fake host saw no nominate while a batch mapping was live. */
static void test_unmapped_before_nominate(void)
{
	const unsigned int nr = SHR_MERGE_UPSTREAM_QUEUE + 44;
	struct shr_params p = fix_params();
	struct fx_host_stats h;
	struct fix f;

	fix_host(4096, false, 2, nr);
	fix_fill(1, 0, nr, 100, 1);
	fix_fill(2, 0, nr, 100, 1);
	p.batch_pages = nr;
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	f.scan.pages_total = 2 * nr;
	UT_ASSERT_EQ(shr_scan_batch(&f.scan), nr);
	UT_ASSERT_EQ(shr_scan_batch(&f.scan), nr);
	CU_ASSERT_TRUE(fx_calls(FX_SHARE) >= SHR_MERGE_UPSTREAM_QUEUE);   /* flushed mid-batch */
	fix_pass(&f);
	fx_host(&h);
	UT_ASSERT_EQ(h.nr_saved, nr);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 2)->pages.n_shared, nr);
	UT_ASSERT_EQ(h.nominate_while_mapped, 0);
	fix_done(&f);
}

/* Results table, "err[i] from the mapping": a hole is recorded (HOLE,
 * backed off, not counted volatile) and never read (nor counted in
 * pages_scanned, which counts fingerprints); a shared page that became a
 * hole counts as an unshare; a hole populated again is a fresh page and
 * is merged. */
static void test_hole_in_batch(void)
{
	struct shr_params p = fix_params();
	uint64_t scanned;
	struct shr_dom *d2;
	struct fix f;

	two_twins(&f, &p);
	UT_ASSERT_EQ(fx_hole(1, 5), 0);
	/* a page the mapping call cannot give (paged out) is a hole too */
	UT_ASSERT_EQ(fx_inject(FX_MAP_PAGE, 2, 9, 1, 1, -ENOENT), 0);
	scanned = f.st.pages_scanned;
	fix_pass(&f);
	/* the first pass maps every gfn of both domains; two are holes */
	UT_ASSERT_EQ(f.st.pages_scanned - scanned, 2 * NR - 2);
	d2 = shr_dom_find(&f.doms, 2);
	UT_ASSERT_EQ(fix_state(&f, 2, 9), SHR_PS_HOLE);
	UT_ASSERT_EQ(fix_state(&f, 1, 9), SHR_PS_UNIQUE);
	UT_ASSERT_EQ(fix_state(&f, 1, 5), SHR_PS_HOLE);
	UT_ASSERT_EQ(shr_ps_level(fix_byte(&f, 1, 5)), 1);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 1)->pages.n_volatile, 0);
	UT_ASSERT_EQ(fix_state(&f, 2, 5), SHR_PS_UNIQUE);
	UT_ASSERT_EQ(f.st.unshares, 0);

	/* a page the engine shared is ballooned out */
	UT_ASSERT_EQ(fix_state(&f, 2, 6), SHR_PS_SHARED);
	UT_ASSERT_EQ(fx_hole(2, 6), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, 6), SHR_PS_HOLE);
	UT_ASSERT_EQ(f.st.unshares, 1);
	UT_ASSERT_EQ(d2->unshares, 1);

	/* populated again with the twin's content: merged into d2's page
	 * (indexed as unique meanwhile) once due */
	UT_ASSERT_EQ(fx_populate(1, 5, 105), 0);
	fix_passes(&f, 3);
	UT_ASSERT_EQ(fix_state(&f, 1, 5), SHR_PS_SHARED);
	UT_ASSERT_EQ(fix_state(&f, 2, 5), SHR_PS_SOURCE);
	UT_ASSERT_EQ(fx_frame(1, 5), fx_frame(2, 5));
	fix_done(&f);
}

/* Results table, "mapping call fails": -ESRCH (or -EBUSY) means the
 * domain is gone: it is no longer scanned; any other error skips the
 * batch with a warning and the pass goes on (the skipped pages are
 * looked at next pass). */
static void test_map_call_fails(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	fix_host(1024, false, 2, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_fill(2, 0, NR, 500, 1);
	fix_open(&f, &p);
	log_capture();
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	UT_ASSERT_EQ(fx_inject(FX_MAP, 1, 0, 1, 1, -EFAULT), 0);
	UT_ASSERT_EQ(fx_inject(FX_MAP, 2, FX_ANY_GFN, 1, 1, -ESRCH), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "batch skipped"), 1);
	/* d1's first batch was skipped, its second scanned */
	UT_ASSERT_EQ(fix_state(&f, 1, 0), SHR_PS_NEW);
	UT_ASSERT_EQ(fix_state(&f, 1, p.batch_pages), SHR_PS_UNIQUE);
	CU_ASSERT_TRUE(shr_dom_find(&f.doms, 2)->gone);
	CU_ASSERT_FALSE(shr_dom_find(&f.doms, 1)->gone);
	fix_pass(&f);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 1)->pages.n_unique, NR);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 2)->pages.n_unique, 0);
	fix_done(&f);
}

/* Proves section 4's rescan: a page the engine shared and the guest
 * rewrote is an unshare (counted, backed off one level, volatile, WATCH);
 * a look that finds it changed again backs it off further, it is merged
 * again only after a look found it unchanged (one level down), and each
 * later unchanged look lowers its level until it is no longer volatile. */
static void test_shared_page_rewritten(void)
{
	struct shr_params p = fix_params();
	struct shr_dom *d2;
	unsigned int passes = 0;
	struct fix f;

	two_twins(&f, &p);
	fix_pass(&f);
	d2 = shr_dom_find(&f.doms, 2);
	UT_ASSERT_EQ(fx_write(2, 7, 9999), 0);      /* unshares it in the host */
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.unshares, 1);
	UT_ASSERT_EQ(fix_state(&f, 2, 7), SHR_PS_WATCH);
	UT_ASSERT_EQ(shr_ps_level(fix_byte(&f, 2, 7)), 1);
	UT_ASSERT_EQ(d2->pages.n_volatile, 1);
	/* the guest writes the old content back: merged once seen unchanged */
	UT_ASSERT_EQ(fx_write(2, 7, 107), 0);
	while (fix_state(&f, 2, 7) != SHR_PS_SHARED && passes++ < 8)
		fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, 7), SHR_PS_SHARED);
	/* changed at its second look (level 2), unchanged at its third */
	UT_ASSERT_EQ(shr_ps_level(fix_byte(&f, 2, 7)), 1);
	UT_ASSERT_EQ(d2->pages.n_volatile, 1);
	passes = 0;
	while (shr_ps_level(fix_byte(&f, 2, 7)) && passes++ < 8)
		fix_pass(&f);
	UT_ASSERT_EQ(shr_ps_level(fix_byte(&f, 2, 7)), 0);
	UT_ASSERT_EQ(fix_state(&f, 2, 7), SHR_PS_SHARED);
	UT_ASSERT_EQ(d2->pages.n_volatile, 0);
	UT_ASSERT_EQ(fx_frame(1, 7), fx_frame(2, 7));
	fix_done(&f);
}

/* Proves no_backoff (benchmarks): a broken share is offered for merging
 * on the look that finds it, without a level. */
static void test_no_backoff(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	p.no_backoff = true;
	two_twins(&f, &p);
	fix_pass(&f);
	UT_ASSERT_EQ(fx_write(2, 7, 108), 0);       /* now d1 gfn 8's twin */
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.unshares, 1);
	UT_ASSERT_EQ(fix_state(&f, 2, 7), SHR_PS_SHARED);
	UT_ASSERT_EQ(shr_ps_level(fix_byte(&f, 2, 7)), 0);
	UT_ASSERT_EQ(fx_frame(1, 8), fx_frame(2, 7));
	fix_done(&f);
}

/* Proves a unique page that changed moves to its new key: the old
 * unstable entry is dropped (the audit counts entries against states),
 * and a twin of the new content finds it. */
static void test_unique_page_moves(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	fix_host(1024, false, 2, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_fill(2, 0, NR, 500, 1);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_pass(&f);
	UT_ASSERT_EQ(fx_write(1, 3, 777), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 1, 3), SHR_PS_UNIQUE);
	UT_ASSERT_EQ(shr_index_count(&f.doms.index, SHR_UNSTABLE), NR);
	UT_ASSERT_EQ(fix_audit(&f), 0);
	UT_ASSERT_EQ(fx_write(2, 0, 777), 0);
	fix_add(&f, 2, SHR_MODE_ON, "g");
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, 0), SHR_PS_SHARED);
	UT_ASSERT_EQ(fx_frame(1, 3), fx_frame(2, 0));
	fix_done(&f);
}

/* Results table, "debug_gfn -EINVAL" for a SHARED page: a guest that
 * rewrites a shared page with its own bytes unshares it unseen by the
 * fingerprint; Xen's shr_pages falling below the engine's belief makes
 * the pass ask debug_gfn for the resting shared pages, the page found
 * private counts in unshares_rewritten and is merged again later.  A pass
 * with no such deficit makes no debug_gfn query at all. */
static void test_share_lost_to_same_bytes(void)
{
	struct shr_params p = fix_params();
	unsigned int passes = 0;
	uint64_t before;
	struct fix f;

	two_twins(&f, &p);
	fix_passes(&f, 2);
	before = fx_calls(FX_DEBUG_GFN);
	fix_passes(&f, 4);
	UT_ASSERT_EQ(fx_calls(FX_DEBUG_GFN), before);

	UT_ASSERT_EQ(fx_write_same(2, 9), 0);
	UT_ASSERT_EQ(fx_sharers(2, 9), -EINVAL);
	while (!f.st.unshares_rewritten && passes++ < 10)
		fix_pass(&f);
	UT_ASSERT_EQ(f.st.unshares_rewritten, 1);
	UT_ASSERT_EQ(f.st.unshares, 1);
	UT_ASSERT_EQ(fix_state(&f, 2, 9), SHR_PS_WATCH);
	passes = 0;
	while (fix_state(&f, 2, 9) != SHR_PS_SHARED && passes++ < 8)
		fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, 9), SHR_PS_SHARED);
	UT_ASSERT_EQ(fx_sharers(2, 9), 2);
	fix_done(&f);
}

/* Proves the bound on debug_gfn queries (overview, "SHR_RECHECK_PER_LOST"):
 * with 1024 resting shared pages and two shares lost to rewrites of the
 * same bytes (one at the last gfn), no pass asks more than twice the
 * deficit plus SHR_RECHECK_MIN (68 here, not one per resting page); the
 * page at the last gfn is reached within 1024 / 64 passes although every
 * pass's budget is spent before it (each sweep goes on where the last
 * stopped, whatever the pages' rest); and once both are shared again a
 * pass asks nothing. */
static void test_share_lost_queries_bounded(void)
{
	const unsigned int nr = 1024, budget = 2 * 2 + 64;
	struct shr_params p = fix_params();
	unsigned int passes = 0;
	uint64_t before, most = 0;
	struct fix f;

	twins(&f, &p, nr);
	fix_passes(&f, 3);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 2)->pages.n_shared, nr);
	UT_ASSERT_EQ(fx_write_same(2, 3), 0);
	UT_ASSERT_EQ(fx_write_same(2, nr - 1), 0);
	while (f.st.unshares_rewritten < 2 && passes++ < nr / 64 + 2) {
		before = fx_calls(FX_DEBUG_GFN);
		fix_pass(&f);
		if (fx_calls(FX_DEBUG_GFN) - before > most)
			most = fx_calls(FX_DEBUG_GFN) - before;
	}
	UT_ASSERT_EQ(f.st.unshares_rewritten, 2);
	CU_ASSERT_TRUE(most <= budget);
	CU_ASSERT_TRUE(passes > 1);        /* the budget was spent before the last gfn */
	/* both found and merged again: a pass asks nothing more */
	for (passes = 0; fix_state(&f, 2, nr - 1) != SHR_PS_SHARED && passes < 8; passes++)
		fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, 3), SHR_PS_SHARED);
	UT_ASSERT_EQ(fix_state(&f, 2, nr - 1), SHR_PS_SHARED);
	before = fx_calls(FX_DEBUG_GFN);
	fix_pass(&f);
	UT_ASSERT_EQ(fx_calls(FX_DEBUG_GFN), before);
	fix_done(&f);
}

/* Proves the release of pages left nominated (section 4, scan.c
 * release_nominated): a page another tool (or a killed xenshared)
 * nominated makes Xen count more shared pages than the engine believes,
 * so the pass marks the pages it indexes as unique SUSPECT; the next look
 * asks debug_gfn, and the page alone on its frame is made private again
 * by a writable mapping (nominations_released).  Results table,
 * "debug_gfn -EINVAL" for a SUSPECT page: a private page is left alone
 * (no writable mapping of it). */
static void test_release_left_nominated(void)
{
	struct shr_params p = fix_params();
	uint64_t h, maps;
	struct fix f;

	fix_host(1024, false, 1, NR);
	fix_fill(1, 0, NR, 100, 1);
	UT_ASSERT_EQ(fx_nominate(1, 7, &h), 0);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_pass(&f);
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 1, 7)));
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 1, 8)));
	UT_ASSERT_EQ(f.st.nominations_released, 0);
	maps = counter_mappings(&f);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.nominations_released, 1);
	UT_ASSERT_EQ(fx_sharers(1, 7), -EINVAL);
	/* one writable mapping for the one page, besides the two batches */
	UT_ASSERT_EQ(counter_mappings(&f) - maps, NR / p.batch_pages + 1);
	CU_ASSERT_FALSE(shr_ps_suspect(fix_byte(&f, 1, 7)));
	CU_ASSERT_FALSE(shr_ps_suspect(fix_byte(&f, 1, 8)));
	/* a pass with nothing left makes no query */
	maps = fx_calls(FX_DEBUG_GFN);
	fix_pass(&f);
	UT_ASSERT_EQ(fx_calls(FX_DEBUG_GFN), maps);
	fix_done(&f);
}

/* Proves a page left nominated that the release finds sharing its frame
 * with another gfn (debug_gfn > 1) is not released: only pages alone on
 * a frame save nothing. */
static void test_release_spares_shared_frame(void)
{
	struct shr_params p = fix_params();
	uint64_t h1, h2;
	struct fix f;

	fix_host(1024, false, 2, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_fill(2, 0, NR, 500, 1);
	UT_ASSERT_EQ(fx_write(2, 4, 104), 0);
	/* another tool shared d1:4 with d2:4, and d2 is not scanned */
	UT_ASSERT_EQ(fx_nominate(1, 4, &h1), 0);
	UT_ASSERT_EQ(fx_nominate(2, 4, &h2), 0);
	UT_ASSERT_EQ(fx_share(1, 4, h1, 2, 4, h2), 0);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_passes(&f, 2);
	UT_ASSERT_EQ(f.st.nominations_released, 0);
	UT_ASSERT_EQ(fx_sharers(1, 4), 2);
	fix_done(&f);
}

/* Proves the eviction sweep (scan.c evict_batch): an evicting domain is
 * mapped writable batch by batch (the ring page excepted), which unshares
 * every gfn in the host without writing a byte; its pages take part in no
 * merge meanwhile; once Xen counts no shared page at the start of its
 * pass it is no longer evicting, holds its policy and merges again. */
static void test_eviction_sweep(void)
{
	struct shr_params p = fix_params();
	struct fx_dom_stats ds;
	struct shr_dom *d2;
	struct fix f;

	p.no_rings = true;
	two_twins(&f, &p);
	fx_dom_set_ring(2, NR - 1);
	shr_dom_find(&f.doms, 2)->ring_gfn = NR - 1;
	fix_pass(&f);
	d2 = shr_dom_find(&f.doms, 2);
	UT_ASSERT_EQ(d2->pages.n_shared, NR - 1);

	/* what engine.c's dom_held_check does for a domain moved away */
	shr_merge_flush(&f.merge);
	shr_dom_reset_pages(&f.doms, d2);
	d2->evicting = true;
	snprintf(d2->policy.group, sizeof(d2->policy.group), "other");
	fix_pass(&f);
	UT_ASSERT_EQ(fx_dom(2, &ds), 0);
	UT_ASSERT_EQ(ds.shr_pages, 0);
	CU_ASSERT_TRUE(d2->evicting);              /* until its next pass starts */
	UT_ASSERT_EQ(d2->pages.n_shared + d2->pages.n_unique, 0);
	for (uint32_t g = 0; g < NR - 1; g++)
		CU_ASSERT_TRUE(fx_holds(2, g, 100 + g));
	UT_ASSERT_EQ(fix_audit(&f), 0);

	fix_pass(&f);
	CU_ASSERT_FALSE(d2->evicting);
	CU_ASSERT_STRING_EQUAL(d2->held.group, "other");
	UT_ASSERT_EQ(d2->pages.n_shared, NR - 1);  /* merged again with d1's frames */
	fix_done(&f);
}

/* Results table, "-ENOMEM in err[i] of a writable mapping (eviction)":
 * with no free frame for the copies, the sweep counts the pages it could
 * not unshare in evict_nomem, the reserve asks for them (pages_needed),
 * and the next pass sweeps again and succeeds once memory is back. */
static void test_eviction_without_memory(void)
{
	struct shr_params p = fix_params();
	uint64_t asked = 0;
	struct shr_dom *d2;
	struct fix f;

	p.no_rings = true;
	two_twins(&f, &p);
	fix_pass(&f);
	d2 = shr_dom_find(&f.doms, 2);
	shr_merge_flush(&f.merge);
	shr_dom_reset_pages(&f.doms, d2);
	d2->evicting = true;
	fx_host_set_free(0);
	log_capture();
	fix_pass(&f);
	UT_ASSERT_EQ(d2->evict_nomem, NR);
	shr_reserve_check(&f.reserve, true);
	asked = f.reserve.pages_needed;
	CU_ASSERT_TRUE(asked >= NR);
	fx_host_set_free(1000);
	fix_pass(&f);                              /* warns, then sweeps again */
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "could not be unshared"), 1);
	UT_ASSERT_EQ(d2->evict_nomem, 0);
	fix_pass(&f);
	CU_ASSERT_FALSE(d2->evicting);
	fix_done(&f);
}

/* Proves a domain whose p2m grew is tracked at its new size from its next
 * pass on (dom.c shr_dom_regrow through scan_dom_start): the new gfns are
 * scanned and merged, the old knowledge is relearned, the index stays
 * consistent. */
static void test_domain_grows(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	two_twins(&f, &p);
	fix_pass(&f);
	UT_ASSERT_EQ(fx_dom_grow(2, NR + 16), 0);
	fix_fill(2, NR, 16, 100, 1);               /* twins of d1's first 16 */
	fix_pass(&f);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 2)->pages.nr, NR + 16);
	UT_ASSERT_EQ(fix_audit(&f), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, NR + 3), SHR_PS_SHARED);
	UT_ASSERT_EQ(fx_frame(1, 3), fx_frame(2, NR + 3));
	fix_done(&f);
}

/* Proves a domain found dying at the start of its pass is no longer
 * scanned (and the pass counts its gfns as done). */
static void test_dying_domain_skipped(void)
{
	struct shr_params p = fix_params();
	uint64_t maps;
	struct fix f;

	two_twins(&f, &p);
	fx_dom_set_dying(2);
	maps = counter_mappings(&f);
	f.scan.pages_total = 2 * NR;
	fix_pass(&f);
	CU_ASSERT_TRUE(shr_dom_find(&f.doms, 2)->gone);
	UT_ASSERT_EQ(counter_mappings(&f) - maps, NR / p.batch_pages);
	fix_done(&f);
}

/* Proves a frame whose stable source went away is adopted: a SHARED page
 * seen unchanged whose key has no stable entry becomes the frame's
 * SOURCE, and a twin indexed as unique meanwhile joins that frame at once
 * (scan.c, merge.c shr_merge_adopted). */
static void test_frame_adopted(void)
{
	struct shr_params p = fix_params();
	unsigned int passes = 0;
	struct fix f;

	fix_host(1024, false, 4, NR);
	for (uint32_t d = 1; d <= 3; d++)
		fix_fill(d, 0, NR, 100, 1);
	fix_fill(4, 0, NR, 900, 1);
	fix_open(&f, &p);
	for (uint32_t d = 1; d <= 4; d++)
		fix_add(&f, d, SHR_MODE_ON, "g");
	fix_pass(&f);
	UT_ASSERT_EQ(fx_sharers(1, 3), 3);
	UT_ASSERT_EQ(fx_write(1, 3, 4242), 0);     /* the source is rewritten */
	UT_ASSERT_EQ(fx_write(4, 0, 103), 0);      /* a new twin appears */
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 1, 3), SHR_PS_WATCH);
	/* the frame of d2:3 and d3:3 has no stable entry now */
	while (fix_state(&f, 4, 0) != SHR_PS_SHARED && passes++ < 10)
		fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 4, 0), SHR_PS_SHARED);
	UT_ASSERT_EQ(fx_frame(4, 0), fx_frame(2, 3));
	UT_ASSERT_EQ(fx_sharers(2, 3), 3);
	CU_ASSERT_TRUE(fix_state(&f, 2, 3) == SHR_PS_SOURCE ||
		       fix_state(&f, 3, 3) == SHR_PS_SOURCE);
	fix_done(&f);
}

/* Proves the backoff schedule reaches the hypervisor: a page at level L
 * is not mapped at all on the passes it is not due (it costs no
 * mapped_pages), a hole is asked its page type only when due and never
 * mapped, and the ring page is never in a batch. */
static void test_backed_off_not_mapped(void)
{
	struct shr_params p = fix_params();
	uint64_t before, mapped = 0, types;
	struct fix f;

	p.no_rings = true;
	fix_host(1024, false, 1, NR);
	fix_fill(1, 0, NR, 100, 1);
	fx_dom_set_ring(1, NR - 1);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 1)->ring_gfn, NR - 1);
	UT_ASSERT_EQ(fx_hole(1, 5), 0);
	fix_pass(&f);                              /* gfn 5: HOLE, level 1 */
	types = fx_calls(FX_GFN_TYPES);
	for (int i = 0; i < 8; i++) {
		before = shr_xen_counters(f.xen)->mapped_pages;
		fix_pass(&f);
		mapped += shr_xen_counters(f.xen)->mapped_pages - before;
	}
	/* NR - 2 pages every pass; the hole is looked at when due: in pass 1
	 * (level 1: (1 + 5) % 2 == 0), pass 3 (level 2), then level 3 puts
	 * its next look at pass 11; it is asked its type then, not mapped */
	UT_ASSERT_EQ(mapped, 8 * (NR - 2));
	UT_ASSERT_EQ(fx_calls(FX_GFN_TYPES) - types, 2);
	fix_done(&f);
}

static unsigned int hole_maps;
static void count_hole_map(void *arg)
{
	(void)arg;
	hole_maps++;
}

/* Proves holes are found without mapping them: in a domain whose p2m is
 * mostly holes (as a PVH guest's, whose p2m reaches its special pages
 * below 4 GiB), the first pass asks the page types and maps only the
 * pages; a hole populated later is found on its next look and merged. */
static void test_holes_not_mapped(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	fix_host(1024, true, 2, NR);                /* the batched op: no compare mappings */
	fix_fill(1, 0, NR, 100, 1);
	fix_fill(2, 0, NR, 100, 1);
	for (uint64_t g = 4; g < NR - 4; g++)
		UT_ASSERT_EQ(fx_hole(1, g), 0);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	/* the first mapping of each of d1's holes is counted */
	hole_maps = 0;
	for (uint64_t g = 4; g < NR - 4; g++)
		UT_ASSERT_EQ(fx_hook(FX_MAP, 1, g, 1, count_hole_map, NULL), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(hole_maps, 0);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 1)->pages.n_unique +
		     shr_dom_find(&f.doms, 1)->pages.n_shared +
		     shr_dom_find(&f.doms, 1)->pages.n_source, 8);
	UT_ASSERT_EQ(fix_state(&f, 1, 4), SHR_PS_HOLE);
	UT_ASSERT_EQ(fix_state(&f, 1, NR - 5), SHR_PS_HOLE);
	UT_ASSERT_EQ(fx_sharers(1, 3), 2);
	CU_ASSERT_TRUE(fx_calls(FX_GFN_TYPES) >= 2);
	/* populated again with d2's content: found on its next look */
	UT_ASSERT_EQ(fx_populate(1, 10, 110), 0);
	fix_passes(&f, 3);
	UT_ASSERT_EQ(hole_maps, 1);
	UT_ASSERT_EQ(fx_frame(1, 10), fx_frame(2, 10));
	UT_ASSERT_EQ(fix_state(&f, 1, 11), SHR_PS_HOLE);
	fix_done(&f);
}

/* Results table, "page types refused": a hypervisor that cannot give page
 * types gets its holes mapped from then on, said once as a warning, and
 * they are found by the mapping as before; -ESRCH means the domain is
 * gone. */
static void test_hole_types_refused(void)
{
	struct shr_params p = fix_params();
	uint64_t mapped, types;
	struct fix f;

	fix_host(1024, false, 2, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_fill(2, 0, NR, 500, 1);
	UT_ASSERT_EQ(fx_hole(1, 5), 0);
	fix_open(&f, &p);
	log_capture();
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	UT_ASSERT_EQ(fx_inject(FX_GFN_TYPES, 1, FX_ANY_GFN, 1, 1, -EPERM), 0);
	mapped = shr_xen_counters(f.xen)->mapped_pages;
	fix_pass(&f);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "holes are mapped"), 1);
	UT_ASSERT_EQ(shr_xen_counters(f.xen)->mapped_pages - mapped, 2 * NR);
	UT_ASSERT_EQ(fix_state(&f, 1, 5), SHR_PS_HOLE);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 1)->pages.n_unique, NR - 1);
	types = fx_calls(FX_GFN_TYPES);
	fix_passes(&f, 2);
	UT_ASSERT_EQ(fx_calls(FX_GFN_TYPES), types);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "holes are mapped"), 1);
	fix_done(&f);

	fix_host(1024, false, 1, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	UT_ASSERT_EQ(fx_inject(FX_GFN_TYPES, 1, FX_ANY_GFN, 1, 1, -ESRCH), 0);
	fix_pass(&f);
	CU_ASSERT_TRUE(shr_dom_find(&f.doms, 1)->gone);
	fix_done(&f);
}

/* ---- dirty-log scanning (docs/design.md 4b) -------------------------------------- */

#define SENTINEL (NR - 2)           /* the ring page: below the highest gfn */

/* d1 holds NR distinct pages, d2 NR others; both have a ring page and are
 * scanned two passes: the first full, the second takes their dirty logs
 * (a full pass too: every look bit starts set). */
static void dirty_pair(struct fix *f, struct shr_params *p)
{
	p->no_rings = true;
	fix_host(1024, false, 2, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_fill(2, 0, NR, 500, 1);
	fx_dom_set_ring(1, SENTINEL);
	fx_dom_set_ring(2, SENTINEL);
	fix_open(f, p);
	fix_add(f, 1, SHR_MODE_ON, "g");
	fix_add(f, 2, SHR_MODE_ON, "g");
	fix_pass(f);
	CU_ASSERT_FALSE(fx_logdirty_on(1));
	fix_pass(f);
}

/* Proves a dirty-log domain finds a share lost to a rewrite of the same
 * bytes without a sweep: the log names the page, the round's look finds it
 * unchanged and asks Xen about it alone (one debug_gfn), counts it in
 * unshares_rewritten, watches it, and it is merged again later. */
static void test_dirty_log_rewritten_same(void)
{
	struct shr_params p = fix_params();
	unsigned int passes = 0;
	uint64_t before;
	struct fix f;

	dirty_pair(&f, &p);
	UT_ASSERT_EQ(fx_write(2, 3, 107), 0);      /* d1:7's content */
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, 3), SHR_PS_SHARED);
	UT_ASSERT_EQ(fx_write_same(2, 3), 0);
	before = fx_calls(FX_DEBUG_GFN);
	fix_pass(&f);
	UT_ASSERT_EQ(fx_calls(FX_DEBUG_GFN) - before, 1);
	UT_ASSERT_EQ(f.st.unshares_rewritten, 1);
	UT_ASSERT_EQ(fix_state(&f, 2, 3), SHR_PS_WATCH);
	while (fix_state(&f, 2, 3) != SHR_PS_SHARED && passes++ < 8)
		fix_pass(&f);
	UT_ASSERT_EQ(fx_frame(2, 3), fx_frame(1, 7));
	fix_done(&f);
}

/* Proves a settled domain scanned from its dirty log costs nothing: after
 * the first full pass the engine takes log-dirty; a pass with nothing
 * written maps no page; a page the guest writes with a twin's content is
 * the only page looked at next pass, and is merged there. */
static void test_dirty_log_pass(void)
{
	struct shr_params p = fix_params();
	uint64_t scanned;
	struct fix f;

	dirty_pair(&f, &p);
	CU_ASSERT_TRUE(fx_logdirty_on(1));
	CU_ASSERT_TRUE(fx_logdirty_on(2));
	CU_ASSERT_TRUE(shr_dom_find(&f.doms, 1)->logdirty);
	scanned = f.st.pages_scanned;
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.pages_scanned, scanned);
	UT_ASSERT_EQ(f.st.logdirty_rounds, 2);
	UT_ASSERT_EQ(fx_write(2, 3, 107), 0);      /* d1:7's content */
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.pages_scanned, scanned + 1);
	UT_ASSERT_EQ(fx_frame(2, 3), fx_frame(1, 7));
	UT_ASSERT_EQ(fix_state(&f, 2, 3), SHR_PS_SHARED);
	fix_done(&f);
}

/* Proves a pass maps the pages it looks at in as few calls as its batch
 * allows however far apart they lie: 16 pages written across a 2048-gfn
 * domain scanned from its dirty log are mapped in one call (on a PV dom0 a
 * mapping call costs far more than a page in it: mmap, munmap and a TLB
 * flush). */
static void test_sparse_pages_one_map(void)
{
	const uint32_t nr = 2048;
	struct shr_params p = fix_params();
	uint64_t maps, scanned;
	struct fix f;

	p.no_rings = true;
	fix_host(8192, false, 1, nr);
	fix_fill(1, 0, nr, 100, 1);
	fx_dom_set_ring(1, nr - 2);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_passes(&f, 2);
	CU_ASSERT_TRUE(shr_dom_find(&f.doms, 1)->logdirty);
	UT_ASSERT_EQ(p.batch_pages, 16);
	for (uint32_t g = 0; g < 16; g++)
		UT_ASSERT_EQ(fx_write(1, g * 127, 90000 + g), 0);
	maps = fx_calls(FX_MAP);
	scanned = f.st.pages_scanned;
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.pages_scanned - scanned, 16);
	UT_ASSERT_EQ(fx_calls(FX_MAP) - maps, 1);
	fix_done(&f);
}

/* Proves every page a killed xenshared left nominated is released on a
 * domain scanned from its dirty log, although only SHR_RELEASE_MAX are
 * released per batch: the rest keep their look bit for the next pass
 * (nominating writes nothing to the log, so nothing else would bring
 * them back before the background sweep). */
static void test_dirty_log_release_beyond_batch(void)
{
	const uint32_t nr = 256, left = SHR_RELEASE_MAX + 20;
	struct shr_params p = fix_params();
	uint64_t h;
	struct fix f;

	p.no_rings = true;
	p.batch_pages = 128;                       /* all left pages in one batch */
	fix_host(4096, false, 2, nr);
	fix_fill(1, 0, nr, 100, 1);
	fix_fill(2, 0, nr, 5000, 1);
	fx_dom_set_ring(1, nr - 2);
	fx_dom_set_ring(2, nr - 2);
	for (uint32_t g = 0; g < left; g++)
		UT_ASSERT_EQ(fx_nominate(1, g, &h), 0);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	fix_passes(&f, 2);                         /* marked; log taken, first releases */
	CU_ASSERT_TRUE(shr_dom_find(&f.doms, 1)->logdirty);
	UT_ASSERT_EQ(f.st.nominations_released, SHR_RELEASE_MAX);
	fix_pass(&f);                              /* from the log: the rest */
	UT_ASSERT_EQ(f.st.nominations_released, left);
	for (uint32_t g = 0; g < left; g++)
		UT_ASSERT_EQ(fx_sharers(1, g), -EINVAL);
	fix_done(&f);
}

/* Proves the look bitmap keeps what the state machine waits on: a shared
 * page rewritten (an unshare: dirty) is looked at, found changed and put
 * in WATCH; with no further write it is looked at again next pass (its
 * look bit), seen unchanged, and merged when its content has a twin. */
static void test_dirty_log_watch(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	dirty_pair(&f, &p);
	UT_ASSERT_EQ(fx_write(2, 4, 104), 0);      /* d1:4's content */
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, 4), SHR_PS_SHARED);
	UT_ASSERT_EQ(fx_write(2, 4, 108), 0);      /* unshared: d1:8's content */
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, 4), SHR_PS_WATCH);
	fix_pass(&f);                              /* not written: looked at anyway */
	UT_ASSERT_EQ(fx_frame(2, 4), fx_frame(1, 8));
	fix_done(&f);
}

/* Proves a domain scanned from its dirty log is looked at by its log
 * rounds, on their own period and not at its turn in the pass: a pass
 * maps none of its pages although one was written; a round less than
 * SHR_LOG_ROUND_S after the last does nothing; the round due looks at the
 * written page alone and merges it with its twin. */
static void test_dirty_log_round_period(void)
{
	struct shr_params p = fix_params();
	uint64_t scanned;
	struct fix f;

	dirty_pair(&f, &p);
	fix_pass(&f);                              /* the first rounds */
	UT_ASSERT_EQ(fx_write(2, 3, 107), 0);      /* d1:7's content */
	scanned = f.st.pages_scanned;
	f.scan.pages_total = 2 * NR;               /* a pass alone: no round */
	shr_dom_find(&f.doms, 1)->cursor = 0;
	shr_dom_find(&f.doms, 2)->cursor = 0;
	while (shr_scan_batch(&f.scan) > 0)
		;
	f.scan.pages_total = 0;
	UT_ASSERT_EQ(f.st.pages_scanned, scanned);
	shr_scan_rounds(&f.scan, f.clock + SHR_LOG_ROUND_S / 2, HUGE_VAL);
	UT_ASSERT_EQ(f.st.pages_scanned, scanned);
	shr_scan_rounds(&f.scan, f.clock + SHR_LOG_ROUND_S, HUGE_VAL);
	shr_merge_flush(&f.merge);
	UT_ASSERT_EQ(f.st.pages_scanned, scanned + 1);
	UT_ASSERT_EQ(fx_frame(2, 3), fx_frame(1, 7));
	f.clock += SHR_LOG_ROUND_S;
	fix_done(&f);
}

/* Proves a round over its CPU budget stops after the batch that used it up
 * and loses nothing: with no budget, a round of d1 (20 pages written,
 * batches of 16) looks at one batch and no page of d2 (written too), and
 * says rounds are left; the next call, at the same time, does d2's round
 * and d1's again (due at once), which takes the rest of its pages. */
static void test_dirty_log_round_budget(void)
{
	struct shr_params p = fix_params();
	uint64_t scanned;
	struct fix f;

	dirty_pair(&f, &p);
	fix_pass(&f);
	for (uint32_t g = 0; g < 20; g++)
		UT_ASSERT_EQ(fx_write(1, g, 2000 + g), 0);
	UT_ASSERT_EQ(fx_write(2, 1, 3000), 0);
	scanned = f.st.pages_scanned;
	f.clock += SHR_LOG_ROUND_S;
	CU_ASSERT_TRUE(shr_scan_rounds(&f.scan, f.clock, 0));
	UT_ASSERT_EQ(f.st.pages_scanned, scanned + p.batch_pages);
	CU_ASSERT_FALSE(shr_scan_rounds(&f.scan, f.clock, HUGE_VAL));
	shr_merge_flush(&f.merge);
	UT_ASSERT_EQ(f.st.pages_scanned, scanned + 21);
	for (uint32_t g = 0; g < 20; g++)
		UT_ASSERT_EQ(fix_state(&f, 1, g), SHR_PS_UNIQUE);
	fix_done(&f);
}

/* Proves a resting shared page that the log names (the guest wrote it:
 * an unshare) is looked at in the next round whatever its rest: twins
 * shared in the first pass and seen unchanged in the second rest one step
 * (due every other round); two of them of either parity, written, are
 * both looked at in the next round and found changed. */
static void test_dirty_log_written_shared_not_resting(void)
{
	struct shr_params p = fix_params();
	uint64_t scanned;
	struct fix f;

	p.no_rings = true;
	fix_host(1024, false, 2, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_fill(2, 0, NR, 100, 1);
	fx_dom_set_ring(1, SENTINEL);
	fx_dom_set_ring(2, SENTINEL);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	fix_passes(&f, 2);                         /* shared; the logs taken, rested */
	CU_ASSERT_TRUE(shr_dom_find(&f.doms, 2)->logdirty);
	UT_ASSERT_EQ(fix_state(&f, 2, 4), SHR_PS_SHARED);
	UT_ASSERT_EQ(shr_ps_rest(shr_dom_find(&f.doms, 2)->pages.pstate[4]), 1);
	UT_ASSERT_EQ(fx_write(2, 4, 9004), 0);
	UT_ASSERT_EQ(fx_write(2, 5, 9005), 0);
	scanned = f.st.pages_scanned;
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.pages_scanned, scanned + 2);
	UT_ASSERT_EQ(fix_state(&f, 2, 4), SHR_PS_WATCH);
	UT_ASSERT_EQ(fix_state(&f, 2, 5), SHR_PS_WATCH);
	fix_done(&f);
}

/* Proves a page found changed (WATCH) is looked at in the first log round
 * that finds it not written, whatever its backoff phase: two rewritten
 * shared pages of either parity (a level-1 page is due only every other
 * round) are both merged again one round after the round that saw the
 * write; a page written again in that round is not looked at. */
static void test_dirty_log_quiet_watch(void)
{
	struct shr_params p = fix_params();
	uint64_t scanned;
	struct fix f;

	dirty_pair(&f, &p);
	UT_ASSERT_EQ(fx_write(2, 4, 104), 0);      /* d1:4's content */
	UT_ASSERT_EQ(fx_write(2, 5, 105), 0);
	UT_ASSERT_EQ(fx_write(2, 6, 106), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(fx_write(2, 4, 108), 0);      /* unshared: d1:8's content */
	UT_ASSERT_EQ(fx_write(2, 5, 109), 0);
	UT_ASSERT_EQ(fx_write(2, 6, 110), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, 4), SHR_PS_WATCH);
	UT_ASSERT_EQ(fix_state(&f, 2, 5), SHR_PS_WATCH);
	UT_ASSERT_EQ(fix_state(&f, 2, 6), SHR_PS_WATCH);
	UT_ASSERT_EQ(fx_write(2, 6, 111), 0);      /* still changing */
	scanned = f.st.pages_scanned;
	fix_pass(&f);
	UT_ASSERT_EQ(fx_frame(2, 4), fx_frame(1, 8));
	UT_ASSERT_EQ(fx_frame(2, 5), fx_frame(1, 9));
	UT_ASSERT_EQ(fix_state(&f, 2, 6), SHR_PS_WATCH);
	/* 4, 5 and, if its phase made it due, 6 */
	CU_ASSERT_TRUE(f.st.pages_scanned - scanned <= 3);
	fix_done(&f);
}

/* Proves a page written with content nothing else has costs one look: it
 * is looked at in the round after the write (changed: forgotten, then
 * indexed as unique again) and not in the next round, although it passed
 * through NEW (which asks for a look) on the way. */
static void test_dirty_log_unique_write_one_look(void)
{
	struct shr_params p = fix_params();
	uint64_t scanned;
	struct fix f;

	dirty_pair(&f, &p);
	fix_pass(&f);
	UT_ASSERT_EQ(fx_write(1, 10, 9999), 0);
	scanned = f.st.pages_scanned;
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.pages_scanned, scanned + 1);
	UT_ASSERT_EQ(fix_state(&f, 1, 10), SHR_PS_UNIQUE);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.pages_scanned, scanned + 1);
	fix_done(&f);
}

/* Proves a dirty log the toolstack takes over (xg_sr_save.c: OFF, then
 * ENABLE) is detected at the next round (the sentinel is not in it), the
 * bits the engine's CLEAN took are given back (the toolstack's own CLEAN
 * still sees the pages its guest wrote), the log is left on for it, and
 * the domain is scanned in full, nothing lost; logdirty_lost counts it. */
static void test_dirty_log_taken_over(void)
{
	struct shr_params p = fix_params();
	uint64_t gfns[NR], scanned;
	bool seen4 = false, seen5 = false;
	struct shr_dom *d;
	struct fix f;
	int n;

	dirty_pair(&f, &p);
	fix_pass(&f);
	UT_ASSERT_EQ(fx_logdirty_takeover(1), 0);
	UT_ASSERT_EQ(fx_write(1, 4, 900), 0);
	UT_ASSERT_EQ(fx_write(1, 5, 901), 0);
	scanned = f.st.pages_scanned;
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.logdirty_lost, 1);
	d = shr_dom_find(&f.doms, 1);
	CU_ASSERT_FALSE(d->logdirty);
	CU_ASSERT_PTR_NOT_NULL(d->full_why);
	UT_ASSERT_EQ(f.st.pages_scanned, scanned + NR - 1);   /* d1 in full, no ring page */
	CU_ASSERT_TRUE(fx_logdirty_on(1));
	n = fx_logdirty_clean(1, gfns, NR);
	for (int i = 0; i < n; i++) {
		seen4 |= gfns[i] == 4;
		seen5 |= gfns[i] == 5;
	}
	CU_ASSERT_TRUE(seen4 && seen5);
	fix_pass(&f);                              /* tried again only a sweep_period later */
	CU_ASSERT_FALSE(d->logdirty);
	fix_done(&f);
}

/* Proves the count check: a toolstack that took the log over and whose
 * guest wrote the ring page (the sentinel is in the log) is still found
 * out: Xen's dirty_count, which an OFF does not reset, counts the mark the
 * engine made before the takeover. */
static void test_dirty_log_sentinel_forged(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	dirty_pair(&f, &p);
	fix_pass(&f);
	UT_ASSERT_EQ(fx_logdirty_takeover(1), 0);
	UT_ASSERT_EQ(fx_write(1, SENTINEL, 77), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.logdirty_lost, 1);
	CU_ASSERT_FALSE(shr_dom_find(&f.doms, 1)->logdirty);
	fix_done(&f);
}

/* Proves the stop: log-dirty is turned off where the log is still the
 * engine's, and left on where the toolstack holds it now. */
static void test_dirty_log_stop(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	dirty_pair(&f, &p);
	UT_ASSERT_EQ(fx_logdirty_takeover(2), 0);
	UT_ASSERT_EQ(fx_write(2, 1, 999), 0);
	fix_close(&f);
	CU_ASSERT_FALSE(fx_logdirty_on(1));
	CU_ASSERT_TRUE(fx_logdirty_on(2));
	fx_fini();
}

/* A restarted engine after a kill with domain 1's dirty log left on (its
 * sentinel marked): the toolstack took the log over meanwhile unless own;
 * domain 1 is added with the record saying the log was its own. */
static struct shr_dom *restart_after_kill(struct fix *f, struct shr_params *p, bool own)
{
	struct shr_dom *d;

	dirty_pair(f, p);
	fix_pass(f);
	fix_kill(f);
	CU_ASSERT_TRUE(fx_logdirty_on(1));
	if (!own) {
		UT_ASSERT_EQ(fx_logdirty_takeover(1), 0);
		UT_ASSERT_EQ(fx_write(1, 2, 321), 0);
	}
	fix_open(f, p);
	d = fix_add(f, 1, SHR_MODE_ON, "g");
	d->logdirty_before = true;         /* memshare/held: "... logdirty" */
	return d;
}

/* Proves a restarted engine takes back a dirty log it left on (killed):
 * with the record saying it was its own and the sentinel still in the log,
 * it cleans it and scans from it; with the sentinel gone (the toolstack
 * took it since) it leaves it alone and scans in full. */
static void test_dirty_log_after_kill(void)
{
	for (int own = 0; own < 2; own++) {
		struct shr_params p = fix_params();
		struct fix f;
		struct shr_dom *d = restart_after_kill(&f, &p, own);

		fix_passes(&f, 2);
		UT_ASSERT_EQ(d->logdirty, own == 1);
		CU_ASSERT_TRUE(fx_logdirty_on(1));
		fix_done(&f);
	}
}

/* Proves a restarted engine stopped before it took back the dirty log its
 * killed predecessor left on turns that log off when it is still its own
 * (sentinel present) and leaves it on when the toolstack took it since:
 * a clean stop leaves no log-dirty mode behind that nobody holds. */
static void test_dirty_log_stop_before_takeback(void)
{
	for (int own = 0; own < 2; own++) {
		struct shr_params p = fix_params();
		struct fix f;
		struct shr_dom *d = restart_after_kill(&f, &p, own);

		CU_ASSERT_FALSE(d->logdirty);
		fix_done(&f);                      /* no pass: stopped at once */
		UT_ASSERT_EQ(fx_logdirty_on(1), own == 0);
	}
}

/* Proves a log taken afresh counts only its own bits: Xen keeps
 * dirty_count across OFF and ENABLE, so an engine that stops (log off,
 * count left over), is followed by one that takes the log again and is
 * killed before its first round, leaves a log the next engine still
 * recognises as its own (and turns off at its stop). */
static void test_dirty_log_fresh_take(void)
{
	struct shr_params p = fix_params();
	struct fix f;
	struct shr_dom *d;

	dirty_pair(&f, &p);
	for (uint32_t g = 1; g < 9; g++)
		UT_ASSERT_EQ(fx_write(1, g, 900 + g), 0);
	fix_close(&f);                             /* log off, count 8 kept */
	CU_ASSERT_FALSE(fx_logdirty_on(1));
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	fix_passes(&f, 2);                         /* full pass, then taken */
	CU_ASSERT_TRUE(fx_logdirty_on(1));
	fix_kill(&f);
	fix_open(&f, &p);
	d = fix_add(&f, 1, SHR_MODE_ON, "g");
	d->logdirty_before = true;
	fix_done(&f);
	CU_ASSERT_FALSE(fx_logdirty_on(1));
}

/* Proves domains without a sentinel page (no ring page, or the ring page
 * is the highest gfn, which modified_memory cannot mark) and hosts
 * without libxendevicemodel are scanned in full, and say why. */
static void test_dirty_log_unavailable(void)
{
	for (int i = 0; i < 3; i++) {
		struct shr_params p = fix_params();
		struct fx_cfg cfg = { .host_pages = 1024, .no_devicemodel = i == 2 };
		struct fix f;
		struct shr_dom *d;

		p.no_rings = true;
		fx_reset(&cfg);
		UT_ASSERT_EQ(fx_dom_create(1, NR), 0);
		fix_fill(1, 0, NR, 100, 1);
		if (i == 1)
			fx_dom_set_ring(1, NR - 1);
		if (i == 2)
			fx_dom_set_ring(1, SENTINEL);
		fix_open(&f, &p);
		d = fix_add(&f, 1, SHR_MODE_ON, "g");
		fix_passes(&f, 3);
		CU_ASSERT_FALSE(d->logdirty);
		CU_ASSERT_FALSE(fx_logdirty_on(1));
		CU_ASSERT_PTR_NOT_NULL_FATAL(d->full_why);
		CU_ASSERT_PTR_NOT_NULL(strstr(d->full_why, i == 2 ? "libxendevicemodel" : "sentinel"));
		fix_done(&f);
	}
}

/* Proves scan_mode = full never touches log-dirty. */
static void test_dirty_log_mode_full(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	p.scan_mode = SHR_SCAN_FULL;
	dirty_pair(&f, &p);
	fix_pass(&f);
	CU_ASSERT_FALSE(fx_logdirty_on(1));
	UT_ASSERT_EQ(fx_calls(FX_LOGDIRTY_ENABLE), 0);
	fix_done(&f);
}

/* Proves the background sweep: with a sweep period of two pass targets,
 * a settled domain's passes still look at every page within two passes. */
static void test_dirty_log_sweep(void)
{
	struct shr_params p = fix_params();
	uint64_t scanned;
	struct fix f;

	p.pass_target_s = 1;
	p.sweep_period_s = 2;
	dirty_pair(&f, &p);
	scanned = f.st.pages_scanned;
	fix_passes(&f, 2);
	/* each pass: half a domain plus one, per domain; the ring page never */
	CU_ASSERT_TRUE(f.st.pages_scanned - scanned >= 2 * (NR - 1));
	fix_done(&f);
}

/* Proves the sweep is paced by time, not by rounds: a round cut short by
 * the budget and run again at once (the same time) takes no second slice:
 * with a sweep period of 32 round periods, the two calls look at one page
 * of d1 in all (and d2's round its own one). */
static void test_dirty_log_sweep_by_time(void)
{
	struct shr_params p = fix_params();
	uint64_t scanned;
	struct fix f;

	p.sweep_period_s = 32 * SHR_LOG_ROUND_S;
	dirty_pair(&f, &p);
	fix_pass(&f);
	scanned = f.st.pages_scanned;
	f.clock += SHR_LOG_ROUND_S;
	CU_ASSERT_TRUE(shr_scan_rounds(&f.scan, f.clock, 0));
	shr_dom_find(&f.doms, 1)->round_s = f.clock - SHR_LOG_ROUND_S;   /* cut short */
	CU_ASSERT_FALSE(shr_scan_rounds(&f.scan, f.clock, HUGE_VAL));
	shr_merge_flush(&f.merge);
	UT_ASSERT_EQ(f.st.pages_scanned, scanned + 2);
	fix_done(&f);
}

UT_MAIN("scan", NULL, NULL,
	UT(test_one_map_call_per_batch),
	UT(test_unmapped_before_nominate),
	UT(test_hole_in_batch),
	UT(test_map_call_fails),
	UT(test_shared_page_rewritten),
	UT(test_no_backoff),
	UT(test_unique_page_moves),
	UT(test_share_lost_to_same_bytes),
	UT(test_share_lost_queries_bounded),
	UT(test_release_left_nominated),
	UT(test_release_spares_shared_frame),
	UT(test_eviction_sweep),
	UT(test_eviction_without_memory),
	UT(test_domain_grows),
	UT(test_dying_domain_skipped),
	UT(test_frame_adopted),
	UT(test_backed_off_not_mapped),
	UT(test_holes_not_mapped),
	UT(test_hole_types_refused),
	UT(test_sparse_pages_one_map),
	UT(test_dirty_log_pass),
	UT(test_dirty_log_rewritten_same),
	UT(test_dirty_log_watch),
	UT(test_dirty_log_round_period),
	UT(test_dirty_log_round_budget),
	UT(test_dirty_log_written_shared_not_resting),
	UT(test_dirty_log_quiet_watch),
	UT(test_dirty_log_unique_write_one_look),
	UT(test_dirty_log_release_beyond_batch),
	UT(test_dirty_log_taken_over),
	UT(test_dirty_log_sentinel_forged),
	UT(test_dirty_log_stop),
	UT(test_dirty_log_after_kill),
	UT(test_dirty_log_stop_before_takeback),
	UT(test_dirty_log_fresh_take),
	UT(test_dirty_log_unavailable),
	UT(test_dirty_log_mode_full),
	UT(test_dirty_log_sweep),
	UT(test_dirty_log_sweep_by_time))
