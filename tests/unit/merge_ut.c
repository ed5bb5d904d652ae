/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge_ut - unit tests of libshare/merge.c against the fake Xen: the
 * lookups and the merge queue, both protocols, and the reaction to every
 * answer of the hypervisor (docs/design.md section 6, "Results"; the
 * comment above each test names the rows it proves).  The answers come
 * from the fake host itself where it can give them (a page someone maps,
 * a guest write between nominate and share, frames that span a third
 * domain) and are injected where it cannot.  Every scenario ends with the
 * engine's audit and the fake host's own checks (fix_done).
 *
 * Linked with -Wl,--wrap=malloc: the index allocates its tables with
 * malloc, and one test makes that fail.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "core_fixture.h"
#include "ut_common.h"

#define NR 32u                       /* gfns per domain */

/* ---- malloc that fails on demand (the index's tables) ---------------------- */

void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);
static bool malloc_fails;

void *__wrap_malloc(size_t size)
{
	return malloc_fails ? NULL : __real_malloc(size);
}

/* ---- set-ups ------------------------------------------------------------------ */

static const char *proto_name(enum shr_protocol proto)
{
	return proto == SHR_PROTO_BATCHED ? "batched" : "upstream";
}

/* nr_doms domains of NR gfns, all holding the same NR distinct pages,
 * scanned in one group by the protocol proto (batched: a patched host). */
static void twins(struct fix *f, enum shr_protocol proto, unsigned int nr_doms)
{
	struct shr_params p = fix_params();

	fix_host(4096, proto == SHR_PROTO_BATCHED, nr_doms, NR);
	for (uint32_t d = 1; d <= nr_doms; d++)
		fix_fill(d, 0, NR, 100, 1);
	p.protocol = proto;
	fix_open(f, &p);
	log_capture();
	for (uint32_t d = 1; d <= nr_doms; d++)
		fix_add(f, d, SHR_MODE_ON, "g");
	UT_ASSERT_EQ_FATAL(f->merge.proto, proto);
}

static uint64_t saved(void)
{
	struct fx_host_stats h;

	fx_host(&h);
	return h.nr_saved;
}

/* ---- guest actions run by hooks ------------------------------------------------ */

struct write_at {
	uint32_t domid;
	uint64_t gfn, content;
	int rc;
};

static void hook_write(void *arg)
{
	struct write_at *w = arg;

	w->rc = fx_write(w->domid, w->gfn, w->content);
}

/* ---- SHR_SHARED ----------------------------------------------------------------- */

/* Results table, SHR_SHARED (share, batched op): every twin becomes SHARED
 * on the source's frame, the source is SOURCE with a stable entry, the
 * engine's belief is the hypervisor's.  Upstream: each pair nominated and
 * shared, ONE mapping call per domain for the chunk, and ONE debug_gfn for
 * the whole flush (the first client starts the handle chain, every later
 * client's fresh handle shows it alone on its frame); batched: ONE
 * hypercall for all pairs and no nominate. */
static void test_shared_both_protocols(void)
{
	for (int i = 0; i < 2; i++) {
		enum shr_protocol proto = i ? SHR_PROTO_BATCHED : SHR_PROTO_UPSTREAM;
		struct fx_dom_stats ds;
		uint64_t maps;
		struct fix f;

		twins(&f, proto, 2);
		maps = fx_calls(FX_MAP);
		fix_pass(&f);
		UT_ASSERT_EQ(saved(), NR);
		UT_ASSERT_EQ(f.merge.merged, NR);
		UT_ASSERT_EQ(f.st.share_attempts, NR);
		UT_ASSERT_EQ(shr_dom_find(&f.doms, 2)->pages.n_shared, NR);
		UT_ASSERT_EQ(shr_dom_find(&f.doms, 1)->pages.n_source, NR);
		UT_ASSERT_EQ(shr_index_count(&f.doms.index, SHR_STABLE), NR);
		UT_ASSERT_EQ(fx_dom(2, &ds), 0);
		UT_ASSERT_EQ(ds.shr_pages, NR);
		for (uint32_t g = 0; g < NR; g++)
			UT_ASSERT_EQ(fx_frame(1, g), fx_frame(2, g));
		if (proto == SHR_PROTO_UPSTREAM) {
			UT_ASSERT_EQ(fx_calls(FX_NOMINATE), 2 * NR);
			UT_ASSERT_EQ(fx_calls(FX_SHARE), NR);
			UT_ASSERT_EQ(fx_calls(FX_DEBUG_GFN), 1);
			/* 2 + 2 batches of the scan, one map per domain for the chunk */
			UT_ASSERT_EQ(fx_calls(FX_MAP) - maps, 4 + 2);
		} else {
			UT_ASSERT_EQ(fx_calls(FX_CMPSHR), 1);
			UT_ASSERT_EQ(fx_calls(FX_NOMINATE), 0);
		}
		UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, ""), 0);
		CU_ASSERT_STRING_EQUAL(proto_name(f.merge.proto), proto_name(proto));
		fix_done(&f);
	}
}

/* Proves the upstream chunks: 100 pairs are verified in chunks of
 * SHR_MERGE_CHUNK (64 + 36), each with one mapping call per domain. */
static void test_upstream_chunks(void)
{
	struct shr_params p = fix_params();
	uint64_t maps;
	struct fix f;

	fix_host(4096, false, 2, 100);
	fix_fill(1, 0, 100, 100, 1);
	fix_fill(2, 0, 100, 100, 1);
	p.batch_pages = 100;
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	maps = fx_calls(FX_MAP);
	fix_pass(&f);
	UT_ASSERT_EQ(saved(), 100);
	UT_ASSERT_EQ(fx_calls(FX_MAP) - maps, 2 + 2 * 2);
	fix_done(&f);
}

/* d1 and d2 merged in one pass, then d3 (the same NR pages) opted in: its
 * pairs' sources are d1's frames, whose handles came with their
 * nomination in the first pass. */
static void three_late(struct fix *f)
{
	struct shr_params p = fix_params();

	fix_host(4096, false, 3, NR);
	for (uint32_t d = 1; d <= 3; d++)
		fix_fill(d, 0, NR, 100, 1);
	p.protocol = SHR_PROTO_UPSTREAM;
	fix_open(f, &p);
	log_capture();
	fix_add(f, 1, SHR_MODE_ON, "g");
	fix_add(f, 2, SHR_MODE_ON, "g");
	fix_pass(f);
	UT_ASSERT_EQ(saved(), NR);
	UT_ASSERT_EQ(fx_calls(FX_NOMINATE), 2 * NR);
	fix_add(f, 3, SHR_MODE_ON, "g");
}

/* The upstream path keeps a frame's handle beside its stable entry: a
 * later flush shares a client onto the frame with no nomination of the
 * source, so d3's NR merges cost NR nominations (its own) and NR shares,
 * where re-nominating each source would cost 2 * NR nominations. */
