/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reserve_ut - unit tests of libshare/reserve.c against the fake Xen: the
 * free-memory reserve and the need-memory callback, domains an unshare
 * ENOMEM would crash, sharing rings and their requests, VIRQ_ENOMEM, and
 * the engine's side of the stop protocol (docs/design.md section 7): rings
 * kept enabled on a stop with their requests, taken over by the next
 * engine, kept while an opted-out domain still holds shared pages and
 * released when it dies or holds nothing.
 */
#include <errno.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "core_fixture.h"
#include "ut_common.h"

#define NR 32u
#define RING_GFN (NR - 1)

static uint64_t asked, asks;

static void need_memory(void *arg, uint64_t pages)
{
	(void)arg;
	asked = pages;
	asks++;
}

static struct fx_dom_stats dom(uint32_t domid)
{
	struct fx_dom_stats s;

	UT_ASSERT_EQ_FATAL(fx_dom(domid, &s), 0);
	return s;
}

/* d1 and d2 hold the same NR - 1 pages (their last gfn is the ring page
 * where rings is set) and are merged by one pass. */
static void shared_pair(struct fix *f, bool patched, bool rings, uint64_t reserve)
{
	struct shr_params p = fix_params();

	fix_host(4096, patched, 2, NR);
	fix_fill(1, 0, NR - 1, 100, 1);
	fix_fill(2, 0, NR - 1, 100, 1);
	if (rings) {
		fx_dom_set_ring(1, RING_GFN);
		fx_dom_set_ring(2, RING_GFN);
	} else {
		UT_ASSERT_EQ(fx_write(2, RING_GFN, 9999), 0);    /* no twin */
	}
	p.reserve_pages = reserve;
	p.no_rings = !rings;
	fix_open(f, &p);
	log_capture();
	f->reserve.need_memory_fn = need_memory;
	asked = asks = 0;
	fix_add(f, 1, SHR_MODE_ON, "g");
	fix_add(f, 2, SHR_MODE_ON, "g");
	fix_pass(f);
	UT_ASSERT_EQ(shr_dom_find(&f->doms, 2)->pages.n_shared, NR - 1);
}

/* Proves the reserve: while free host pages are below reserve_pages the
 * shortfall is published as pages_needed and passed to the need-memory
 * callback, and sharing goes on (a share frees the frame it puts at
 * risk): a new twin domain is merged below the reserve, which frees
 * memory.  Once memory is back nothing more is asked.  The host is read
 * at most every 100 ms unless forced. */
static void test_reserve(void)
{
	uint64_t reads;
	struct fix f;

	shared_pair(&f, true, false, 100);
	fx_host_set_free(40);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_TRUE(shr_reserve_allows_sharing(&f.reserve));
	UT_ASSERT_EQ(f.reserve.pages_needed, 60);
	UT_ASSERT_EQ(asked, 60);
	UT_ASSERT_EQ(log_count(SHR_LOG_NOTICE, "sharing goes on"), 1);
	UT_ASSERT_EQ(fx_dom_create(3, NR), 0);
	fix_fill(3, 0, NR - 1, 100, 1);
	fx_host_set_free(40);
	fix_add(&f, 3, SHR_MODE_ON, "g");
	fix_pass(&f);
	UT_ASSERT_EQ(fx_sharers(3, 0), 3);
	UT_ASSERT_EQ(fix_state(&f, 3, 0), SHR_PS_SHARED);

	asks = 0;
	reads = fx_calls(FX_PHYSINFO);
	shr_reserve_check(&f.reserve, false);
	shr_reserve_check(&f.reserve, false);
	CU_ASSERT_TRUE(fx_calls(FX_PHYSINFO) - reads <= 1);
	fx_host_set_free(1000);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_TRUE(shr_reserve_allows_sharing(&f.reserve));
	UT_ASSERT_EQ(f.reserve.pages_needed, 0);
	UT_ASSERT_EQ(asks, 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_NOTICE, "the reserve is met again"), 1);
	fix_done(&f);
}

/* Proves a physinfo that fails changes nothing and is warned. */
static void test_physinfo_fails(void)
{
	struct fix f;

	shared_pair(&f, true, false, 100);
	UT_ASSERT_EQ(fx_inject(FX_PHYSINFO, FX_ANY_DOM, FX_ANY_GFN, 1, 1, -EFAULT), 0);
	fx_host_set_free(10);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_TRUE(shr_reserve_allows_sharing(&f.reserve));
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "physinfo: errno 14"), 1);
	fix_done(&f);
}

