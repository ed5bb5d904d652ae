/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmpshr_ut.c - user-space tests of the hypervisor logic that
 * hypervisor-patch/ adds for XENMEM_sharing_op_compare_share: the batch
 * driver (iteration, per-pair results, continuation cursor, preemption,
 * faults) and the frame comparison.
 *
 * mem_sharing_batch.c is compiled unchanged from hypervisor-patch/harness/
 * (byte-identical to the file the patch adds to xen/arch/x86/mm/, checked
 * by tests/integration/hvpatch_harness.test.sh) against the stand-ins of
 * harness/include/emul.h.  This file provides what Xen would: the per-pair
 * operation (scripted here: a result per pair, and a log of the calls),
 * guest copies with injectable faults, a preemption check with a script,
 * and a small frame table whose mappings are counted.
 *
 * What it cannot prove: the locking in mem_sharing.c (share_pages()) and
 * that nominated frames cannot change; those are Xen internals, reviewed
 * and exercised by the e2e run under QEMU.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "hypervisor-patch/harness/mem_sharing_batch.h"
#include "hypervisor-patch/include/xenshare_cmpshr.h"
#include "ut_common.h"

#define MAX_PAIRS 64
#define NR_FRAMES 4

/* --- what Xen provides, scripted ----------------------------------------- */

static struct {
	/* per-pair operation */
	unsigned int calls;
	uint64_t called_gfn[MAX_PAIRS * 2];
	/* guest copies: fail the Nth copy (1-based) in that direction, 0 = never */
	unsigned int copies_in, copies_out;
	unsigned int fail_in_at, fail_out_at;
	/* preemption: answer of the Nth check (1-based) is preempt_every divides N */
	unsigned int checks;
	unsigned int preempt_every;
	/* the pair of this source gfn asks for preemption this many times */
	uint64_t restart_gfn;
	unsigned int restarts_left;
	/* frames */
	unsigned char frame[NR_FRAMES][PAGE_SIZE];
	int maps;
} hv;

static void hv_reset(void)
{
	memset(&hv, 0, sizeof(hv));
}

/* The scripted per-pair result: a function of the pair, so it can be checked. */
static int32_t expected_result(const xen_mem_sharing_cmpshr_pair_t *p)
{
	switch (p->source_gfn % 4) {
	case 0: return XENMEM_SHARING_CMPSHR_SHARED;
	case 1: return XENMEM_SHARING_CMPSHR_DIFFERENT;
	case 2: return -E2BIG;
	default: return -10; /* XENMEM_SHARING_OP_S_HANDLE_INVALID */
	}
}

int mem_sharing_cmpshr_pair(const xen_mem_sharing_cmpshr_pair_t *pair)
{
	if (hv.calls < MAX_PAIRS * 2)
		hv.called_gfn[hv.calls] = pair->source_gfn;
	hv.calls++;
	if (pair->source_gfn == hv.restart_gfn && hv.restarts_left) {
		hv.restarts_left--;
		return -ERESTART;
	}
	return expected_result(pair);
}

unsigned long harness_copy_from_guest(void *to, const void *from, size_t n)
{
	if (++hv.copies_in == hv.fail_in_at)
		return n;
	memcpy(to, from, n);
	return 0;
}

unsigned long harness_copy_to_guest(void *to, const void *from, size_t n)
{
	if (++hv.copies_out == hv.fail_out_at)
		return n;
	memcpy(to, from, n);
	return 0;
}

bool harness_preempt_check(void)
{
	hv.checks++;
	return hv.preempt_every && hv.checks % hv.preempt_every == 0;
}

void *harness_map_frame(mfn_t mfn)
{
	CU_ASSERT_FATAL(mfn_x(mfn) < NR_FRAMES);
	hv.maps++;
	return hv.frame[mfn_x(mfn)];
}

void harness_unmap_frame(const void *va)
{
	(void)va;
	hv.maps--;
}

/* --- helpers -------------------------------------------------------------- */