static void test_source_handle_kept(void)
{
	uint64_t nom, shares;
	struct fix f;

	three_late(&f);
	nom = fx_calls(FX_NOMINATE);
	shares = fx_calls(FX_SHARE);
	fix_pass(&f);
	UT_ASSERT_EQ(saved(), 2 * NR);
	UT_ASSERT_EQ(fx_calls(FX_NOMINATE) - nom, NR);
	UT_ASSERT_EQ(fx_calls(FX_SHARE) - shares, NR);
	for (uint32_t g = 0; g < NR; g++)
		UT_ASSERT_EQ(fx_frame(3, g), fx_frame(1, g));
	UT_ASSERT_EQ(f.st.share_raced, 0);
	fix_done(&f);
}

static void hook_write_same(void *arg)
{
	struct write_at *w = arg;

	w->rc = fx_write_same(w->domid, w->gfn);
}

/* A kept handle gone stale: while d3 is being merged (just before d3:5 is
 * nominated), d1 writes its source page 5 back with the same bytes, which
 * unshares it (d2:5 stays alone on the old frame; the fingerprint cannot
 * tell).  d3:5's share with the kept handle is refused by the hypervisor
 * (no merge of contents verified against another frame), the handle is
 * forgotten, and the pair runs again from the nomination: d3:5 ends on
 * d1:5's new frame, one share more than the pairs, every page intact. */
static void test_source_handle_stale(void)
{
	struct write_at w = { .domid = 1, .gfn = 5 };
	uintptr_t old_frame;
	uint64_t shares;
	struct fix f;

	three_late(&f);
	old_frame = fx_frame(1, 5);
	UT_ASSERT_EQ(fx_hook(FX_NOMINATE, 3, 5, 1, hook_write_same, &w), 0);
	shares = fx_calls(FX_SHARE);
	fix_pass(&f);
	UT_ASSERT_EQ(w.rc, 0);
	CU_ASSERT_NOT_EQUAL(fx_frame(1, 5), old_frame);
	UT_ASSERT_EQ(fx_frame(2, 5), old_frame);
	UT_ASSERT_EQ(fx_calls(FX_SHARE) - shares, NR + 1);
	for (uint32_t g = 0; g < NR; g++) {
		UT_ASSERT_EQ(fx_frame(3, g), fx_frame(1, g));
		CU_ASSERT_TRUE(fx_holds(3, g, 100 + g));
		CU_ASSERT_TRUE(fx_holds(1, g, 100 + g));
	}
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, ""), 0);
	fix_passes(&f, 2);
	fix_done(&f);
}

/* Results table, SHR_SHARED, "both gfns were on one frame already":
 * another tool put d1:3 and d2:3 on one frame; the engine queues them as
 * a pair, finds (debug_gfn, then the same handle from nominate) that
 * there is nothing to do, and believes the share. */
static void test_pair_already_one_frame(void)
{
	for (int i = 0; i < 2; i++) {
		enum shr_protocol proto = i ? SHR_PROTO_BATCHED : SHR_PROTO_UPSTREAM;
		uint64_t h1, h2, shares;
		struct fix f;

		fix_host(4096, proto == SHR_PROTO_BATCHED, 2, NR);
		fix_fill(1, 0, NR, 100, 1);
		fix_fill(2, 0, NR, 500, 1);
		UT_ASSERT_EQ(fx_write(2, 3, 103), 0);
		UT_ASSERT_EQ(fx_nominate(1, 3, &h1), 0);
		UT_ASSERT_EQ(fx_nominate(2, 3, &h2), 0);
		UT_ASSERT_EQ(fx_share(1, 3, h1, 2, 3, h2), 0);
		{
			struct shr_params p = fix_params();

			p.protocol = proto;
			fix_open(&f, &p);
		}
		fix_add(&f, 1, SHR_MODE_ON, "g");
		fix_add(&f, 2, SHR_MODE_ON, "g");
		shares = fx_calls(FX_SHARE);
		fix_pass(&f);
		UT_ASSERT_EQ(fix_state(&f, 2, 3), SHR_PS_SHARED);
		UT_ASSERT_EQ(fix_state(&f, 1, 3), SHR_PS_SOURCE);
		UT_ASSERT_EQ(fx_calls(FX_SHARE), shares);
		UT_ASSERT_EQ(saved(), 1);
		fix_done(&f);
	}
}

/* Results table, SHR_SHARED, "a source the engine had forgotten is
 * indexed again"; and SHR_SRC_STALE: two pairs share the source d1:0 in
 * one upstream chunk; the first share says the source's handle died
 * (injected, nothing happens in the host), so the source is forgotten,
 * the client released (SUSPECT) and share_raced counted without a word in
 * the log; the second share succeeds, so the frame exists and the source
 * is SOURCE again with a stable entry.  The next pass releases the
 * client's lone nominated frame and merges it. */
static void test_forgotten_source_reindexed(void)
{
	struct fix f;

	twins(&f, SHR_PROTO_UPSTREAM, 3);
	UT_ASSERT_EQ(fx_inject(FX_SHARE, 2, 0, 1, 1, FX_S_HANDLE_INVALID), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.share_raced, 1);
	UT_ASSERT_EQ(fix_state(&f, 1, 0), SHR_PS_SOURCE);
	UT_ASSERT_EQ(fix_state(&f, 3, 0), SHR_PS_SHARED);
	UT_ASSERT_EQ(fix_state(&f, 2, 0), SHR_PS_NEW);
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 2, 0)));
	UT_ASSERT_EQ(shr_index_count(&f.doms.index, SHR_STABLE), NR);
	UT_ASSERT_EQ(log_count(SHR_LOG_NOTICE, ""), 0);
	UT_ASSERT_EQ(fx_sharers(2, 0), 1);         /* nominated, alone */
	UT_ASSERT_EQ(fix_audit(&f), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.nominations_released, 1);
	UT_ASSERT_EQ(fix_state(&f, 2, 0), SHR_PS_SHARED);
	UT_ASSERT_EQ(fx_sharers(1, 0), 3);
	fix_done(&f);
}

/* ---- SHR_DIFFERENT --------------------------------------------------------------- */

/* Results table, SHR_DIFFERENT (the upstream compare): the client changed
 * after it was fingerprinted; compare_mismatch counts it, the source
 * (re-fingerprinted: unchanged) goes back to the unstable side, the
 * client is forgotten and rescanned, both SUSPECT; the next pass releases
 * both nominated frames and the host holds no lone shared frame. */
static void test_different_client_moved(void)
{
	struct write_at w = { .domid = 2, .gfn = 5, .content = 5555 };
	struct fx_host_stats h;
	struct fix f;

	twins(&f, SHR_PROTO_UPSTREAM, 2);
	UT_ASSERT_EQ(fx_hook(FX_NOMINATE, 1, 5, 1, hook_write, &w), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(w.rc, 0);
	UT_ASSERT_EQ(f.st.compare_mismatch, 1);
	UT_ASSERT_EQ(fix_state(&f, 1, 5), SHR_PS_UNIQUE);
	UT_ASSERT_EQ(fix_state(&f, 2, 5), SHR_PS_NEW);
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 1, 5)));
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 2, 5)));
	UT_ASSERT_EQ(saved(), NR - 1);
	UT_ASSERT_EQ(fix_audit(&f), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.nominations_released, 2);
	fx_host(&h);
	UT_ASSERT_EQ(h.single_sharer, 0);
	UT_ASSERT_EQ(fix_state(&f, 2, 5), SHR_PS_UNIQUE);
	fix_done(&f);
}