/* Results table, "-ENOMEM (nominate, share)", the reserve's side: an
 * ENOMEM from a share (Xen's heap, or libxenctrl's buffers in dom0) is
 * warned once a minute and reads the host's memory at once; sharing pauses
 * only when that reading finds fewer than SHR_ENOMEM_MIN_PAGES free (Xen's
 * heap has nothing left for sharing metadata; the reserve plays no part),
 * and resumes when a check finds that much free again. */
static void test_share_enomem_pause(void)
{
	struct fix f;
	uint64_t before;

	shared_pair(&f, true, false, 100);
	fx_host_set_free(SHR_ENOMEM_MIN_PAGES);
	before = fx_calls(FX_PHYSINFO);
	shr_reserve_enomem(&f.reserve, 2, 5);
	shr_reserve_enomem(&f.reserve, 2, 6);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "out of memory (ENOMEM"), 1);
	UT_ASSERT_EQ(fx_calls(FX_PHYSINFO), before + 2);
	CU_ASSERT_TRUE(shr_reserve_allows_sharing(&f.reserve));
	fx_host_set_free(SHR_ENOMEM_MIN_PAGES - 1);
	shr_reserve_enomem(&f.reserve, 2, 7);
	CU_ASSERT_FALSE(shr_reserve_allows_sharing(&f.reserve));
	fx_host_set_free(SHR_ENOMEM_MIN_PAGES - 1);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_FALSE(shr_reserve_allows_sharing(&f.reserve));
	fx_host_set_free(SHR_ENOMEM_MIN_PAGES);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_TRUE(shr_reserve_allows_sharing(&f.reserve));
	fix_done(&f);
}

/* Proves the unprotected domains of section 7 (no ring, a hypervisor
 * without the patch): their shared pages count as unprotected_at_risk; no
 * new share for them while free < reserve + at risk and the shortfall
 * is asked for; once the host can absorb it, the held-back twins are
 * merged (merge.c: "it merges once the host can absorb it").  On a patched hypervisor a
 * ring-less domain is paused, not crashed: it is not held back. */
static void test_unprotected_domains(void)
{
	const uint64_t risk = 2 * (NR - 1);
	unsigned int passes = 0;
	struct fix f;

	shared_pair(&f, false, false, 10);
	shr_reserve_check(&f.reserve, true);
	UT_ASSERT_EQ(f.reserve.unprotected_at_risk, risk);
	fx_host_set_free(10 + risk);               /* one short of reserve + risk + 1 */
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_TRUE(shr_reserve_allows_sharing(&f.reserve));
	CU_ASSERT_FALSE(shr_reserve_allows_domain(&f.reserve, shr_dom_find(&f.doms, 1)));
	UT_ASSERT_EQ(f.reserve.pages_needed, 0);
	fx_host_set_free(20);
	shr_reserve_check(&f.reserve, true);
	UT_ASSERT_EQ(f.reserve.pages_needed, 10 + risk - 20);
	UT_ASSERT_EQ(asked, 10 + risk - 20);
	/* new twins in d1 and d2: not merged (not even nominated) */
	UT_ASSERT_EQ(fx_write(1, NR - 1, 777), 0);
	UT_ASSERT_EQ(fx_write(2, NR - 1, 777), 0);
	fix_pass(&f);
	UT_ASSERT_EQ(fx_sharers(1, NR - 1), -EINVAL);
	UT_ASSERT_EQ(fx_sharers(2, NR - 1), -EINVAL);
	/* the host can absorb them again */
	fx_host_set_free(1000);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_TRUE(shr_reserve_allows_domain(&f.reserve, shr_dom_find(&f.doms, 1)));
	while (fx_frame(1, NR - 1) != fx_frame(2, NR - 1) && passes++ < 8)
		fix_pass(&f);
	UT_ASSERT_EQ(fx_frame(1, NR - 1), fx_frame(2, NR - 1));
	fix_done(&f);

	shared_pair(&f, true, false, 10);
	fx_host_set_free(20);
	shr_reserve_check(&f.reserve, true);
	UT_ASSERT_EQ(f.reserve.unprotected_at_risk, 0);
	CU_ASSERT_TRUE(shr_reserve_allows_domain(&f.reserve, shr_dom_find(&f.doms, 1)));
	fix_done(&f);
}

