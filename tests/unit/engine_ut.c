/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * engine_ut - unit tests of libshare/engine.c through its API (engine.h)
 * against the fake Xen: parameters, domains added, changed and removed
 * (mid-pass too), the held policy and the eviction a change of group or
 * mode starts, passes and statistics, events, and a restart.  After each
 * scenario the engine's own audit (and where pages are shared, the frame
 * census) finds nothing, and the fake host never saw a frame holding
 * pages of two groups.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "libshare/engine.h"
#include "core_fixture.h"
#include "ut_common.h"

#define NR 32u

static struct shr_params params(void)
{
	struct shr_params p = fix_params();

	p.no_rings = true;
	return p;
}

static struct shr_domain_policy policy(enum shr_mode mode, const char *group)
{
	struct shr_domain_policy pol = { .mode = mode };

	snprintf(pol.group, sizeof(pol.group), "%s", group);
	return pol;
}

static struct shr_engine *engine(const struct shr_params *p)
{
	struct shr_engine *e = NULL;

	UT_ASSERT_EQ_FATAL(shr_engine_alloc(p, &e), 0);
	return e;
}

static int add(struct shr_engine *e, uint32_t domid, enum shr_mode mode, const char *group,
	       const struct shr_domain_policy *held)
{
	struct shr_domain_policy pol = policy(mode, group);
	struct shr_domain_record rec = { 0 };

	if (held)
		rec.held = *held;
	return shr_engine_add_domain(e, domid, "t", &pol, held ? &rec : NULL);
}

/* The held policy of the domain's record (its group "" if not known). */
static struct shr_domain_policy held_of(struct shr_engine *e, uint32_t domid)
{
	struct shr_domain_record rec;

	UT_ASSERT_EQ(shr_engine_domain_record(e, domid, &rec), 0);
	return rec.held;
}

static struct shr_stats stats(struct shr_engine *e)
{
	struct shr_stats s;

	shr_engine_get_stats(e, &s);
	return s;
}

/* The engine's group of each domain, as the test set it (for the host's
 * own check that no frame mixes groups). */
static const char *groups[8];

static const char *group_of(uint32_t domid)
{
	return domid < 8 && groups[domid] ? groups[domid] : "?";
}

/* shr_engine_run() in slices of one batch until n more passes are done;
 * after every slice the audit is clean and no frame mixes groups. */
static void run_passes(struct shr_engine *e, unsigned int n)
{
	uint64_t goal = stats(e).full_scans + n;

	for (int i = 0; i < 10000 && stats(e).full_scans < goal; i++) {
		CU_ASSERT_FATAL(shr_engine_run(e, 1) >= 0);
		UT_ASSERT_EQ_FATAL(shr_engine_audit(e), 0);
		UT_ASSERT_EQ_FATAL(fx_mixed_frames(group_of), 0);
	}
	UT_ASSERT_EQ(stats(e).full_scans, goal);
}

/* The end of a scenario: audit, census, the host's checks, the engine freed. */
static void done(struct shr_engine *e)
{
	uint64_t unaccounted = 0;
	struct fx_host_stats h;

	UT_ASSERT_EQ(shr_engine_audit(e), 0);
	UT_ASSERT_EQ(shr_engine_audit_frames(e, &unaccounted), 0);
	UT_ASSERT_EQ(fx_mixed_frames(group_of), 0);
	shr_engine_free(e);
	UT_ASSERT_EQ(fx_check(), 0);
	fx_host(&h);
	UT_ASSERT_EQ(h.nominate_while_mapped, 0);
	UT_ASSERT_EQ(h.bad_unmaps, 0);
	CU_ASSERT_PTR_NULL(h.panic);
}

/* A host with nr_doms domains of NR gfns holding the same NR pages. */
static void twins(unsigned int nr_doms, bool patched)
{
	fix_host(4096, patched, nr_doms, NR);
	for (uint32_t d = 1; d <= nr_doms; d++) {
		fix_fill(d, 0, NR, 100, 1);
		groups[d] = "g";
	}
	log_capture();
}