/* Results table, SHR_DIFFERENT: the source changed; the upstream path
 * re-fingerprints it, finds it moved, forgets it (rescanned) and indexes
 * the client as unique instead; both SUSPECT. */
static void test_different_source_moved(void)
{
	struct write_at w = { .domid = 1, .gfn = 5, .content = 5555 };
	struct fix f;

	twins(&f, SHR_PROTO_UPSTREAM, 2);
	UT_ASSERT_EQ(fx_hook(FX_NOMINATE, 1, 5, 1, hook_write, &w), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.compare_mismatch, 1);
	UT_ASSERT_EQ(fix_state(&f, 1, 5), SHR_PS_NEW);
	UT_ASSERT_EQ(fix_state(&f, 2, 5), SHR_PS_UNIQUE);
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 1, 5)));
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 2, 5)));
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 1, 5), SHR_PS_UNIQUE);
	UT_ASSERT_EQ(f.st.nominations_released, 2);
	fix_done(&f);
}

/* Results table, SHR_DIFFERENT (batched op): the hypervisor's compare
 * fails; the batched op cannot tell the side, so the source goes back to
 * the unstable side and the client is rescanned, both SUSPECT.  The
 * debug log names both pages. */
static void test_different_batched(void)
{
	struct write_at w = { .domid = 2, .gfn = 5, .content = 5555 };
	struct fix f;

	twins(&f, SHR_PROTO_BATCHED, 2);
	UT_ASSERT_EQ(fx_hook(FX_CMPSHR, FX_ANY_DOM, FX_ANY_GFN, 1, hook_write, &w), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.compare_mismatch, 1);
	UT_ASSERT_EQ(log_count(SHR_LOG_DEBUG, "d2 gfn 0x5 with d1 gfn 0x5"), 1);
	UT_ASSERT_EQ(saved(), NR - 1);
	UT_ASSERT_EQ(fix_state(&f, 1, 5), SHR_PS_UNIQUE);
	UT_ASSERT_EQ(fix_state(&f, 2, 5), SHR_PS_NEW);
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 1, 5)));
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 2, 5)));
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.nominations_released, 2);
	fix_done(&f);
}

/* ---- SHR_SRC_STALE / SHR_CLI_STALE --------------------------------------------------- */

/* Results table, SHR_CLI_STALE and SHR_SRC_STALE as Xen gives them: a
 * guest writes a page between its nomination and the share, which
 * unshares it and kills its handle.  The written side is forgotten and
 * rescanned, the other released (SUSPECT when it may be left nominated),
 * share_raced counts both, and nothing is logged at warning level.  The
 * next passes merge the pages that are still twins. */
static void test_stale_handles(void)
{
	struct write_at wc = { .domid = 2, .gfn = 7, .content = 7777 };
	struct write_at ws = { .domid = 1, .gfn = 9, .content = 9999 };
	struct fix f;

	twins(&f, SHR_PROTO_UPSTREAM, 2);
	UT_ASSERT_EQ(fx_hook(FX_SHARE, 2, 7, 1, hook_write, &wc), 0);
	UT_ASSERT_EQ(fx_hook(FX_SHARE, 2, 9, 1, hook_write, &ws), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(wc.rc, 0);
	UT_ASSERT_EQ(ws.rc, 0);
	UT_ASSERT_EQ(f.st.share_raced, 2);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, ""), 0);
	/* client written: it is rescanned; the source goes back to unique */
	UT_ASSERT_EQ(fix_state(&f, 2, 7), SHR_PS_NEW);
	CU_ASSERT_FALSE(shr_ps_suspect(fix_byte(&f, 2, 7)));
	UT_ASSERT_EQ(fix_state(&f, 1, 7), SHR_PS_UNIQUE);
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 1, 7)));
	/* source written: forgotten; the client released */
	UT_ASSERT_EQ(fix_state(&f, 1, 9), SHR_PS_NEW);
	UT_ASSERT_EQ(fix_state(&f, 2, 9), SHR_PS_NEW);
	CU_ASSERT_TRUE(shr_ps_suspect(fix_byte(&f, 2, 9)));
	UT_ASSERT_EQ(saved(), NR - 2);
	UT_ASSERT_EQ(fix_audit(&f), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.nominations_released, 2);   /* d1:7 and d2:9 */
	fix_done(&f);
}

/* ---- SHR_SPANNED ----------------------------------------------------------------------- */

/* Three domains whose page X sits on one frame in d1 and d2 (another
 * tool shared them) and privately in d3; the engine scans d3 first, so
 * its page is the source and the clients' frame spans a third domain. */