/* Proves the same for a twin whose candidate is held back: a page of a
 * protected domain (it has a ring) whose only twin is an unprotected
 * domain's page indexed before the shortfall is not merged while that
 * domain is held back, and is merged once the host can absorb it. */
static void test_held_back_candidate(void)
{
	struct shr_params p = fix_params();
	unsigned int passes = 0;
	struct fix f;

	/* d1 has a ring; d2 and d3 have none and share their pages */
	fix_host(4096, false, 3, NR);
	fx_dom_set_ring(1, RING_GFN);
	fix_fill(1, 0, NR - 1, 500, 1);
	fix_fill(2, 0, NR, 100, 1);
	fix_fill(3, 0, NR, 100, 1);
	p.reserve_pages = 10;
	fix_open(&f, &p);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	fix_add(&f, 3, SHR_MODE_ON, "g");
	CU_ASSERT_PTR_NOT_NULL(shr_dom_find(&f.doms, 1)->ring);
	UT_ASSERT_EQ(fx_write(2, 0, 777), 0);      /* d2:0 unique before the shortfall */
	fix_pass(&f);
	UT_ASSERT_EQ(fix_state(&f, 2, 0), SHR_PS_UNIQUE);
	fx_host_set_free(20);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_FALSE(shr_reserve_allows_domain(&f.reserve, shr_dom_find(&f.doms, 2)));
	CU_ASSERT_TRUE(shr_reserve_allows_domain(&f.reserve, shr_dom_find(&f.doms, 1)));
	UT_ASSERT_EQ(fx_write(1, 0, 777), 0);      /* its twin appears in d1 */
	fix_pass(&f);
	UT_ASSERT_EQ(fx_sharers(1, 0), -EINVAL);
	fx_host_set_free(1000);
	shr_reserve_check(&f.reserve, true);
	while (fx_frame(1, 0) != fx_frame(2, 0) && passes++ < 8)
		fix_pass(&f);
	UT_ASSERT_EQ(fx_frame(1, 0), fx_frame(2, 0));
	fix_done(&f);
}

/* Results table, "unshare ENOMEM (ring request)": a request on a
 * domain's sharing ring pauses sharing, counts in memory_requests and
 * asks for room for the waiting domain's pages at risk (at least 8 MiB);
 * it is not answered while the host has no free frame, and answered (the
 * vCPU resumed) by the first check that finds some.  Sharing resumes only
 * once 8 MiB is free. */
static void test_ring_request(void)
{
	struct fix f;

	shared_pair(&f, false, true, 0);
	CU_ASSERT_TRUE(dom(1).ring_enabled && dom(1).ring_bound);
	fx_host_set_free(0);
	UT_ASSERT_EQ(fx_write(2, 3, 999), FX_PAUSED);   /* the guest faults */
	UT_ASSERT_EQ(dom(2).ring_paused, 1);
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	UT_ASSERT_EQ(f.reserve.memory_requests, 1);
	CU_ASSERT_FALSE(shr_reserve_allows_sharing(&f.reserve));
	UT_ASSERT_EQ(dom(2).ring_paused, 1);            /* no memory: still waiting */
	/* room for d2's pages at risk plus 8 MiB plus the vCPU */
	UT_ASSERT_EQ(f.reserve.pages_needed, SHR_ENOMEM_MIN_PAGES + 1 + (NR - 1));
	UT_ASSERT_EQ(asked, SHR_ENOMEM_MIN_PAGES + 1 + (NR - 1));

	fx_host_set_free(100);
	shr_reserve_check(&f.reserve, true);
	UT_ASSERT_EQ(dom(2).ring_paused, 0);
	UT_ASSERT_EQ(dom(2).ring_unanswered, 0);
	CU_ASSERT_FALSE(shr_reserve_allows_sharing(&f.reserve));  /* < 8 MiB free */
	UT_ASSERT_EQ(fx_write(2, 3, 999), 0);           /* the vCPU goes on */
	fx_host_set_free(SHR_ENOMEM_MIN_PAGES);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_TRUE(shr_reserve_allows_sharing(&f.reserve));
	/* a request while frames are free is answered by the same event */
	UT_ASSERT_EQ(fx_ring_push(1, 1), 0);
	UT_ASSERT_EQ(dom(1).ring_paused, 1);
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	UT_ASSERT_EQ(f.reserve.memory_requests, 2);
	UT_ASSERT_EQ(dom(1).ring_paused, 0);
	fix_done(&f);
}