struct dom_seen {
	unsigned int n;
	struct shr_domain_stats last[8];
};

static int collect(const struct shr_domain_stats *s, void *arg)
{
	struct dom_seen *seen = arg;

	if (seen->n < 8)
		seen->last[seen->n] = *s;
	seen->n++;
	return 0;
}

static struct shr_domain_stats dom_stats(struct shr_engine *e, uint32_t domid)
{
	struct dom_seen seen = { 0 };

	UT_ASSERT_EQ(shr_engine_foreach_domain(e, collect, &seen), 0);
	for (unsigned int i = 0; i < seen.n && i < 8; i++)
		if (seen.last[i].domid == domid)
			return seen.last[i];
	CU_FAIL("domain not known to the engine");
	return (struct shr_domain_stats){ 0 };
}

/* ---- parameters -------------------------------------------------------------------- */

/* Proves every tunable out of range is refused by alloc and set_params
 * with -EINVAL and a message naming it. */
static void test_bad_params(void)
{
	struct shr_engine *e = NULL;
	struct shr_params p;

	fix_host(64, false, 0, 0);
	log_capture();
	for (int i = 0; i < 9; i++) {
		p = params();
		switch (i) {
		case 0: p.batch_pages = 0; break;
		case 1: p.batch_pages = 4097; break;
		case 2: p.max_sharers = 1; break;
		case 3: p.max_sharers = 65536; break;
		case 4: p.cpu_cap = 0; break;
		case 5: p.cpu_cap = 1.5; break;
		case 6: p.cpu_cap = NAN; break;
		case 7: p.pass_target_s = -1; break;
		case 8: p.settle_ratio = -0.5; break;
		}
		UT_ASSERT_EQ(shr_engine_alloc(&p, &e), -EINVAL);
	}
	UT_ASSERT_EQ(log_count(SHR_LOG_ERR, "engine: "), 9);
	p = params();
	e = engine(&p);
	p.batch_pages = 0;
	UT_ASSERT_EQ(shr_engine_set_params(e, &p), -EINVAL);
	shr_engine_free(e);
}

/* Proves the protocol choice: auto takes the batched op where the
 * hypervisor has it and upstream where not; requiring the batched op on
 * an unpatched host fails alloc and set_params with -EOPNOTSUPP and an
 * error pointing at hypervisor-patch/; a Xen that cannot be opened fails
 * alloc with its errno. */
static void test_protocol_and_open(void)
{
	struct shr_engine *e = NULL;
	struct shr_params p = params();

	fix_host(64, false, 0, 0);
	log_capture();
	p.protocol = SHR_PROTO_AUTO;
	e = engine(&p);
	UT_ASSERT_EQ(stats(e).protocol_in_use, SHR_PROTO_UPSTREAM);
	p.protocol = SHR_PROTO_BATCHED;
	UT_ASSERT_EQ(shr_engine_set_params(e, &p), -EOPNOTSUPP);
	shr_engine_free(e);
	UT_ASSERT_EQ(shr_engine_alloc(&p, &e), -EOPNOTSUPP);
	UT_ASSERT_EQ(log_count(SHR_LOG_ERR, "hypervisor-patch/"), 1);

	fix_host(64, true, 0, 0);
	p.protocol = SHR_PROTO_AUTO;
	e = engine(&p);
	UT_ASSERT_EQ(stats(e).protocol_in_use, SHR_PROTO_BATCHED);
	p.protocol = SHR_PROTO_UPSTREAM;
	UT_ASSERT_EQ(shr_engine_set_params(e, &p), 0);
	UT_ASSERT_EQ(stats(e).protocol_in_use, SHR_PROTO_UPSTREAM);
	shr_engine_free(e);

	UT_ASSERT_EQ(fx_inject(FX_OPEN, FX_ANY_DOM, FX_ANY_GFN, 1, 1, -ENOENT), 0);
	UT_ASSERT_EQ(shr_engine_alloc(&p, &e), -ENOENT);
}