static void spanning_setup(struct fix *f, enum shr_protocol proto)
{
	struct shr_params p = fix_params();
	uint64_t h1, h2;

	fix_host(4096, proto == SHR_PROTO_BATCHED, 3, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_fill(2, 0, NR, 200, 1);
	fix_fill(3, 0, NR, 300, 1);
	UT_ASSERT_EQ(fx_write(3, 7, 42), 0);
	UT_ASSERT_EQ(fx_write(1, 3, 42), 0);
	UT_ASSERT_EQ(fx_write(2, 3, 42), 0);
	UT_ASSERT_EQ(fx_nominate(1, 3, &h1), 0);
	UT_ASSERT_EQ(fx_nominate(2, 3, &h2), 0);
	UT_ASSERT_EQ(fx_share(1, 3, h1, 2, 3, h2), 0);
	p.protocol = proto;
	fix_open(f, &p);
	log_capture();
	fix_add(f, 3, SHR_MODE_ON, "g");
	fix_add(f, 1, SHR_MODE_ON, "g");
	fix_add(f, 2, SHR_MODE_ON, "g");
}

/* Results table, SHR_SPANNED, "the upstream path asks debug_gfn first and
 * shares the other way round when only the source is alone on its
 * frame" (and the batched op does the same inside the hypervisor): a
 * client on a frame that also backs a third domain's gfn never reaches
 * Xen 4.17's share_pages() lock-order BUG (the fake host records it as a
 * panic); the three copies end on one frame. */
static void test_spanned_swapped(void)
{
	for (int i = 0; i < 2; i++) {
		enum shr_protocol proto = i ? SHR_PROTO_BATCHED : SHR_PROTO_UPSTREAM;
		struct fx_host_stats h;
		struct fix f;

		spanning_setup(&f, proto);
		fix_passes(&f, 2);
		fx_host(&h);
		CU_ASSERT_PTR_NULL(h.panic);
		UT_ASSERT_EQ(fx_sharers(3, 7), 3);
		UT_ASSERT_EQ(fx_frame(3, 7), fx_frame(1, 3));
		UT_ASSERT_EQ(h.nr_saved, 2);
		fix_done(&f);
	}
}

/* The upstream path's handle chain (merge.c, "fresh handles") in a flush
 * of NR pairs, sources d3, clients d1, where d1:5 and d2:5 were put on one
 * frame by another tool before the daemon started: the fresh clients
 * need no debug_gfn, but d1:5's nomination returns that frame's older
 * handle, so it is asked about (and its source, alone), and the pair is
 * shared the other way round; without the check, share_pages() would
 * move d2's gfn and Xen would panic.  Queries: one to start the chain,
 * two for d1:5, and then d2:5 (a pair of its own later: both gfns on the
 * frame, nothing to do but believe it). */
static void test_handle_chain_old_frame(void)
{
	struct shr_params p = fix_params();
	struct fx_host_stats h;
	uint64_t h1, h2, debug;
	struct fix f;

	fix_host(4096, false, 3, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_fill(2, 0, NR, 500, 1);
	fix_fill(3, 0, NR, 100, 1);
	UT_ASSERT_EQ(fx_write(2, 5, 105), 0);
	UT_ASSERT_EQ(fx_nominate(1, 5, &h1), 0);
	UT_ASSERT_EQ(fx_nominate(2, 5, &h2), 0);
	UT_ASSERT_EQ(fx_share(1, 5, h1, 2, 5, h2), 0);
	p.batch_pages = NR;
	fix_open(&f, &p);
	fix_add(&f, 3, SHR_MODE_ON, "g");
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	/* d3's batch (all unique), then d1's: NR pairs in one flush */
	UT_ASSERT_EQ_FATAL(shr_scan_batch(&f.scan), NR);
	UT_ASSERT_EQ_FATAL(shr_scan_batch(&f.scan), NR);
	shr_merge_flush(&f.merge);
	fx_host(&h);
	CU_ASSERT_PTR_NULL(h.panic);
	UT_ASSERT_EQ(fx_calls(FX_DEBUG_GFN), 3);
	UT_ASSERT_EQ(fx_sharers(3, 5), 3);
	UT_ASSERT_EQ(fx_frame(3, 5), fx_frame(2, 5));
	for (uint32_t g = 0; g < NR; g++)
		UT_ASSERT_EQ(fx_frame(1, g), fx_frame(3, g));
	debug = fx_calls(FX_DEBUG_GFN);
	fix_pass(&f);
	fx_host(&h);
	CU_ASSERT_PTR_NULL(h.panic);
	UT_ASSERT_EQ(fix_state(&f, 2, 5), SHR_PS_SHARED);
	CU_ASSERT(fx_calls(FX_DEBUG_GFN) > debug);
	UT_ASSERT_EQ(h.nr_saved, NR + 1);
	fix_done(&f);
}

/* A hook: another agent draws a handle (nominates a page of d3, a domain
 * the engine does not scan). */
static void draw_handle(void *arg)
{
	uint64_t h;

	(void)arg;
	UT_ASSERT_EQ(fx_nominate(3, 0, &h), 0);
}

/* The handle chain breaks when another agent draws a handle in the middle
 * of a flush: the next client's handle does not follow on, so it is asked
 * about (debug_gfn), and the pair after it starts a new chain with a
 * query of its own; every pair is still shared.  Queries: one to start,
 * one for the client after the foreign draw, one to start again. */
static void test_handle_chain_broken(void)
{
	struct fx_host_stats h;
	struct fix f;

	twins(&f, SHR_PROTO_UPSTREAM, 2);
	UT_ASSERT_EQ_FATAL(fx_dom_create(3, NR), 0);
	fix_fill(3, 0, NR, 900, 1);
	/* nominations go source, client, source, ...: the 10th is pair 4's
	 * client, and a foreign handle is drawn just before it */
	UT_ASSERT_EQ(fx_hook(FX_NOMINATE, FX_ANY_DOM, FX_ANY_GFN, 10, draw_handle, NULL), 0);
	fix_pass(&f);
	fx_host(&h);
	CU_ASSERT_PTR_NULL(h.panic);
	UT_ASSERT_EQ(fx_calls(FX_DEBUG_GFN), 3);
	UT_ASSERT_EQ(saved(), NR);
	fix_done(&f);
}

/* X on a frame of d1 and d2, and on another frame of d3 and d4 (another
 * tool shared them); frame_merge: the hypervisor has patch 0009. */
static void two_frames_setup(bool patched, bool frame_merge)
{
	uint64_t h1, h2, h3, h4;

	fx_reset(&(struct fx_cfg){ .host_pages = 4096, .patched = patched,
				   .no_frame_merge = !frame_merge });
	for (uint32_t d = 1; d <= 4; d++)
		UT_ASSERT_EQ_FATAL(fx_dom_create(d, NR), 0);
	for (uint32_t d = 1; d <= 4; d++)
		fix_fill(d, 0, NR, 100 * d, 1);
	for (uint32_t d = 1; d <= 4; d++)
		UT_ASSERT_EQ(fx_write(d, 3, 42), 0);
	UT_ASSERT_EQ(fx_nominate(1, 3, &h1), 0);
	UT_ASSERT_EQ(fx_nominate(2, 3, &h2), 0);
	UT_ASSERT_EQ(fx_share(1, 3, h1, 2, 3, h2), 0);
	UT_ASSERT_EQ(fx_nominate(3, 3, &h3), 0);
	UT_ASSERT_EQ(fx_nominate(4, 3, &h4), 0);
	UT_ASSERT_EQ(fx_share(3, 3, h3, 4, 3, h4), 0);
}

/* Results table, SHR_SPANNED (both frames have other sharers; the
 * batched op's SPANNED without patch 0009, the upstream path's own check,
 * a patched plain share's EDEADLK): nothing is merged, the client becomes
 * NOSHARE and backs off, the source returns to the unstable side; no
 * panic. */
static void test_spanned_refused(void)
{
	for (int i = 0; i < 3; i++) {
		enum shr_protocol proto = i == 1 ? SHR_PROTO_BATCHED : SHR_PROTO_UPSTREAM;
		struct shr_params p = fix_params();
		struct fx_host_stats h;
		struct fix f;

		two_frames_setup(i > 0, false);
		p.protocol = proto;
		fix_open(&f, &p);
		fix_add(&f, 1, SHR_MODE_ON, "g");
		fix_add(&f, 3, SHR_MODE_ON, "g");
		if (i == 2) {
			/* a patched host whose plain share says EDEADLK: the
			 * upstream path's own check is skipped by making
			 * debug_gfn say "private" for the client */
			UT_ASSERT_EQ(fx_inject(FX_DEBUG_GFN, 3, 3, 1, 1, -EINVAL), 0);
		}
		fix_pass(&f);
		fx_host(&h);
		CU_ASSERT_PTR_NULL(h.panic);
		UT_ASSERT_EQ(fix_state(&f, 3, 3), SHR_PS_NOSHARE);
		UT_ASSERT_EQ(shr_ps_level(fix_byte(&f, 3, 3)), 1);
		UT_ASSERT_EQ(fix_state(&f, 1, 3), SHR_PS_UNIQUE);
		UT_ASSERT_EQ(fx_sharers(1, 3), 2);
		UT_ASSERT_EQ(fx_sharers(3, 3), 2);
		UT_ASSERT_EQ(h.nr_saved, 2);
		if (i == 2)
			UT_ASSERT_EQ(fx_calls(FX_SHARE), 1);
		fix_done(&f);
	}
}

/* Results table, SHR_SHARED for two spanned frames (batched op with
 * hypervisor-patch 0009): the hypervisor merges the two frames, every gfn
 * of both ends on one frame, nothing panics, and the engine counts the
 * client as shared. */
static void test_spanned_frames_merged(void)
{
	struct shr_params p = fix_params();
	struct fx_host_stats h;
	struct fix f;

	two_frames_setup(true, true);
	p.protocol = SHR_PROTO_BATCHED;
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 3, SHR_MODE_ON, "g");
	fix_pass(&f);
	fx_host(&h);
	CU_ASSERT_PTR_NULL(h.panic);
	UT_ASSERT_EQ(fx_sharers(1, 3), 4);
	UT_ASSERT_EQ(fx_frame(1, 3), fx_frame(3, 3));
	UT_ASSERT_EQ(fx_frame(2, 3), fx_frame(4, 3));
	UT_ASSERT_EQ(h.nr_saved, 3);
	UT_ASSERT_EQ(fix_state(&f, 1, 3), SHR_PS_SOURCE);
	UT_ASSERT_EQ(fix_state(&f, 3, 3), SHR_PS_SHARED);
	fix_done(&f);
}

/*
 * The engine's own split: X shared by d1, d4 and d5 with d1's page as the
 * stable source; d1 rewrites it (the entry is lost, d4 and d5 rest on the
 * frame unindexed) and X appears in d2 and d3, which the engine scans
 * first: they form a second frame of X.  With the batched op and patch
 * 0009 the resting sharers, when next looked at, are offered as frame
 * pairs and the hypervisor merges the two frames: one frame of 4 gfns, one
 * frame_merges.  Without 0009 the first frame pair answers SPANNED, frame
 * pairs stop and the pages stay SHARED on their two frames.  The upstream
 * protocol (whose own pair order here happens not to split X) never
 * offers frame pairs.
 */
static void test_split_frames_rejoined(void)
{
	for (int i = 0; i < 3; i++) {
		bool merge = i == 0;
		enum shr_protocol proto = i == 2 ? SHR_PROTO_UPSTREAM : SHR_PROTO_BATCHED;
		struct shr_params p = fix_params();
		struct fx_host_stats h;
		unsigned int passes = 0;
		struct fix f;

		fx_reset(&(struct fx_cfg){ .host_pages = 8192, .patched = true,
					   .no_frame_merge = !merge });
		for (uint32_t d = 1; d <= 5; d++) {
			UT_ASSERT_EQ_FATAL(fx_dom_create(d, NR), 0);
			fix_fill(d, 0, NR, 1000 * d, 1);
		}
		UT_ASSERT_EQ(fx_write(1, 3, 42), 0);
		UT_ASSERT_EQ(fx_write(4, 3, 42), 0);
		UT_ASSERT_EQ(fx_write(5, 3, 42), 0);
		p.protocol = proto;
		fix_open(&f, &p);
		for (uint32_t d = 1; d <= 5; d++)
			fix_add(&f, d, SHR_MODE_ON, "g");
		fix_passes(&f, 2);
		UT_ASSERT_EQ_FATAL(fx_sharers(1, 3), 3);
		UT_ASSERT_EQ_FATAL(fix_state(&f, 1, 3), SHR_PS_SOURCE);

		UT_ASSERT_EQ(fx_write(1, 3, 7), 0);      /* the source is rewritten */
		UT_ASSERT_EQ(fx_write(2, 3, 42), 0);
		UT_ASSERT_EQ(fx_write(3, 3, 42), 0);
		while (fx_sharers(2, 3) < 2 && passes++ < 20)
			fix_pass(&f);
		UT_ASSERT_EQ_FATAL(fx_frame(2, 3), fx_frame(3, 3));
		if (proto == SHR_PROTO_BATCHED) /* a second frame of X */
			CU_ASSERT_NOT_EQUAL_FATAL(fx_frame(2, 3), fx_frame(4, 3));

		fix_passes(&f, 10);                      /* d4, d5 looked at again */
		fx_host(&h);
		CU_ASSERT_PTR_NULL(h.panic);
		if (proto == SHR_PROTO_UPSTREAM) {
			UT_ASSERT_EQ(f.st.frame_merges, 0);
			fix_done(&f);
			continue;
		}
		UT_ASSERT_EQ(fix_state(&f, 4, 3), SHR_PS_SHARED);
		UT_ASSERT_EQ(fix_state(&f, 5, 3), SHR_PS_SHARED);
		if (merge) {
			UT_ASSERT_EQ(fx_frame(2, 3), fx_frame(4, 3));
			UT_ASSERT_EQ(fx_sharers(4, 3), 4);
			UT_ASSERT_EQ(f.st.frame_merges, 1);
		} else {
			CU_ASSERT_NOT_EQUAL(fx_frame(2, 3), fx_frame(4, 3));
			UT_ASSERT_EQ(fx_sharers(4, 3), 2);
			UT_ASSERT_EQ(f.st.frame_merges, 0);
		}
		fix_done(&f);
	}
}

/* ---- nominate refused: -E2BIG, -EINVAL --------------------------------------------------- */

/* Results table, -E2BIG and -EINVAL (nominate): a page someone else maps
 * (read-only: E2BIG; writable: EINVAL) is refused: it becomes NOSHARE and
 * backs off, the other side of its pair is indexed again; once the
 * mapping is gone the page is merged when next due.  Batched: the pair's
 * errno is replayed through the upstream path, which tells the side
 * ("another -errno for one pair of the batched op"). */
static void test_nominate_refused(void)
{
	for (int i = 0; i < 2; i++) {
		enum shr_protocol proto = i ? SHR_PROTO_BATCHED : SHR_PROTO_UPSTREAM;
		int cli_ro, src_ro, cli_rw;
		unsigned int passes = 0;
		struct fix f;

		twins(&f, proto, 2);
		cli_ro = fx_hold(2, 5, false);
		src_ro = fx_hold(1, 6, false);
		cli_rw = fx_hold(2, 8, true);
		CU_ASSERT_FATAL(cli_ro >= 0 && src_ro >= 0 && cli_rw >= 0);
		fix_pass(&f);
		UT_ASSERT_EQ(saved(), NR - 3);
		/* client refused: it backs off, the source is unique again */
		UT_ASSERT_EQ(fix_state(&f, 2, 5), SHR_PS_NOSHARE);
		UT_ASSERT_EQ(shr_ps_level(fix_byte(&f, 2, 5)), 1);
		UT_ASSERT_EQ(fix_state(&f, 1, 5), SHR_PS_UNIQUE);
		UT_ASSERT_EQ(fix_state(&f, 2, 8), SHR_PS_NOSHARE);
		/* source refused: the client is indexed instead */
		UT_ASSERT_EQ(fix_state(&f, 1, 6), SHR_PS_NOSHARE);
		UT_ASSERT_EQ(fix_state(&f, 2, 6), SHR_PS_UNIQUE);
		UT_ASSERT_EQ(shr_dom_find(&f.doms, 2)->pages.n_volatile, 0);
		if (proto == SHR_PROTO_BATCHED)
			CU_ASSERT_TRUE(fx_calls(FX_NOMINATE) > 0);     /* the replays */
		UT_ASSERT_EQ(fix_audit(&f), 0);
		fx_release(cli_ro);
		fx_release(src_ro);
		fx_release(cli_rw);
		while (saved() < NR && passes++ < 4)
			fix_pass(&f);
		UT_ASSERT_EQ(saved(), NR);
		fix_done(&f);
	}
}

/* ---- the domain's answers: -EBUSY/-ESRCH, -EOPNOTSUPP/-EXDEV/-ENODEV --------------------- */

/* Results table, -EBUSY (nominate) / -ESRCH: the domain is dying or gone:
 * no longer scanned (the daemon removes it on @releaseDomain); the pair's
 * other side is released. */
static void test_domain_dying_or_gone(void)
{
	for (int i = 0; i < 2; i++) {
		int err = i ? -ESRCH : -EBUSY;
		struct fix f;

		twins(&f, SHR_PROTO_UPSTREAM, 3);
		UT_ASSERT_EQ(fx_inject(FX_NOMINATE, 2, FX_ANY_GFN, 1, 1, err), 0);
		fix_pass(&f);
		CU_ASSERT_TRUE(shr_dom_find(&f.doms, 2)->gone);
		CU_ASSERT_FALSE(shr_dom_scannable(shr_dom_find(&f.doms, 2)));
		CU_ASSERT_FALSE(shr_dom_find(&f.doms, 3)->gone);
		/* d3 still merged with d1 */
		UT_ASSERT_EQ(shr_dom_find(&f.doms, 3)->pages.n_shared, NR);
		UT_ASSERT_EQ(shr_dom_find(&f.doms, 2)->pages.n_shared, 0);
		fix_pass(&f);
		UT_ASSERT_EQ(shr_dom_find(&f.doms, 2)->pages.n_shared, 0);
		fix_done(&f);
	}
}

/* Results table, -EOPNOTSUPP, -EXDEV, -ENODEV: the hypervisor refuses
 * sharing for the domain: it is no longer scanned, warned once however
 * many of its pairs fail. */
static void test_sharing_refused(void)
{
	static const int errs[] = { -EOPNOTSUPP, -EXDEV, -ENODEV };

	for (unsigned int i = 0; i < 3; i++) {
		struct fix f;

		twins(&f, SHR_PROTO_UPSTREAM, 2);
		UT_ASSERT_EQ(fx_inject(FX_NOMINATE, 2, FX_ANY_GFN, 1, 0, errs[i]), 0);
		fix_pass(&f);
		CU_ASSERT_TRUE(shr_dom_find(&f.doms, 2)->refused);
		UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "refuses sharing"), 1);
		UT_ASSERT_EQ(saved(), 0);
		fix_pass(&f);
		UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "refuses sharing"), 1);
		fix_done(&f);
	}
}