/* While sharing is already paused for one domain's ring request, a second
 * domain that starts waiting on its ring is still named in the log, once
 * per wait (an operator sees every domain that waits, not only the
 * first); a further request of a domain already waiting adds no line. */
static void test_ring_second_waiter_named(void)
{
	struct fix f;

	shared_pair(&f, false, true, 0);
	fx_host_set_free(0);
	UT_ASSERT_EQ(fx_write(2, 3, 999), FX_PAUSED);
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "d2 unshare ENOMEM: host out of memory"), 1);
	UT_ASSERT_EQ(fx_ring_push(1, 1), 0);
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "d1 unshare ENOMEM: waits on its sharing ring too"), 1);
	UT_ASSERT_EQ(fx_ring_push(1, 1), 0);
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	UT_ASSERT_EQ(f.reserve.memory_requests, 3);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "d1 unshare ENOMEM"), 1);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "d2 unshare ENOMEM"), 1);
	fx_host_set_free(100);
	shr_reserve_check(&f.reserve, true);
	UT_ASSERT_EQ(dom(1).ring_paused, 0);
	UT_ASSERT_EQ(dom(2).ring_paused, 0);
	fix_done(&f);
}

/* Proves the stop protocol's engine side (section 7): a clean stop with a
 * request that could not be answered (no memory) keeps the ring ENABLED
 * with the request on it (the vCPU stays paused: with the ring disabled an
 * unpatched Xen would crash the domain at its next unshare ENOMEM), and
 * says so; an unshare ENOMEM while no engine runs pauses on the ring too;
 * the next engine takes the ring over and answers both requests, and every
 * vCPU runs again. */
static void test_stop_keeps_rings(void)
{
	struct fix f;

	shared_pair(&f, false, true, 0);
	fx_host_set_free(0);
	UT_ASSERT_EQ(fx_write(2, 3, 999), FX_PAUSED);
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	fix_done(&f);                                   /* the stop */
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "stopping with 1 ring requests"), 1);
	CU_ASSERT_TRUE(dom(2).ring_enabled);
	CU_ASSERT_FALSE(dom(2).ring_bound);
	UT_ASSERT_EQ(dom(2).ring_unanswered, 1);
	UT_ASSERT_EQ(dom(2).ring_paused, 1);
	/* no engine runs: another vCPU runs out of memory, pauses, no crash */
	UT_ASSERT_EQ(fx_write(1, 4, 999), FX_PAUSED);
	CU_ASSERT_FALSE(dom(1).crashed);

	/* the next engine */
	{
		struct shr_params p = fix_params();

		fix_open(&f, &p);
	}
	log_capture();
	fix_add(&f, 1, SHR_MODE_ON, "g");
	fix_add(&f, 2, SHR_MODE_ON, "g");
	UT_ASSERT_EQ(log_count(SHR_LOG_NOTICE, "taken over; 1 requests"), 2);
	UT_ASSERT_EQ(dom(1).ring_paused + dom(2).ring_paused, 0);
	CU_ASSERT_TRUE(dom(2).ring_enabled && dom(2).ring_bound);
	UT_ASSERT_EQ(dom(2).ring_unanswered, 0);
	fx_host_set_free(100);
	UT_ASSERT_EQ(fx_write(2, 3, 999), 0);
	UT_ASSERT_EQ(fx_write(1, 4, 999), 0);
	fix_done(&f);
}

/* Proves what a stop answers: requests the last check can answer (memory
 * is there) are answered before the rings are left. */
static void test_stop_answers_what_it_can(void)
{
	struct fix f;

	shared_pair(&f, false, true, 0);
	fx_host_set_free(0);
	UT_ASSERT_EQ(fx_write(2, 3, 999), FX_PAUSED);
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	fx_host_set_free(100);
	fix_done(&f);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "stopping with"), 0);
	UT_ASSERT_EQ(dom(2).ring_paused, 0);
	CU_ASSERT_TRUE(dom(2).ring_enabled);
}