/* Proves set_params applies at once: a larger batch is used by the next
 * pass (one mapping call for the whole domain). */
static void test_set_params_batch(void)
{
	struct shr_params p = params();
	struct shr_engine *e;
	uint64_t maps;

	twins(1, false);
	e = engine(&p);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "g", NULL), 0);
	run_passes(e, 1);
	p.batch_pages = NR;
	UT_ASSERT_EQ(shr_engine_set_params(e, &p), 0);
	maps = stats(e).mappings;
	run_passes(e, 1);
	UT_ASSERT_EQ(stats(e).mappings - maps, 1);
	done(e);
}

/* ---- domains ------------------------------------------------------------------------ */

/* Results table, -EOPNOTSUPP/-EXDEV/-ENODEV: "shr_engine_add_domain
 * returns it"; -ENOSYS: the hypervisor has no sharing (an error naming
 * hypervisor-patch/); a domain that does not exist or is dying: -ESRCH.
 * None of them is left in the engine. */
static void test_add_refused(void)
{
	static const int errs[] = { -EOPNOTSUPP, -EXDEV, -ENODEV };
	struct shr_params p = params();
	struct dom_seen seen = { 0 };
	struct shr_engine *e;

	fix_host(4096, false, 4, NR);
	log_capture();
	e = engine(&p);
	for (int i = 0; i < 3; i++) {
		fx_dom_refuse(1, errs[i]);
		UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "g", NULL), errs[i]);
	}
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "d1 add: sharing refused"), 3);
	UT_ASSERT_EQ(add(e, 9, SHR_MODE_ON, "g", NULL), -ESRCH);
	fx_dom_set_dying(2);
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ON, "g", NULL), -ESRCH);
	UT_ASSERT_EQ(fx_inject(FX_NR_GFNS, 3, FX_ANY_GFN, 1, 1, -ESRCH), 0);
	UT_ASSERT_EQ(add(e, 3, SHR_MODE_ON, "g", NULL), -ESRCH);
	UT_ASSERT_EQ(shr_engine_foreach_domain(e, collect, &seen), 0);
	UT_ASSERT_EQ(seen.n, 0);
	done(e);

	fx_reset(&(struct fx_cfg){ .host_pages = 4096, .no_mem_sharing = true });
	UT_ASSERT_EQ(fx_dom_create(1, NR), 0);
	log_capture();
	e = engine(&p);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "g", NULL), -ENOSYS);
	UT_ASSERT_EQ(log_count(SHR_LOG_ERR, "CONFIG_MEM_SHARING"), 1);
	shr_engine_free(e);
}

/* Proves add's fallbacks: a memshr_control error other than a refusal is
 * warned and the domain added (the first nominate enables sharing too);
 * a maximum_gpfn that fails (a filtering privcmd) is replaced by
 * max_pages; a domain mode off is added without turning sharing on and
 * is not scanned. */
static void test_add_fallbacks(void)
{
	struct shr_params p = params();
	struct shr_engine *e;
	uint64_t controls;

	twins(3, false);
	e = engine(&p);
	UT_ASSERT_EQ(fx_inject(FX_MEMSHR_CONTROL, 1, FX_ANY_GFN, 1, 1, -EFAULT), 0);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "g", NULL), 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "d1 add: memshr_control: errno 14"), 1);
	UT_ASSERT_EQ(fx_inject(FX_NR_GFNS, 2, FX_ANY_GFN, 1, 1, -EPERM), 0);
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ON, "g", NULL), 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_NOTICE, "scanning max_pages 32 gfns"), 1);
	controls = fx_calls(FX_MEMSHR_CONTROL);
	UT_ASSERT_EQ(add(e, 3, SHR_MODE_OFF, "g", NULL), 0);
	UT_ASSERT_EQ(fx_calls(FX_MEMSHR_CONTROL), controls);
	run_passes(e, 1);
	UT_ASSERT_EQ(stats(e).pages_scanned, 2 * NR);
	UT_ASSERT_EQ(stats(e).pages_sharing, NR);
	UT_ASSERT_EQ(dom_stats(e, 3).policy.mode, SHR_MODE_OFF);
	done(e);
}