/* ---- -ENOMEM, -ENOSYS, other errors --------------------------------------------------------- */

/* A hook: the host's free memory drops below any reserve. */
static void low_memory(void *arg)
{
	(void)arg;
	fx_host_set_free(10);
}

/* Results table, "-ENOMEM (nominate, share)": the pair is retried later
 * (share_failed), warned once a minute, and the host's memory is read at
 * once: with free memory above the reserve sharing goes on (the rest of
 * the chunk is merged, the pair in the next pass); below it, sharing
 * pauses until a check finds memory again. */
static void test_enomem_retried(void)
{
	for (int i = 0; i < 2; i++) {
		enum fx_op op = i ? FX_SHARE : FX_NOMINATE;
		struct fix f;

		twins(&f, SHR_PROTO_UPSTREAM, 2);
		UT_ASSERT_EQ(fx_inject(op, 2, 2, 1, 1, -ENOMEM), 0);
		fix_pass(&f);
		CU_ASSERT_TRUE(shr_reserve_allows_sharing(&f.reserve));
		UT_ASSERT_EQ(saved(), NR - 1);
		UT_ASSERT_EQ(f.st.share_failed, 1);
		UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "d2 gfn 0x2 share: out of memory (ENOMEM"), 1);
		UT_ASSERT_EQ(fix_audit(&f), 0);
		fix_pass(&f);
		UT_ASSERT_EQ(saved(), NR);
		fix_done(&f);
	}
	{
		struct shr_params p = fix_params();
		struct fix f;

		p.reserve_pages = 1000;
		fix_host(4096, false, 2, NR);
		fix_fill(1, 0, NR, 100, 1);
		fix_fill(2, 0, NR, 100, 1);
		fix_open(&f, &p);
		log_capture();
		fix_add(&f, 1, SHR_MODE_ON, "g");
		fix_add(&f, 2, SHR_MODE_ON, "g");
		UT_ASSERT_EQ(fx_hook(FX_NOMINATE, 2, 2, 1, low_memory, NULL), 0);
		UT_ASSERT_EQ(fx_inject(FX_NOMINATE, 2, 2, 1, 1, -ENOMEM), 0);
		fix_pass(&f);
		CU_ASSERT_FALSE(shr_reserve_allows_sharing(&f.reserve));
		fx_host_set_free(4000);
		shr_reserve_check(&f.reserve, true);
		CU_ASSERT_TRUE(shr_reserve_allows_sharing(&f.reserve));
		fix_passes(&f, 2);
		UT_ASSERT_EQ(saved(), NR);
		fix_done(&f);
	}
}