/* Proves rings outlive scanning (section 7): a domain that leaves the
 * engine alive (opted out) with shared pages keeps its ring, still served
 * (a request on it is answered once memory is there), and re-attaching it
 * reuses it; the ring is released and disabled once the domain holds no
 * shared page; a dead domain's ring is released at once. */
static void test_kept_rings(void)
{
	uint64_t enables;
	struct fix f;

	shared_pair(&f, false, true, 0);
	enables = fx_calls(FX_RING_ENABLE);
	shr_reserve_ring_detach(&f.reserve, shr_dom_find(&f.doms, 2));
	CU_ASSERT_PTR_NULL(shr_dom_find(&f.doms, 2)->ring);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_TRUE(dom(2).ring_enabled && dom(2).ring_bound);
	/* a request on the kept ring is served */
	fx_host_set_free(0);
	UT_ASSERT_EQ(fx_write(2, 3, 999), FX_PAUSED);
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	UT_ASSERT_EQ(f.reserve.memory_requests, 1);
	fx_host_set_free(100);
	shr_reserve_check(&f.reserve, true);
	UT_ASSERT_EQ(dom(2).ring_paused, 0);
	/* scanned again: the kept ring is reused */
	UT_ASSERT_EQ(shr_reserve_ring_attach(&f.reserve, shr_dom_find(&f.doms, 2)), 0);
	UT_ASSERT_EQ(fx_calls(FX_RING_ENABLE), enables);
	CU_ASSERT_PTR_NOT_NULL(shr_dom_find(&f.doms, 2)->ring);
	/* left again, and nothing shared any more: released and disabled */
	shr_reserve_ring_detach(&f.reserve, shr_dom_find(&f.doms, 2));
	for (uint32_t g = 0; g < NR - 1; g++)
		UT_ASSERT_EQ(fx_write(2, g, 5000 + g), 0);
	UT_ASSERT_EQ(dom(2).shr_pages, 0);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_FALSE(dom(2).ring_enabled);
	CU_ASSERT_FALSE(dom(2).ring_bound);
	UT_ASSERT_EQ(log_count(SHR_LOG_INFO, "released (not scanned, nothing shared)"), 1);

	/* d1 leaves alive with shared pages (kept), then dies */
	shr_reserve_ring_detach(&f.reserve, shr_dom_find(&f.doms, 1));
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_TRUE(dom(1).ring_bound);
	fx_dom_set_dying(1);
	shr_reserve_check(&f.reserve, true);
	CU_ASSERT_FALSE(dom(1).ring_bound);
	fix_done(&f);

	/* a domain found gone: its ring goes with it at once */
	shared_pair(&f, false, true, 0);
	shr_dom_mark_gone(shr_dom_find(&f.doms, 2), -ESRCH, "test");
	shr_reserve_ring_detach(&f.reserve, shr_dom_find(&f.doms, 2));
	CU_ASSERT_FALSE(dom(2).ring_bound);
	CU_ASSERT_TRUE(dom(2).ring_enabled);        /* not disabled: dying with it */
	fix_done(&f);
}

/* Proves a domain without a ring page is simply run without one (logged,
 * no error for the engine), and a ring a broken event channel cannot bind
 * is disabled again. */
static void test_ring_attach_fails(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	fix_host(4096, false, 2, NR);
	fx_dom_set_ring(2, RING_GFN);
	fix_open(&f, &p);
	log_capture();
	UT_ASSERT_EQ(fx_inject(FX_EVTCHN_BIND, 2, FX_ANY_GFN, 1, 1, -ENOSPC), 0);
	fix_add(&f, 1, SHR_MODE_ON, "g");
	{
		struct shr_dom *d2 = NULL;
		uint64_t nr = 0;

		UT_ASSERT_EQ(shr_xen_nr_gfns(f.xen, 2, &nr), 0);
		UT_ASSERT_EQ(shr_dom_insert(&f.doms, 2, "t", nr, &d2), 0);
		UT_ASSERT_EQ(shr_dom_set_group(&f.doms, d2, "g"), 0);
		UT_ASSERT_EQ(shr_reserve_ring_attach(&f.reserve, d2), -ENOSPC);
		CU_ASSERT_PTR_NULL(d2->ring);
	}
	CU_ASSERT_PTR_NULL(shr_dom_find(&f.doms, 1)->ring);
	CU_ASSERT_FALSE(dom(2).ring_enabled);
	UT_ASSERT_EQ(shr_xen_counters(f.xen)->ring_mappings, 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_INFO, "no sharing ring"), 2);
	fix_done(&f);
}