static xen_mem_sharing_cmpshr_pair_t pairs[MAX_PAIRS];

static void fill_pairs(unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < MAX_PAIRS; i++) {
		pairs[i].source_gfn = 1000 + i;
		pairs[i].client_gfn = 5000 + i;
		pairs[i].source_domain = 1;
		pairs[i].client_domain = 2;
		pairs[i].result = i < nr ? 0x5a5a5a5a : 0x77777777; /* poison */
	}
}

static struct mem_sharing_op_compare_share make_op(unsigned int nr)
{
	struct mem_sharing_op_compare_share cs = { .nr_pairs = nr, .done = 0 };

	cs.pairs.p = pairs;
	return cs;
}

/* --- tests ------------------------------------------------------------------ */

/* Without preemption, every pair is run once, in order, and gets its own result. */
static void test_all_pairs_get_results(void)
{
	struct mem_sharing_op_compare_share cs;
	unsigned int i, nr = 9;

	hv_reset();
	fill_pairs(nr);
	cs = make_op(nr);
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), 0);
	CU_ASSERT_EQUAL(cs.done, nr);
	CU_ASSERT_EQUAL(hv.calls, nr);
	for (i = 0; i < nr; i++) {
		CU_ASSERT_EQUAL(hv.called_gfn[i], 1000 + i);
		CU_ASSERT_EQUAL(pairs[i].result, expected_result(&pairs[i]));
	}
	CU_ASSERT_EQUAL(pairs[nr].result, 0x77777777); /* nothing past the batch */
}

/* Only result is an output: the IN fields of every pair come back unchanged. */
static void test_in_fields_untouched(void)
{
	struct mem_sharing_op_compare_share cs;
	unsigned int i, nr = 5;

	hv_reset();
	fill_pairs(nr);
	cs = make_op(nr);
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), 0);
	for (i = 0; i < nr; i++) {
		CU_ASSERT_EQUAL(pairs[i].source_gfn, 1000 + i);
		CU_ASSERT_EQUAL(pairs[i].client_gfn, 5000 + i);
		CU_ASSERT_EQUAL(pairs[i].source_domain, 1);
		CU_ASSERT_EQUAL(pairs[i].client_domain, 2);
	}
}

/*
 * Preemption every third check: the batch returns -ERESTART with done at
 * the next pair, and re-invoking it (what the continuation does) finishes
 * the batch without running any pair twice or skipping one.
 */
static void test_continuation_runs_each_pair_once(void)
{
	struct mem_sharing_op_compare_share cs;
	unsigned int i, nr = 20, restarts = 0, last_done = 0;
	int rc;

	hv_reset();
	hv.preempt_every = 3;
	fill_pairs(nr);
	cs = make_op(nr);
	while ((rc = mem_sharing_cmpshr_batch(&cs)) == -ERESTART) {
		restarts++;
		CU_ASSERT(cs.done > last_done);   /* progress every time */
		CU_ASSERT(cs.done < nr);
		CU_ASSERT_EQUAL(hv.calls, cs.done); /* nothing beyond done ran */
		last_done = cs.done;
		CU_ASSERT_FATAL(restarts <= nr);
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(cs.done, nr);
	CU_ASSERT_EQUAL(hv.calls, nr);
	CU_ASSERT_EQUAL(restarts, (nr - 1) / 3);
	for (i = 0; i < nr; i++) {
		CU_ASSERT_EQUAL(hv.called_gfn[i], 1000 + i);
		CU_ASSERT_EQUAL(pairs[i].result, expected_result(&pairs[i]));
	}
}

/*
 * Preemption pending all the time: one pair per invocation, and the last
 * pair completes the batch instead of creating a useless continuation.
 */
static void test_no_continuation_after_last_pair(void)
{
	struct mem_sharing_op_compare_share cs;

	hv_reset();
	hv.preempt_every = 1;
	fill_pairs(3);
	cs = make_op(3);
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), -ERESTART);
	CU_ASSERT_EQUAL(cs.done, 1);
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), -ERESTART);
	CU_ASSERT_EQUAL(cs.done, 2);
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), 0);
	CU_ASSERT_EQUAL(cs.done, 3);
	CU_ASSERT_EQUAL(hv.calls, 3);
	CU_ASSERT_EQUAL(hv.checks, 2); /* none after the last pair */
}