/* Proves passes and the statistics: after the first pass of three twin
 * domains every duplicate is merged (2 * NR pages saved on NR frames),
 * the statistics read the hypervisor's counters and the engine's own,
 * and a pass that merges nothing more is settled; each domain's view
 * (foreach) agrees with the hypervisor. */
static void test_passes_and_stats(void)
{
	struct shr_params p = params();
	struct shr_domain_stats ds;
	struct shr_engine *e;
	struct shr_stats s;

	twins(3, false);
	p.reserve_pages = 7;
	e = engine(&p);
	for (uint32_t d = 1; d <= 3; d++)
		UT_ASSERT_EQ(add(e, d, SHR_MODE_ON, "g", NULL), 0);
	s = stats(e);
	UT_ASSERT_EQ(s.full_scans, 0);
	UT_ASSERT_EQ(s.pages_indexed, 3 * NR);
	run_passes(e, 1);
	s = stats(e);
	UT_ASSERT_EQ(s.pages_sharing, 2 * NR);
	UT_ASSERT_EQ(s.pages_shared, NR);
	UT_ASSERT_EQ(s.pages_at_risk, 2 * NR);
	UT_ASSERT_EQ(s.engine_pages_sharing, 2 * NR);
	UT_ASSERT_EQ(s.pages_unshared, 0);
	UT_ASSERT_EQ(s.pages_scanned, 3 * NR);
	UT_ASSERT_EQ(s.share_attempts, 2 * NR);
	UT_ASSERT_EQ(s.reserve_pages, 7);
	UT_ASSERT_EQ(s.host_total_pages, 4096);
	CU_ASSERT_FALSE(s.sharing_paused);
	CU_ASSERT_TRUE(s.hypercalls > 4 * NR && s.mappings > 0 && s.mapped_pages >= 3 * NR);
	CU_ASSERT_TRUE(s.index_bytes > 3 * NR * 5 && s.pass_time_s >= 0 && s.cpu_s >= 0);
	CU_ASSERT_FALSE(s.settled);
	UT_ASSERT_EQ(s.protocol_in_use, SHR_PROTO_UPSTREAM);
	ds = dom_stats(e, 2);
	UT_ASSERT_EQ(ds.engine_pages_sharing, NR);
	UT_ASSERT_EQ(ds.shr_pages, NR);
	CU_ASSERT_STRING_EQUAL(ds.policy.group, "g");
	CU_ASSERT_STRING_EQUAL(ds.held.group, "g");
	CU_ASSERT_FALSE(ds.evicting);
	run_passes(e, 1);
	CU_ASSERT_TRUE(stats(e).settled);
	done(e);
}

/* Proves a domain removed mid-pass (its queue flushed, its entries gone,
 * the pass total shrunk) leaves the engine consistent and the pass ends
 * over the others; removing a domain the engine does not know is
 * harmless; the frames whose source left are adopted, so a twin created
 * later joins them. */
static void test_remove_mid_pass(void)
{
	struct shr_params p = params();
	struct shr_engine *e;
	struct shr_stats s;

	twins(3, false);
	UT_ASSERT_EQ(fx_dom_create(4, NR), 0);
	fix_fill(4, 0, NR, 100, 1);
	groups[4] = "g";
	p.batch_pages = 8;
	e = engine(&p);
	for (uint32_t d = 1; d <= 3; d++)
		UT_ASSERT_EQ(add(e, d, SHR_MODE_ON, "g", NULL), 0);
	for (int i = 0; i < 6; i++)
		CU_ASSERT(shr_engine_run(e, 1) >= 0);   /* inside d2 */
	s = stats(e);
	CU_ASSERT_TRUE(s.pass_progress > 0.3 && s.pass_progress < 0.7);
	shr_engine_remove_domain(e, 2);
	shr_engine_remove_domain(e, 77);
	UT_ASSERT_EQ(shr_engine_audit(e), 0);
	run_passes(e, 1);
	s = stats(e);
	UT_ASSERT_EQ(s.pass_progress, 0);
	UT_ASSERT_EQ(s.engine_pages_sharing, NR);        /* d3 on d1's frames */

	/* d1, the frames' source, goes: its frames live on with d2 and d3 */
	shr_engine_remove_domain(e, 1);
	fx_dom_destroy(1);
	UT_ASSERT_EQ(add(e, 4, SHR_MODE_ON, "g", NULL), 0);
	run_passes(e, 2);
	UT_ASSERT_EQ(fx_frame(4, 5), fx_frame(3, 5));
	UT_ASSERT_EQ(fx_sharers(3, 5), 3);
	done(e);
}