/* Results table, -ENOSYS: a hypervisor without memory sharing: the engine
 * stops sharing, with one error pointing at hypervisor-patch/. */
static void test_enosys_stops(void)
{
	struct fix f;

	twins(&f, SHR_PROTO_UPSTREAM, 2);
	UT_ASSERT_EQ(fx_inject(FX_NOMINATE, FX_ANY_DOM, FX_ANY_GFN, 1, 0, -ENOSYS), 0);
	fix_pass(&f);
	CU_ASSERT_TRUE(f.merge.no_sharing);
	UT_ASSERT_EQ(log_count(SHR_LOG_ERR, "hypervisor-patch"), 1);
	UT_ASSERT_EQ(fx_calls(FX_NOMINATE), 1);
	UT_ASSERT_EQ(saved(), 0);
	fix_done(&f);
}

/* Results table, "other -errno (a pair)": share_failed counts it, it is
 * warned with its domain and gfn, and both sides are retried: merged in
 * the next pass. */
static void test_other_errno_retried(void)
{
	struct fix f;

	twins(&f, SHR_PROTO_UPSTREAM, 2);
	UT_ASSERT_EQ(fx_inject(FX_SHARE, 2, 4, 1, 1, -EFAULT), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.share_failed, 1);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "d2 gfn 0x4 share: errno 14"), 1);
	UT_ASSERT_EQ(fix_state(&f, 2, 4), SHR_PS_NEW);
	UT_ASSERT_EQ(fix_state(&f, 1, 4), SHR_PS_UNIQUE);
	UT_ASSERT_EQ(saved(), NR - 1);
	fix_pass(&f);
	UT_ASSERT_EQ(saved(), NR);
	fix_done(&f);
}