/*
 * A pair that asks for preemption half-way (a long frame-to-frame merge):
 * the batch returns -ERESTART with done still at that pair and its result
 * not written, and the continuation runs that pair again until it has a
 * result, then the rest, each other pair once.
 */
static void test_pair_preempted_runs_again(void)
{
	struct mem_sharing_op_compare_share cs;
	unsigned int i, nr = 6;

	hv_reset();
	hv.restart_gfn = 1002;
	hv.restarts_left = 2;
	fill_pairs(nr);
	cs = make_op(nr);
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), -ERESTART);
	CU_ASSERT_EQUAL(cs.done, 2);
	CU_ASSERT_EQUAL(pairs[2].result, 0x5a5a5a5a); /* no result yet */
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), -ERESTART);
	CU_ASSERT_EQUAL(cs.done, 2);
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), 0);
	CU_ASSERT_EQUAL(cs.done, nr);
	CU_ASSERT_EQUAL(hv.calls, nr + 2);
	for (i = 0; i < nr; i++)
		CU_ASSERT_EQUAL(pairs[i].result, expected_result(&pairs[i]));
}

/* An empty batch (the daemon's probe) succeeds without touching anything. */
static void test_empty_batch(void)
{
	struct mem_sharing_op_compare_share cs;

	hv_reset();
	cs = make_op(0);
	cs.pairs.p = NULL;
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), 0);
	CU_ASSERT_EQUAL(cs.done, 0);
	CU_ASSERT_EQUAL(hv.calls, 0);
	CU_ASSERT_EQUAL(hv.copies_in + hv.copies_out + hv.checks, 0);
}

/* A cursor past the end (a caller not zeroing done) is refused, nothing runs. */
static void test_done_past_end_rejected(void)
{
	struct mem_sharing_op_compare_share cs;

	hv_reset();
	fill_pairs(3);
	cs = make_op(3);
	cs.done = 4;
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), -EINVAL);
	CU_ASSERT_EQUAL(hv.calls, 0);
	CU_ASSERT_EQUAL(pairs[0].result, 0x5a5a5a5a);
}

/* A cursor equal to nr_pairs is a finished batch: 0, nothing runs. */
static void test_done_at_end_is_finished(void)
{
	struct mem_sharing_op_compare_share cs;

	hv_reset();
	fill_pairs(3);
	cs = make_op(3);
	cs.done = 3;
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), 0);
	CU_ASSERT_EQUAL(hv.calls, 0);
}

/*
 * A fault reading pair 3 fails the batch with -EFAULT: pairs 0..2 have
 * their results, done says so, and pair 3 was not acted upon.
 */
static void test_fault_reading_a_pair(void)
{
	struct mem_sharing_op_compare_share cs;
	unsigned int i;

	hv_reset();
	hv.fail_in_at = 4;
	fill_pairs(6);
	cs = make_op(6);
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), -EFAULT);
	CU_ASSERT_EQUAL(cs.done, 3);
	CU_ASSERT_EQUAL(hv.calls, 3);
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(pairs[i].result, expected_result(&pairs[i]));
	CU_ASSERT_EQUAL(pairs[3].result, 0x5a5a5a5a);
}

/*
 * A fault writing pair 1's result back fails the batch with done still at
 * 1: the caller learns that pair 1 has no result (it was acted upon, and
 * may be run again, which is harmless).
 */
static void test_fault_writing_a_result(void)
{
	struct mem_sharing_op_compare_share cs;

	hv_reset();
	hv.fail_out_at = 2;
	fill_pairs(4);
	cs = make_op(4);
	CU_ASSERT_EQUAL(mem_sharing_cmpshr_batch(&cs), -EFAULT);
	CU_ASSERT_EQUAL(cs.done, 1);
	CU_ASSERT_EQUAL(hv.calls, 2);
	CU_ASSERT_EQUAL(pairs[0].result, expected_result(&pairs[0]));
	CU_ASSERT_EQUAL(pairs[1].result, 0x5a5a5a5a);
}