/* Proves a change of group of a domain with nothing shared forgets its
 * pages (keyed with the old salt) and takes the new group at once. */
static void test_group_change_nothing_shared(void)
{
	struct shr_params p = params();
	struct shr_engine *e;

	fix_host(4096, false, 1, NR);
	fix_fill(1, 0, NR, 100, 1);
	groups[1] = "a";
	log_capture();
	e = engine(&p);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "a", NULL), 0);
	run_passes(e, 1);
	UT_ASSERT_EQ(stats(e).pages_unshared, NR);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "b", NULL), 0);
	UT_ASSERT_EQ(stats(e).pages_unshared, 0);
	CU_ASSERT_STRING_EQUAL(held_of(e, 1).group, "b");
	CU_ASSERT_FALSE(dom_stats(e, 1).evicting);
	done(e);
}

/* Proves the eviction on a change of group (section 10, engine.c
 * dom_held_check, scan.c evict_batch): a domain moved to another group
 * while it holds shared pages is evicting: its record still holds the
 * old group, it merges nothing, its pages are unshared by the
 * sweep; only when Xen counts no shared page in it does it join its new
 * group, where it merges with the new group's twin.  At no moment does a
 * frame hold pages of two groups (checked after every slice). */
static void test_group_change_evicts(void)
{
	struct shr_params p = params();
	struct shr_domain_record rec;
	struct shr_engine *e;
	bool evicted = false;

	twins(3, false);
	groups[1] = groups[2] = "a";
	groups[3] = "b";
	e = engine(&p);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "a", NULL), 0);
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ON, "a", NULL), 0);
	run_passes(e, 1);
	UT_ASSERT_EQ(stats(e).pages_sharing, NR);

	/* d2 moves to b: it counts as a's until it holds nothing of a's */
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ON, "b", NULL), 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_NOTICE, "d2: 32 pages shared under group a (mode on): "
			       "unsharing them all"), 1);
	CU_ASSERT_TRUE(dom_stats(e, 2).evicting);
	CU_ASSERT_STRING_EQUAL(held_of(e, 2).group, "a");
	UT_ASSERT_EQ(shr_engine_domain_record(e, 9, &rec), -ESRCH);
	UT_ASSERT_EQ(add(e, 3, SHR_MODE_ON, "b", NULL), 0);
	for (int i = 0; i < 1000 && stats(e).full_scans < 4; i++) {
		CU_ASSERT_FATAL(shr_engine_run(e, 1) >= 0);
		if (!dom_stats(e, 2).evicting && !evicted) {
			/* its eviction ended at the start of its pass, when Xen
			 * counted no shared page in it */
			groups[2] = "b";
			evicted = true;
		}
		UT_ASSERT_EQ_FATAL(shr_engine_audit(e), 0);
		UT_ASSERT_EQ_FATAL(fx_mixed_frames(group_of), 0);
	}
	CU_ASSERT_TRUE(evicted);
	CU_ASSERT_STRING_EQUAL(held_of(e, 2).group, "b");
	UT_ASSERT_EQ(fx_frame(2, 4), fx_frame(3, 4));
	CU_ASSERT_NOT_EQUAL(fx_frame(1, 4), fx_frame(2, 4));
	done(e);
}