/* ---- the batched op as a whole ----------------------------------------------------------- */

/* Results table, "-ENOSYS/-EOPNOTSUPP (batched op, whole batch)": the op
 * vanished: the engine switches to upstream and replays the batch, which
 * is merged in the same flush. */
static void test_batched_op_vanished(void)
{
	for (int i = 0; i < 2; i++) {
		struct fix f;

		twins(&f, SHR_PROTO_BATCHED, 2);
		UT_ASSERT_EQ(fx_inject(FX_CMPSHR, FX_ANY_DOM, FX_ANY_GFN, 1, 0,
				       i ? -EOPNOTSUPP : -ENOSYS), 0);
		fix_pass(&f);
		UT_ASSERT_EQ(f.merge.proto, SHR_PROTO_UPSTREAM);
		UT_ASSERT_EQ(saved(), NR);
		UT_ASSERT_EQ(fx_calls(FX_CMPSHR), 1);
		UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "went away"), 1);
		fix_done(&f);
	}
}

/* Results table, "other -errno (batched op, whole batch)": nothing was
 * shared; share_failed counts every pair, it is warned, and all are
 * retried: merged in the next pass. */
static void test_batched_op_fails(void)
{
	struct fix f;

	twins(&f, SHR_PROTO_BATCHED, 2);
	UT_ASSERT_EQ(fx_inject(FX_CMPSHR, FX_ANY_DOM, FX_ANY_GFN, 1, 1, -EINVAL), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(f.st.share_failed, NR);
	UT_ASSERT_EQ(saved(), 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "batched op on 32 pairs failed"), 1);
	UT_ASSERT_EQ(f.merge.proto, SHR_PROTO_BATCHED);
	fix_pass(&f);
	UT_ASSERT_EQ(saved(), NR);
	fix_done(&f);
}

/* Results table, "another -errno for one pair of the batched op": an
 * error the batched op cannot attribute to a side (injected on one pair,
 * with nothing wrong in the host) is replayed through the upstream path,
 * which then shares the pair. */
static void test_batched_pair_errno_replayed(void)
{
	struct fix f;

	twins(&f, SHR_PROTO_BATCHED, 2);
	UT_ASSERT_EQ(fx_inject(FX_CMPSHR_PAIR, 2, 6, 1, 1, -EBUSY), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(saved(), NR);
	UT_ASSERT_EQ(fx_calls(FX_NOMINATE), 2);
	UT_ASSERT_EQ(fx_calls(FX_SHARE), 1);
	UT_ASSERT_EQ(fix_state(&f, 2, 6), SHR_PS_SHARED);
	fix_done(&f);
}

/* Results table, -ENOMEM of one pair of the batched op: not replayed (the
 * side does not matter): the pair is retried in the next pass. */
static void test_batched_pair_enomem(void)
{
	struct fix f;

	twins(&f, SHR_PROTO_BATCHED, 2);
	UT_ASSERT_EQ(fx_inject(FX_CMPSHR_PAIR, 2, 6, 1, 1, -ENOMEM), 0);
	fix_pass(&f);
	CU_ASSERT_TRUE(shr_reserve_allows_sharing(&f.reserve));
	UT_ASSERT_EQ(fx_calls(FX_NOMINATE), 0);
	UT_ASSERT_EQ(saved(), NR - 1);
	fix_pass(&f);
	UT_ASSERT_EQ(saved(), NR);
	fix_done(&f);
}

/* ---- the index ------------------------------------------------------------------------------ */

/* Results table, "index insert -ENOMEM": with no memory for the index a
 * page is not indexed this pass (WATCH), warned once a minute however
 * many pages fail, and indexed once memory is back. */
static void test_index_out_of_memory(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	fix_host(4096, false, 1, NR);
	fix_fill(1, 0, NR, 100, 1);
	fix_open(&f, &p);
	log_capture();
	fix_add(&f, 1, SHR_MODE_ON, "g");
	malloc_fails = true;
	fix_pass(&f);
	malloc_fails = false;
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 1)->pages.n_unique, 0);
	UT_ASSERT_EQ(fix_state(&f, 1, 0), SHR_PS_WATCH);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "index: insert failed"), 1);
	UT_ASSERT_EQ(fix_audit(&f), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 1)->pages.n_unique, NR);
	fix_done(&f);
}

/* Proves max_sharers: frames hold at most max_sharers gfns (the next twin
 * starts a new frame: 10 zero pages with a cap of 4 make 4 + 4 + 2); a
 * full frame's entry moves to the full side, and a pair of it that fails
 * puts it back on the stable side; the page joins a frame with room later. */
static void test_max_sharers(void)
{
	struct shr_params p = fix_params();
	struct fx_host_stats h;
	struct fix f;

	fix_host(4096, false, 1, 10);
	p.max_sharers = 4;
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_pass(&f);
	fx_host(&h);
	UT_ASSERT_EQ(h.nr_shared, 3);
	UT_ASSERT_EQ(h.nr_saved, 7);
	UT_ASSERT_EQ(shr_index_count(&f.doms.index, SHR_FULL), 2);
	UT_ASSERT_EQ(shr_index_count(&f.doms.index, SHR_STABLE), 1);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 1)->pages.n_zero_shared, 7);
	fix_done(&f);

	/* the fourth sharer's share fails: the frame is not full after all */
	fix_host(4096, false, 1, 10);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	UT_ASSERT_EQ(fx_inject(FX_SHARE, 1, 3, 1, 1, -EFAULT), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 1, 3), SHR_PS_NEW);
	UT_ASSERT_EQ(fx_sharers(1, 0), 3);
	UT_ASSERT_EQ(shr_index_count(&f.doms.index, SHR_FULL), 1);
	UT_ASSERT_EQ(shr_index_count(&f.doms.index, SHR_STABLE), 2);
	UT_ASSERT_EQ(fix_audit(&f), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 1, 3), SHR_PS_SHARED);
	UT_ASSERT_EQ(saved(), 7);                  /* three frames again, any with room */
	fix_done(&f);
}