/*
 * The comparison: identical frames are equal; a difference in the first
 * or the last byte is seen; every mapping is unmapped again.
 */
static void test_frames_equal(void)
{
	hv_reset();
	memset(hv.frame[0], 0xab, PAGE_SIZE);
	memset(hv.frame[1], 0xab, PAGE_SIZE);
	CU_ASSERT_TRUE(mem_sharing_frames_equal(_mfn(0), _mfn(1)));
	CU_ASSERT_TRUE(mem_sharing_frames_equal(_mfn(1), _mfn(1)));
	hv.frame[1][PAGE_SIZE - 1] ^= 1;
	CU_ASSERT_FALSE(mem_sharing_frames_equal(_mfn(0), _mfn(1)));
	hv.frame[1][PAGE_SIZE - 1] ^= 1;
	hv.frame[0][0] = 0;
	CU_ASSERT_FALSE(mem_sharing_frames_equal(_mfn(0), _mfn(1)));
	CU_ASSERT_FALSE(mem_sharing_frames_equal(_mfn(1), _mfn(0)));
	CU_ASSERT_EQUAL(hv.maps, 0);
}

/*
 * The public pair and result codes are those the daemon and xensim use
 * (hypervisor-patch/include/xenshare_cmpshr.h): same size, offsets, values.
 */
static void test_layout_matches_project_header(void)
{
	CU_ASSERT_EQUAL(sizeof(xen_mem_sharing_cmpshr_pair_t), sizeof(xenshare_cmpshr_pair_t));
	CU_ASSERT_EQUAL(sizeof(xen_mem_sharing_cmpshr_pair_t), 24);
	CU_ASSERT_EQUAL(offsetof(xen_mem_sharing_cmpshr_pair_t, source_gfn),
			offsetof(xenshare_cmpshr_pair_t, source_gfn));
	CU_ASSERT_EQUAL(offsetof(xen_mem_sharing_cmpshr_pair_t, client_gfn),
			offsetof(xenshare_cmpshr_pair_t, client_gfn));
	CU_ASSERT_EQUAL(offsetof(xen_mem_sharing_cmpshr_pair_t, source_domain),
			offsetof(xenshare_cmpshr_pair_t, source_domain));
	CU_ASSERT_EQUAL(offsetof(xen_mem_sharing_cmpshr_pair_t, client_domain),
			offsetof(xenshare_cmpshr_pair_t, client_domain));
	CU_ASSERT_EQUAL(offsetof(xen_mem_sharing_cmpshr_pair_t, result),
			offsetof(xenshare_cmpshr_pair_t, result));
	CU_ASSERT_EQUAL(XENMEM_SHARING_CMPSHR_SHARED, XENSHARE_CMPSHR_SHARED);
	CU_ASSERT_EQUAL(XENMEM_SHARING_CMPSHR_DIFFERENT, XENSHARE_CMPSHR_DIFFERENT);
	CU_ASSERT_EQUAL(XENMEM_SHARING_CMPSHR_SPANNED, XENSHARE_CMPSHR_SPANNED);
}

UT_MAIN("cmpshr (hypervisor-patch batch driver)", NULL, NULL,
	UT(test_all_pairs_get_results),
	UT(test_in_fields_untouched),
	UT(test_continuation_runs_each_pair_once),
	UT(test_no_continuation_after_last_pair),
	UT(test_pair_preempted_runs_again),
	UT(test_empty_batch),
	UT(test_done_past_end_rejected),
	UT(test_done_at_end_is_finished),
	UT(test_fault_reading_a_pair),
	UT(test_fault_writing_a_result),
	UT(test_frames_equal),
	UT(test_layout_matches_project_header))