/* Proves the held record decides at add (section 10): with pages on
 * shared frames, no record (unknown origin), a record of another group,
 * or content shared under mode on for a domain now in mode zero means
 * evicting; a record that covers the policy (same group; zero pages held
 * under zero, now on) does not, and the held policy becomes the policy.
 * A domain with nothing shared takes its policy whatever the record. */
static void test_held_records(void)
{
	static const struct {
		bool shared;
		bool has_held;
		enum shr_mode held_mode, mode;
		const char *held_group;
		bool evicting;
	} cases[] = {
		{ true, false, SHR_MODE_ON, SHR_MODE_ON, "", true },
		{ true, true, SHR_MODE_ON, SHR_MODE_ON, "g", false },
		{ true, true, SHR_MODE_ON, SHR_MODE_ON, "h", true },
		{ true, true, SHR_MODE_ON, SHR_MODE_ZERO, "g", true },
		{ true, true, SHR_MODE_ZERO, SHR_MODE_ON, "g", false },
		{ true, true, SHR_MODE_ON, SHR_MODE_OFF, "h", false },
		{ false, false, SHR_MODE_ON, SHR_MODE_ON, "", false },
		{ false, true, SHR_MODE_ON, SHR_MODE_ON, "h", false },
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct shr_domain_policy held = policy(cases[i].held_mode, cases[i].held_group);
		struct shr_params p = params();
		struct shr_domain_policy got;
		struct shr_engine *e;
		uint64_t h1, h2;


		twins(2, false);
		if (cases[i].shared) {
			/* shared before this engine, as a previous one would have */
			UT_ASSERT_EQ(fx_nominate(1, 3, &h1), 0);
			UT_ASSERT_EQ(fx_nominate(2, 3, &h2), 0);
			UT_ASSERT_EQ(fx_share(1, 3, h1, 2, 3, h2), 0);
		}
		e = engine(&p);
		UT_ASSERT_EQ(add(e, 2, cases[i].mode, "g", cases[i].has_held ? &held : NULL), 0);
		UT_ASSERT_EQ(dom_stats(e, 2).evicting, cases[i].evicting);
		/* an evicting domain's record keeps what it holds (or nothing) */
		got = held_of(e, 2);
		if (cases[i].evicting)
			CU_ASSERT_STRING_EQUAL(got.group, cases[i].has_held ?
					       cases[i].held_group : "");
		if (!cases[i].evicting && cases[i].mode != SHR_MODE_OFF) {
			UT_ASSERT_EQ(got.mode, cases[i].mode);
			CU_ASSERT_STRING_EQUAL(got.group, "g");
		}
		if (cases[i].evicting) {
			run_passes(e, 2);
			CU_ASSERT_FALSE(dom_stats(e, 2).evicting);
			UT_ASSERT_EQ(fx_sharers(2, 3), -EINVAL);
		}
		done(e);
	}
}

/* Proves a change of mode from on to zero while content pages are shared
 * evicts (content shared under on may not stay under zero), after which
 * only zero pages are merged. */
static void test_mode_on_to_zero_evicts(void)
{
	struct shr_params p = params();
	struct shr_engine *e;

	twins(2, false);
	fix_fill(1, NR / 2, NR / 2, 0, 0);
	fix_fill(2, NR / 2, NR / 2, 0, 0);
	e = engine(&p);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "g", NULL), 0);
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ON, "g", NULL), 0);
	run_passes(e, 1);
	/* NR / 2 content pages, and 2 * NR / 2 zero pages on one frame */
	UT_ASSERT_EQ(stats(e).pages_sharing, NR / 2 + NR - 1);
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ZERO, "g", NULL), 0);
	CU_ASSERT_TRUE(dom_stats(e, 2).evicting);
	run_passes(e, 3);
	CU_ASSERT_FALSE(dom_stats(e, 2).evicting);
	UT_ASSERT_EQ(fx_sharers(2, 0), -EINVAL);         /* content: private */
	UT_ASSERT_EQ(fx_frame(2, NR - 1), fx_frame(1, NR - 1));   /* zero: shared */
	UT_ASSERT_EQ(dom_stats(e, 2).held.mode, SHR_MODE_ZERO);
	done(e);
}