/* Proves that a lost key costs a bounded number of frame-pair checks: 1,285
 * zero pages in 5 domains, frames of 8 (160 full, one of 5 with room);
 * domain 1's sources are rewritten, so the zero key is lost, and every
 * later look at any zero page finds the frame with room and would ask
 * debug_gfn twice before seeing that the two frames do not fit in one.
 * Over 24 passes the engine makes fewer than 1,000 such queries (2 x 8 +
 * 64 checks of two queries each, plus the pass-end sweeps': 352 when
 * written); without the bound it made two per look at each of the 1,285
 * pages, 9,512.  Nothing is lost meanwhile. */
static void test_lost_key_checks_bounded(void)
{
	struct shr_params p = fix_params();
	uint64_t saved0, q0;
	unsigned int rewritten = 0;
	struct fix f;

	fix_host(16384, true, 5, 257);
	p.max_sharers = 8;
	p.protocol = SHR_PROTO_BATCHED;
	fix_open(&f, &p);
	for (uint32_t d = 1; d <= 5; d++)
		fix_add(&f, d, SHR_MODE_ON, "g");
	fix_passes(&f, 2);
	UT_ASSERT_EQ_FATAL(saved(), 1285 - 161);
	for (uint32_t g = 0; g < 257; g++) {
		if (fix_state(&f, 1, g) != SHR_PS_SOURCE)
			continue;
		UT_ASSERT_EQ_FATAL(fx_write(1, g, 7000 + g), 0);
		rewritten++;
	}
	CU_ASSERT_FATAL(rewritten > 0);
	saved0 = saved();
	q0 = fx_calls(FX_DEBUG_GFN);
	fix_passes(&f, 24);
	CU_ASSERT(fx_calls(FX_DEBUG_GFN) - q0 < 1000);
	CU_ASSERT(saved() >= saved0 - rewritten);
	UT_ASSERT_EQ(fix_audit(&f), 0);
	fix_done(&f);
}

/* ---- groups and modes ----------------------------------------------------------------------- */

static const char *group_by_parity(uint32_t domid)
{
	return domid % 2 ? "red" : "blue";
}

/* Proves invariant 2, pages of different groups are never merged: keys
 * are salted per group, and even where two groups' keys collide (planted:
 * the same salt for both) the candidate's group is checked before a pair
 * is queued.  No frame of the host holds pages of two groups. */
static void test_groups_apart(void)
{
	for (int collide = 0; collide < 2; collide++) {
		struct shr_params p = fix_params();
		struct shr_dom *d1, *d2;
		struct fix f;

		fix_host(4096, false, 2, NR);
		fix_fill(1, 0, NR, 100, 1);
		fix_fill(2, 0, NR, 100, 1);
		fix_open(&f, &p);
		d1 = fix_add(&f, 1, SHR_MODE_ON, "red");
		d2 = fix_add(&f, 2, SHR_MODE_ON, "blue");
		CU_ASSERT_NOT_EQUAL(d1->salt, d2->salt);
		if (collide) {
			d2->salt = d1->salt;
			d2->pages.zero_lo = d1->pages.zero_lo;
		}
		fix_passes(&f, 2);
		UT_ASSERT_EQ(saved(), 0);
		UT_ASSERT_EQ(fx_mixed_frames(group_by_parity), 0);
		UT_ASSERT_EQ(d2->pages.n_unique, NR);
		fix_done(&f);
	}
}

/* Proves mode zero: of two domains with the same content, only the zero
 * pages are merged (and counted as zero pages); the others wait in WATCH
 * without entering the index. */
static void test_mode_zero(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	fix_host(4096, false, 2, NR);
	fix_fill(1, NR / 2, NR / 2, 100, 1);   /* the first half stays zero */
	fix_fill(2, NR / 2, NR / 2, 100, 1);
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ZERO, "g");
	fix_add(&f, 2, SHR_MODE_ZERO, "g");
	fix_pass(&f);
	UT_ASSERT_EQ(saved(), NR - 1);
	UT_ASSERT_EQ(fx_sharers(1, 0), NR);
	UT_ASSERT_EQ(shr_dom_find(&f.doms, 2)->pages.n_zero_shared, NR / 2);
	UT_ASSERT_EQ(fix_state(&f, 2, NR / 2), SHR_PS_WATCH);
	UT_ASSERT_EQ(shr_index_count(&f.doms.index, SHR_UNSTABLE), 0);
	fix_done(&f);
}

/* Proves a queued pair whose domain can no longer share when the queue is
 * flushed is released without a hypercall: the source back to unique,
 * the client (never nominated, so not SUSPECT) to be looked at again. */
static void test_blocked_pairs_released(void)
{
	for (int i = 0; i < 2; i++) {
		enum shr_protocol proto = i ? SHR_PROTO_BATCHED : SHR_PROTO_UPSTREAM;
		struct shr_dom *d2;
		struct fix f;

		twins(&f, proto, 2);
		f.scan.pages_total = 2 * NR;
		while (shr_scan_batch(&f.scan) > 0)
			;
		UT_ASSERT_EQ(f.merge.nr_pairs, NR);
		d2 = shr_dom_find(&f.doms, 2);
		d2->gone = true;
		shr_merge_flush(&f.merge);
		UT_ASSERT_EQ(fx_calls(FX_NOMINATE) + fx_calls(FX_CMPSHR), 0);
		UT_ASSERT_EQ(fix_state(&f, 1, 0), SHR_PS_UNIQUE);
		UT_ASSERT_EQ(fix_state(&f, 2, 0), SHR_PS_NEW);
		CU_ASSERT_FALSE(shr_ps_suspect(fix_byte(&f, 2, 0)));
		f.scan.pages_total = 0;
		fix_done(&f);
	}
}

UT_MAIN("merge", NULL, NULL,
	UT(test_shared_both_protocols),
	UT(test_upstream_chunks),
	UT(test_source_handle_kept),
	UT(test_source_handle_stale),
	UT(test_pair_already_one_frame),
	UT(test_forgotten_source_reindexed),
	UT(test_different_client_moved),
	UT(test_different_source_moved),
	UT(test_different_batched),
	UT(test_stale_handles),
	UT(test_spanned_swapped),
	UT(test_handle_chain_old_frame),
	UT(test_handle_chain_broken),
	UT(test_spanned_refused),
	UT(test_spanned_frames_merged),
	UT(test_split_frames_rejoined),
	UT(test_nominate_refused),
	UT(test_domain_dying_or_gone),
	UT(test_sharing_refused),
	UT(test_enomem_retried),
	UT(test_enosys_stops),
	UT(test_other_errno_retried),
	UT(test_batched_op_vanished),
	UT(test_batched_op_fails),
	UT(test_batched_pair_errno_replayed),
	UT(test_batched_pair_enomem),
	UT(test_index_out_of_memory),
	UT(test_max_sharers),
	UT(test_lost_key_checks_bounded),
	UT(test_groups_apart),
	UT(test_mode_zero),
	UT(test_blocked_pairs_released))