/* Results table, "unshare ENOMEM (VIRQ_ENOMEM)" on the patched
 * hypervisor: ring-less domains paused on an unshare ENOMEM are listed
 * and resumed by id once memory is free (not before); a VIRQ with no
 * domain waiting is only Xen's low-memory warning, not a request. */
static void test_virq_waiters(void)
{
	struct fix f;

	shared_pair(&f, true, false, 0);
	fx_host_set_free(0);
	UT_ASSERT_EQ(fx_write(2, 3, 999), FX_PAUSED);
	UT_ASSERT_EQ(dom(2).enomem_waiting, 1);
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	UT_ASSERT_EQ(f.reserve.memory_requests, 1);
	UT_ASSERT_EQ(f.reserve.virq_waiting, 1);
	UT_ASSERT_EQ(dom(2).enomem_waiting, 1);
	CU_ASSERT_TRUE(f.reserve.pages_needed >= SHR_ENOMEM_MIN_PAGES);
	fx_host_set_free(100);
	shr_reserve_check(&f.reserve, true);
	UT_ASSERT_EQ(dom(2).enomem_waiting, 0);
	UT_ASSERT_EQ(f.reserve.virq_waiting, 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_INFO, "d2 resumed after unshare ENOMEM (1 vCPUs)"), 1);

	fx_virq_raise();
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	UT_ASSERT_EQ(f.reserve.memory_requests, 1);
	fix_done(&f);
}

/* Proves the engine's start after a stop or a kill on the patched
 * hypervisor: ring-less domains a previous engine left waiting are listed
 * at start and resumed by its first check with free memory. */
static void test_virq_waiters_at_start(void)
{
	struct shr_params p = fix_params();
	struct fix f;

	fix_host(4096, true, 1, NR);
	UT_ASSERT_EQ(fx_enomem_wait(1, 0), 0);
	fx_host_set_free(0);
	p.no_rings = true;
	fix_open(&f, &p);
	UT_ASSERT_EQ(f.reserve.memory_requests, 1);
	UT_ASSERT_EQ(dom(1).enomem_waiting, 1);
	fx_host_set_free(100);
	shr_reserve_check(&f.reserve, true);
	UT_ASSERT_EQ(dom(1).enomem_waiting, 0);
	fix_done(&f);
}

/* Proves the fallback without the patch's list op: a VIRQ_ENOMEM makes
 * every scanned ring-less domain be resumed through the ring's resume,
 * with a warning, once memory is there. */
static void test_virq_without_list_op(void)
{
	struct fix f;

	shared_pair(&f, false, false, 0);
	fx_virq_raise();
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "cannot list the waiting domains"), 1);
	UT_ASSERT_EQ(f.reserve.memory_requests, 1);
	/* resumed by the check inside handle_events (memory is free) */
	UT_ASSERT_EQ(fx_calls(FX_DOMAIN_RESUME), 2);
	CU_ASSERT_FALSE(shr_dom_find(&f.doms, 1)->resume_pending);
	CU_ASSERT_FALSE(shr_dom_find(&f.doms, 2)->resume_pending);
	fix_done(&f);
}

/* Proves an event channel that fails is reported by handle_events. */
static void test_events_fail(void)
{
	struct fix f;

	shared_pair(&f, false, true, 0);
	UT_ASSERT_EQ(fx_inject(FX_EVTCHN_PENDING, FX_ANY_DOM, FX_ANY_GFN, 1, 1, -EIO), 0);
	UT_ASSERT_EQ(shr_reserve_handle_events(&f.reserve), -EIO);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "evtchn pending: errno 5"), 1);
	fix_done(&f);
}

UT_MAIN("reserve", NULL, NULL,
	UT(test_reserve),
	UT(test_physinfo_fails),
	UT(test_share_enomem_pause),
	UT(test_unprotected_domains),
	UT(test_held_back_candidate),
	UT(test_ring_request),
	UT(test_ring_second_waiter_named),
	UT(test_stop_keeps_rings),
	UT(test_stop_answers_what_it_can),
	UT(test_kept_rings),
	UT(test_ring_attach_fails),
	UT(test_virq_waiters),
	UT(test_virq_waiters_at_start),
	UT(test_virq_without_list_op),
	UT(test_events_fail))