/* ---- running ------------------------------------------------------------------------ */

/* Proves run's answers: nothing to scan asks for a 1 s sleep; free memory
 * below the reserve asks the need-memory callback and the run goes on
 * sharing (reserve_ut and merge_ut prove the pause a share ENOMEM makes);
 * a hypervisor without sharing found by a nominate stops the engine's work
 * (1 s, nothing tried any more). */
static uint64_t needed;

static void need_memory(void *arg, uint64_t pages)
{
	(void)arg;
	needed = pages;
}

static void test_run_answers(void)
{
	struct shr_params p = params();
	struct shr_engine *e;
	uint64_t maps;

	twins(2, false);
	p.reserve_pages = 100;
	e = engine(&p);
	shr_engine_set_need_memory_fn(e, need_memory, NULL);
	UT_ASSERT_EQ(shr_engine_run(e, 1000000), 1000000000);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "g", NULL), 0);
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ON, "g", NULL), 0);
	fx_host_set_free(60);
	needed = 0;
	/* the host is read at most every 100 ms: events force a reading */
	UT_ASSERT_EQ(shr_engine_handle_events(e), 0);
	maps = stats(e).mappings;
	CU_ASSERT(shr_engine_run(e, 1000000) < 200000000);
	CU_ASSERT(stats(e).mappings > maps);
	UT_ASSERT_EQ(needed, 40);
	CU_ASSERT_FALSE(stats(e).sharing_paused);
	UT_ASSERT_EQ(stats(e).pages_needed, 40);

	fx_host_set_free(1000);
	UT_ASSERT_EQ(shr_engine_handle_events(e), 0);
	UT_ASSERT_EQ(stats(e).pages_needed, 0);
	UT_ASSERT_EQ(fx_inject(FX_NOMINATE, FX_ANY_DOM, FX_ANY_GFN, 1, 0, -ENOSYS), 0);
	while (!fx_calls(FX_NOMINATE))
		CU_ASSERT_FATAL(shr_engine_run(e, 1) >= 0);
	maps = stats(e).mappings;
	UT_ASSERT_EQ(shr_engine_run(e, 1000000), 1000000000);
	UT_ASSERT_EQ(stats(e).mappings, maps);
	UT_ASSERT_EQ(fx_calls(FX_NOMINATE), 1);
	done(e);
}

/* Proves log rounds cut short by the slice's budget do not wait for the
 * pass's schedule: with a pass target of an hour (the next pass far
 * away) and cpu_cap 100%, a slice of 1 ns whose rounds are left over asks
 * to be run again at once, where a slice with nothing left sleeps. */
static void test_rounds_left_run_at_once(void)
{
	struct shr_params p = params();
	struct shr_engine *e;
	struct timespec ts = { 1, 100000000 };
	uint64_t scanned;

	twins(2, false);
	fx_dom_set_ring(1, NR - 2);
	fx_dom_set_ring(2, NR - 2);
	e = engine(&p);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "g", NULL), 0);
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ON, "g", NULL), 0);
	run_passes(e, 3);                          /* full, the log taken, a round */
	CU_ASSERT_TRUE(dom_stats(e, 1).logdirty);
	p.pass_target_s = 3600;
	UT_ASSERT_EQ(shr_engine_set_params(e, &p), 0);
	for (uint32_t g = 0; g < NR - 2; g++)
		UT_ASSERT_EQ(fx_write(1, g, 7000 + g), 0);
	nanosleep(&ts, NULL);                      /* a round period */
	scanned = stats(e).pages_scanned;
	UT_ASSERT_EQ(shr_engine_run(e, 1), 0);
	for (int i = 0; i < 100 && shr_engine_run(e, 1) == 0; i++)
		;
	/* every written page looked at (those it found changed perhaps
	 * twice, once found the same) */
	CU_ASSERT(stats(e).pages_scanned >= scanned + NR - 2);
	CU_ASSERT(shr_engine_run(e, 1000000) > 0);
	done(e);
}

/* Proves foreach stops when its function says so, and marks a domain the
 * hypervisor no longer has as gone (no longer scanned). */
static int stop_after_one(const struct shr_domain_stats *s, void *arg)
{
	(void)s;
	++*(int *)arg;
	return 7;
}

static void test_foreach(void)
{
	struct shr_params p = params();
	struct shr_engine *e;
	uint64_t maps;
	int calls = 0;

	twins(2, false);
	e = engine(&p);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "g", NULL), 0);
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ON, "g", NULL), 0);
	UT_ASSERT_EQ(shr_engine_foreach_domain(e, stop_after_one, &calls), 7);
	UT_ASSERT_EQ(calls, 1);
	fx_dom_destroy(2);
	(void)dom_stats(e, 2);
	maps = stats(e).mappings;
	run_passes(e, 1);
	UT_ASSERT_EQ(stats(e).mappings - maps, NR / p.batch_pages);
	done(e);
}

/* Proves the engine's side of a stop and a restart through the API (the
 * stop protocol of section 7): a ring request that cannot be answered
 * makes the event fd readable and is counted by handle_events; freeing
 * the engine leaves the ring enabled with the request on it; the next
 * engine takes it over and the vCPU runs again.  Without libxenevtchn
 * there is no event fd. */
static void test_events_stop_restart(void)
{
	struct shr_params p = fix_params();
	struct fx_dom_stats ds;
	struct shr_engine *e;
	struct pollfd pfd;

	twins(2, false);
	fx_dom_set_ring(2, NR - 1);
	e = engine(&p);
	UT_ASSERT_EQ(add(e, 1, SHR_MODE_ON, "g", NULL), 0);
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ON, "g", NULL), 0);
	run_passes(e, 1);
	fx_host_set_free(0);
	UT_ASSERT_EQ(fx_write(2, 3, 999), FX_PAUSED);
	pfd = (struct pollfd){ .fd = shr_engine_event_fd(e), .events = POLLIN };
	UT_ASSERT_EQ(poll(&pfd, 1, 0), 1);
	UT_ASSERT_EQ(shr_engine_handle_events(e), 0);
	UT_ASSERT_EQ(stats(e).memory_requests, 1);
	UT_ASSERT_EQ(poll(&pfd, 1, 0), 0);
	done(e);
	UT_ASSERT_EQ(fx_dom(2, &ds), 0);
	CU_ASSERT_TRUE(ds.ring_enabled && !ds.ring_bound);
	UT_ASSERT_EQ(ds.ring_paused, 1);

	e = engine(&p);
	UT_ASSERT_EQ(add(e, 2, SHR_MODE_ON, "g", NULL), 0);
	UT_ASSERT_EQ(fx_dom(2, &ds), 0);
	UT_ASSERT_EQ(ds.ring_paused, 0);
	CU_ASSERT_TRUE(ds.ring_enabled && ds.ring_bound);
	done(e);

	fx_reset(&(struct fx_cfg){ .host_pages = 64, .no_evtchn = true });
	e = engine(&p);
	UT_ASSERT_EQ(shr_engine_event_fd(e), -1);
	shr_engine_free(e);
}

UT_MAIN("engine", NULL, NULL,
	UT(test_bad_params),
	UT(test_protocol_and_open),
	UT(test_set_params_batch),
	UT(test_add_refused),
	UT(test_add_fallbacks),
	UT(test_passes_and_stats),
	UT(test_remove_mid_pass),
	UT(test_group_change_nothing_shared),
	UT(test_group_change_evicts),
	UT(test_held_records),
	UT(test_mode_on_to_zero_evicts),
	UT(test_run_answers),
	UT(test_rounds_left_run_at_once),
	UT(test_foreach),
	UT(test_events_stop_restart))
