/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fault_ut.c - unit tests of xensim's fault injection (tools/xensim/fault.c
 * and its hooks in the hypervisor model): the --faults syntax, determinism
 * per seed and per kind, the rate, that an injected failure leaves the host
 * exactly as if the call had never been made, and that only errors Xen
 * could give in that state are injected.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "tools/xensim/hv_internal.h"
#include "hypervisor-patch/include/xenshare_cmpshr.h"
#include "ut_common.h"

/* ---- helpers ------------------------------------------------------------- */

/* A --faults configuration: every kind in kinds at rate. */
static struct sim_fault_config cfg_of(uint64_t seed, double rate, unsigned int kinds)
{
	struct sim_fault_config c = { .enabled = true, .seed = seed, .rate = rate, .kinds = kinds };

	for (unsigned int k = 0; k < SIM_FK_NR; k++)
		c.rates[k] = rate;
	return c;
}

static struct sim_hv *mk_hv(uint64_t seed, double rate, unsigned int kinds, bool patched)
{
	struct sim_hv_config cfg = {
		.nr_frames = 2048, .dom0_pages = 16, .cpu_vmx = true, .debug_build = true,
		.patched = patched,
		.faults = cfg_of(seed, rate, kinds),
	};
	struct sim_hv *hv = NULL;

	CU_ASSERT_FATAL(sim_hv_create(&cfg, &hv) == 0);
	CU_ASSERT_FATAL(sim_hv_faults(hv) != NULL);
	return hv;
}

static uint32_t mk_dom(struct sim_hv *hv, uint64_t pages)
{
	struct sim_dom_spec spec = { .type = SIM_DOM_HVM, .nr_pages = pages, .vcpus = 1 };
	uint32_t domid = 0;

	snprintf(spec.name, sizeof(spec.name), "g%llu", (unsigned long long)pages);
	CU_ASSERT_FATAL(sim_hv_domain_create(hv, &spec, &domid) == 0);
	return domid;
}

static void fill(struct sim_hv *hv, uint32_t dom, uint64_t gfn, int byte)
{
	uint8_t page[SIM_PAGE_SIZE];

	memset(page, byte, sizeof(page));
	CU_ASSERT(sim_hv_guest_write(hv, dom, 0, gfn, 0, page, sizeof(page)) == 0);
}

/* A call as the server makes it: armed, then disarmed whatever happened. */
static int nominate(struct sim_hv *hv, uint32_t dom, uint64_t gfn, uint64_t *h)
{
	int rc;

	sim_fault_arm(sim_hv_faults(hv), SIM_FOP_NOMINATE);
	rc = sim_hv_nominate_gfn(hv, dom, gfn, h);
	sim_fault_disarm(sim_hv_faults(hv));
	return rc;
}

static int share(struct sim_hv *hv, uint32_t s, uint64_t sg, uint64_t sh, uint32_t c,
		 uint64_t cg, uint64_t ch)
{
	int rc;

	sim_fault_arm(sim_hv_faults(hv), SIM_FOP_SHARE);
	rc = sim_hv_share(hv, s, sg, sh, c, cg, ch);
	sim_fault_disarm(sim_hv_faults(hv));
	return rc;
}

static uint64_t injected(struct sim_hv *hv, enum sim_fault_kind k)
{
	struct sim_fault_stats st;

	sim_faults_stats(sim_hv_faults(hv), &st);
	return st.injected[k];
}

/*
 * Everything the host is: the frame table, every p2m, oracle, counter,
 * vCPU, ring and mapping, the handle counter and each domain's sharing
 * switch -- all but the injector itself and creation times.  Equal digests
 * before and after a call: the call left no trace.
 */
static uint64_t host_digest(struct sim_hv *hv)
{
	XXH3_state_t *st = XXH3_createState();
	uint64_t d;

	XXH3_64bits_reset(st);
	sim_lock(hv);
	XXH3_64bits_update(st, hv->frames, hv->nr_frames * sizeof(*hv->frames));
	XXH3_64bits_update(st, &hv->free_head, sizeof(hv->free_head));
	XXH3_64bits_update(st, &hv->nr_free, sizeof(hv->nr_free));
	XXH3_64bits_update(st, &hv->next_handle, sizeof(hv->next_handle));
	XXH3_64bits_update(st, &hv->nr_saved, sizeof(hv->nr_saved));
	XXH3_64bits_update(st, &hv->nr_shared, sizeof(hv->nr_shared));
	XXH3_64bits_update(st, &hv->shared_free, sizeof(hv->shared_free));
	for (uint32_t i = 0; i < hv->shared_cap; i++) {
		const struct sim_shared *s = &hv->shared[i];

		XXH3_64bits_update(st, &s->handle, sizeof(s->handle));
		XXH3_64bits_update(st, &s->mfn, sizeof(s->mfn));
		XXH3_64bits_update(st, &s->nr, sizeof(s->nr));
		if (s->nr)
			XXH3_64bits_update(st, s->rmap, s->nr * sizeof(*s->rmap));
	}
	for (uint32_t id = 0; id < 16; id++) {
		const struct sim_dom *dm = hv->doms[id];

		if (!dm)
			continue;
		XXH3_64bits_update(st, &id, sizeof(id));
		XXH3_64bits_update(st, dm->p2m, dm->nr_gfns * sizeof(*dm->p2m));
		XXH3_64bits_update(st, dm->oracle, dm->nr_gfns * sizeof(*dm->oracle));
		XXH3_64bits_update(st, &dm->tot_pages, sizeof(dm->tot_pages));
		XXH3_64bits_update(st, &dm->shr_pages, sizeof(dm->shr_pages));
		XXH3_64bits_update(st, &dm->sharing_enabled, sizeof(dm->sharing_enabled));
		XXH3_64bits_update(st, &dm->pause_count, sizeof(dm->pause_count));
		XXH3_64bits_update(st, &dm->ring_enabled, sizeof(dm->ring_enabled));
		XXH3_64bits_update(st, dm->recent_nom, sizeof(dm->recent_nom));
		XXH3_64bits_update(st, &dm->recent_n, sizeof(dm->recent_n));
		for (uint32_t v = 0; v < dm->nr_vcpus; v++) {
			XXH3_64bits_update(st, &dm->vcpus[v].vm_event_pause_count, sizeof(int));
			XXH3_64bits_update(st, &dm->vcpus[v].enomem_paused, sizeof(bool));
		}
	}
	for (const struct sim_map_owner *o = hv->owners; o; o = o->next) {
		if (!o->used)
			continue;   /* a client's empty table holds nothing */
		XXH3_64bits_update(st, &o->id, sizeof(o->id));
		XXH3_64bits_update(st, &o->used, sizeof(o->used));
		for (uint32_t i = 0; i < o->cap; i++)
			if (o->slots[i].mfn != SIM_MFN_NONE)
				XXH3_64bits_update(st, &o->slots[i], sizeof(o->slots[i]));
	}
	sim_unlock(hv);
	d = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	/* and the memory itself */
	return d ^ (uint64_t)sim_hv_verify(hv, NULL, 0) * 0x9e3779b97f4a7c15ULL;
}

/* ---- the --faults syntax -------------------------------------------------------- */

/* SEED:RATE[:KINDS] is parsed, every bad part refused with a reason. */
static void test_parse(void)
{
	struct sim_fault_config c;
	char err[256];

	CU_ASSERT(sim_fault_parse("42:0.01", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.enabled && c.seed == 42 && c.rate == 0.01 && c.kinds == (1u << SIM_FK_NR) - 1);
	CU_ASSERT(sim_fault_parse("0x10:1:hypercall,events", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.seed == 16 && c.rate == 1 &&
		  c.kinds == (1u << SIM_FK_HYPERCALL | 1u << SIM_FK_EVT_DROP | 1u << SIM_FK_EVT_DOUBLE));
	CU_ASSERT(sim_fault_parse("1:0:map", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.kinds == (1u << SIM_FK_MAP_CALL | 1u << SIM_FK_MAP_PAGE));
	CU_ASSERT(sim_fault_parse("1:0.5:xenstore,map-page", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.kinds == (1u << SIM_FK_XS_TXN | 1u << SIM_FK_MAP_PAGE));
	/* a kind may carry its own rate */
	CU_ASSERT(sim_fault_parse("1:0.01:hypercall,events=0.5", &c, err, sizeof(err)) == 0);
	CU_ASSERT(c.rates[SIM_FK_HYPERCALL] == 0.01 && c.rates[SIM_FK_EVT_DROP] == 0.5 &&
		  c.rates[SIM_FK_EVT_DOUBLE] == 0.5);
	CU_ASSERT(c.kinds == (1u << SIM_FK_HYPERCALL | 1u << SIM_FK_EVT_DROP | 1u << SIM_FK_EVT_DOUBLE));
	static const char *const bad[] = {
		"", "42", ":0.1", "42:", "x:0.1", "-1:0.1", "42:1.5", "42:-0.1", "42:nan",
		"42:0.1x", "42:0.1:", "42:0.1:nothing", "42:0.1:hypercall,,", "42:0.1:all,bogus",
		"42:0.1:events=2", "42:0.1:events=", "42:0.1:events=x", "42:0.1:=0.5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT(sim_fault_parse(bad[i], &c, err, sizeof(err)) == -EINVAL);
		CU_ASSERT(err[0] != '\0');
		CU_ASSERT(!c.enabled);
	}
}

/* ---- determinism and rate --------------------------------------------------------- */

static void draws(struct sim_faults *f, enum sim_fault_kind k, unsigned int n, uint8_t *out)
{
	for (unsigned int i = 0; i < n; i++)
		out[i] = sim_fault_draw(f, k, NULL);
}

/*
 * The same seed gives the same faults; another seed others; one kind's
 * faults do not move when draws of another kind come in between; an
 * inactive injector (the command line's requests) draws nothing.
 */
static void test_deterministic(void)
{
	struct sim_fault_config c = cfg_of(99, 0.3, (1u << SIM_FK_NR) - 1);
	struct sim_faults *a, *b;
	uint8_t da[400], db[400], dc[400];

	CU_ASSERT_FATAL(sim_faults_create(&c, &a) == 0 && sim_faults_create(&c, &b) == 0);
	draws(a, SIM_FK_HYPERCALL, 400, da);
	for (unsigned int i = 0; i < 400; i++) {
		/* b interleaves other kinds and inactive stretches */
		sim_fault_draw(b, SIM_FK_MAP_PAGE, NULL);
		sim_faults_set_active(b, false);
		CU_ASSERT(!sim_fault_draw(b, SIM_FK_HYPERCALL, NULL));
		sim_faults_set_active(b, true);
		db[i] = sim_fault_draw(b, SIM_FK_HYPERCALL, NULL);
	}
	CU_ASSERT(memcmp(da, db, sizeof(da)) == 0);
	sim_faults_destroy(a);
	sim_faults_destroy(b);

	c.seed = 100;
	CU_ASSERT_FATAL(sim_faults_create(&c, &a) == 0);
	draws(a, SIM_FK_HYPERCALL, 400, dc);
	CU_ASSERT(memcmp(da, dc, sizeof(da)) != 0);
	/* another kind of the same seed is another stream */
	draws(a, SIM_FK_MAP_PAGE, 400, dc);
	CU_ASSERT(memcmp(da, dc, sizeof(da)) != 0);
	sim_faults_destroy(a);

	/* a kind that is not enabled never hits and draws nothing */
	c = cfg_of(100, 1, 1u << SIM_FK_HYPERCALL);
	CU_ASSERT_FATAL(sim_faults_create(&c, &a) == 0);
	CU_ASSERT(!sim_fault_draw(a, SIM_FK_XS_TXN, NULL));
	CU_ASSERT(sim_fault_draw(a, SIM_FK_HYPERCALL, NULL));
	{
		struct sim_fault_stats st;

		sim_faults_stats(a, &st);
		CU_ASSERT(st.draws[SIM_FK_XS_TXN] == 0 && st.draws[SIM_FK_HYPERCALL] == 1);
	}
	sim_faults_destroy(a);
	/* and no injector at all (faults off) is a valid NULL */
	CU_ASSERT(!sim_fault_draw(NULL, SIM_FK_HYPERCALL, NULL));
	CU_ASSERT(sim_fault_fire(NULL, SIM_FOP_NOMINATE, SIM_FC_CALL, "x") == 0);
}

/* The rate is honoured: 0 never, 1 always, 0.01 and 0.2 within 6 sigma over 10^5 draws. */
static void test_rate(void)
{
	static const double rates[] = { 0, 0.01, 0.2, 1 };

	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		struct sim_fault_config c = cfg_of(1234 + r, rates[r], (1u << SIM_FK_NR) - 1);
		struct sim_faults *f;
		const unsigned int n = 100000;
		unsigned int hits = 0;
		double sigma = sqrt(n * rates[r] * (1 - rates[r]));

		CU_ASSERT_FATAL(sim_faults_create(&c, &f) == 0);
		for (unsigned int i = 0; i < n; i++)
			hits += sim_fault_draw(f, SIM_FK_EVT_DROP, NULL);
		CU_ASSERT(fabs(hits - n * rates[r]) <= 6 * sigma + 0.5);
		sim_faults_destroy(f);
	}
	/* a kind's own rate: all of one kind, none of another */
	{
		struct sim_fault_config c;
		struct sim_faults *f;
		char err[128];
		unsigned int drops = 0, calls = 0;

		CU_ASSERT_FATAL(sim_fault_parse("3:0:hypercall,event-drop=1", &c, err, sizeof(err)) == 0);
		CU_ASSERT_FATAL(sim_faults_create(&c, &f) == 0);
		for (int i = 0; i < 1000; i++) {
			drops += sim_fault_draw(f, SIM_FK_EVT_DROP, NULL);
			calls += sim_fault_draw(f, SIM_FK_HYPERCALL, NULL);
		}
		CU_ASSERT(drops == 1000 && calls == 0);
		sim_faults_destroy(f);
	}
}

/* ---- injected failures leave no trace ------------------------------------------------ */

/*
 * At rate 1, every nominate of a page that would become shared fails with
 * one of Xen's errors for it (-ENOMEM, -E2BIG, -EINVAL -- all three show
 * up), and the host is exactly as before, handle counter and the domain's
 * implicit sharing switch included: the next nominate, faults off, gets
 * the handle it would have got.
 */
static void test_nominate_fault_leaves_no_trace(void)
{
	struct sim_hv *hv = mk_hv(5, 1, 1u << SIM_FK_HYPERCALL, false);
	uint32_t a = mk_dom(hv, 64), b = mk_dom(hv, 64);
	unsigned int seen_enomem = 0, seen_e2big = 0, seen_einval = 0;
	uint64_t h = 77, before;

	fill(hv, a, 3, 0x33);
	before = host_digest(hv);
	for (uint64_t g = 0; g < 64; g++) {
		int rc = nominate(hv, a, g, &h);

		CU_ASSERT(rc == -ENOMEM || rc == -E2BIG || rc == -EINVAL);
		seen_enomem += rc == -ENOMEM;
		seen_e2big += rc == -E2BIG;
		seen_einval += rc == -EINVAL;
		CU_ASSERT(host_digest(hv) == before);
	}
	CU_ASSERT(seen_enomem && seen_e2big && seen_einval);
	CU_ASSERT(injected(hv, SIM_FK_HYPERCALL) == 64);
	CU_ASSERT(!hv->doms[a]->sharing_enabled);
	/* without arming, the call is not faulted: handles continue from 1 */
	CU_ASSERT(sim_hv_nominate_gfn(hv, a, 3, &h) == 0 && h == 1);
	/* a call that fails on its own is never faulted (a hole, a foreign domain) */
	CU_ASSERT(nominate(hv, a, 1000, &h) == -EINVAL);
	CU_ASSERT(nominate(hv, 99, 1, &h) == -ESRCH);
	CU_ASSERT(nominate(hv, 0, 1, &h) == -EPERM);
	CU_ASSERT(injected(hv, SIM_FK_HYPERCALL) == 64);
	/* an already shared page can only meet the library's ENOMEM */
	for (int i = 0; i < 8; i++)
		CU_ASSERT(nominate(hv, a, 3, &h) == -ENOMEM);
	(void)b;
	CU_ASSERT(sim_hv_audit(hv) == 0);
	sim_hv_destroy(hv);
}

/*
 * A share that would merge fails with -ENOMEM, -10 or -9 and merges
 * nothing; the same share, faults off, then succeeds.  A share that fails
 * on its own (a stale handle) keeps its own error.
 */
static void test_share_fault_leaves_no_trace(void)
{
	struct sim_hv *hv = mk_hv(6, 1, 1u << SIM_FK_HYPERCALL, false);
	uint32_t a = mk_dom(hv, 16), b = mk_dom(hv, 16);
	unsigned int seen[3] = { 0, 0, 0 };
	uint64_t ha, hb, before;

	fill(hv, a, 1, 0x11);
	fill(hv, b, 1, 0x11);
	CU_ASSERT(sim_hv_nominate_gfn(hv, a, 1, &ha) == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, b, 1, &hb) == 0);
	before = host_digest(hv);
	for (int i = 0; i < 48; i++) {
		int rc = share(hv, a, 1, ha, b, 1, hb);

		CU_ASSERT(rc == -ENOMEM || rc == XENMEM_SHARING_OP_S_HANDLE_INVALID ||
			  rc == XENMEM_SHARING_OP_C_HANDLE_INVALID);
		seen[0] += rc == -ENOMEM;
		seen[1] += rc == XENMEM_SHARING_OP_S_HANDLE_INVALID;
		seen[2] += rc == XENMEM_SHARING_OP_C_HANDLE_INVALID;
		CU_ASSERT(host_digest(hv) == before);
	}
	CU_ASSERT(seen[0] && seen[1] && seen[2]);
	CU_ASSERT(share(hv, a, 1, ha + 100, b, 1, hb) == XENMEM_SHARING_OP_S_HANDLE_INVALID);
	CU_ASSERT(injected(hv, SIM_FK_HYPERCALL) == 48);
	CU_ASSERT(sim_hv_share(hv, a, 1, ha, b, 1, hb) == 0);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 1);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0 && sim_hv_audit(hv) == 0);
	sim_hv_destroy(hv);
}

/*
 * compare_share draws per pair: at rate 1 a pair with a page to nominate
 * fails with a nominate error and leaves no trace; a pair of two pages that
 * are shared already cannot meet one and is shared as usual.
 */
static void test_compare_share_pair_faults(void)
{
	struct sim_hv *hv = mk_hv(7, 1, 1u << SIM_FK_HYPERCALL, true);
	uint32_t a = mk_dom(hv, 16), b = mk_dom(hv, 16);
	xenshare_cmpshr_pair_t p[8];
	uint64_t h, before;

	for (unsigned int i = 0; i < 8; i++) {
		fill(hv, a, i, 0x40 + (int)i);
		fill(hv, b, i, 0x40 + (int)i);
		p[i] = (xenshare_cmpshr_pair_t){ .source_domain = a, .source_gfn = i,
						 .client_domain = b, .client_gfn = i };
	}
	CU_ASSERT(sim_hv_nominate_gfn(hv, a, 7, &h) == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, b, 7, &h) == 0);
	before = host_digest(hv);
	CU_ASSERT(sim_hv_compare_share(hv, p, 7) == 0);
	for (unsigned int i = 0; i < 7; i++)
		CU_ASSERT(p[i].result == -ENOMEM || p[i].result == -E2BIG || p[i].result == -EINVAL);
	CU_ASSERT(host_digest(hv) == before);
	CU_ASSERT(injected(hv, SIM_FK_HYPERCALL) == 7);
	CU_ASSERT(sim_hv_compare_share(hv, p + 7, 1) == 0);
	CU_ASSERT(p[7].result == XENSHARE_CMPSHR_SHARED);
	CU_ASSERT(injected(hv, SIM_FK_HYPERCALL) == 7);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0 && sim_hv_audit(hv) == 0);
	sim_hv_destroy(hv);
}

/*
 * Map faults per page: the page is reported in err[] as privcmd reports a
 * page it could not map (-ENOMEM or -ENOENT), holds no reference, and a
 * writable map of a shared page does not unshare it; pages that cannot be
 * mapped anyway keep their own error.
 */
static void test_map_page_faults(void)
{
	struct sim_hv *hv = mk_hv(8, 1, 1u << SIM_FK_MAP_PAGE, false);
	uint32_t a = mk_dom(hv, 16), b = mk_dom(hv, 16);
	uint64_t gfns[5] = { 0, 1, 2, 3, 500 }, mfns[5], ha, hb, before;
	int err[5];
	struct sim_hv_residue r;

	fill(hv, a, 2, 0x22);
	fill(hv, b, 2, 0x22);
	CU_ASSERT(sim_hv_nominate_gfn(hv, a, 2, &ha) == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, b, 2, &hb) == 0);
	CU_ASSERT(sim_hv_share(hv, a, 2, ha, b, 2, hb) == 0);
	before = host_digest(hv);
	for (int w = 0; w < 2; w++) {
		CU_ASSERT(sim_hv_map(hv, 1, b, gfns, 5, w, mfns, err) == 0);
		for (int i = 0; i < 4; i++)
			CU_ASSERT((err[i] == -ENOMEM || err[i] == -ENOENT) && mfns[i] == SIM_INVALID_MFN);
		CU_ASSERT(err[4] == -EINVAL);
		CU_ASSERT(host_digest(hv) == before);
	}
	sim_hv_get_residue(hv, &r);
	CU_ASSERT(r.foreign_mappings == 0 && r.freed_pages == 1);
	CU_ASSERT(injected(hv, SIM_FK_MAP_PAGE) == 8);
	CU_ASSERT(sim_hv_audit(hv) == 0);
	sim_hv_destroy(hv);
}

/*
 * Same seed, same sequence of calls, same faults, on two hosts, whatever
 * the rate; nothing is injected at rate 0 and the state then evolves as
 * without an injector.
 */
static void test_same_seed_same_faults(void)
{
	int rcs[2][200];

	for (int run = 0; run < 2; run++) {
		struct sim_hv *hv = mk_hv(31337, 0.25, (1u << SIM_FK_NR) - 1, true);
		uint32_t a = mk_dom(hv, 128), b = mk_dom(hv, 128);

		for (int i = 0; i < 100; i++) {
			uint64_t ha = 0, hb = 0;
			int r1 = nominate(hv, a, (uint64_t)i, &ha), r2 = nominate(hv, b, (uint64_t)i, &hb);

			rcs[run][2 * i] = r1 * 100 + r2;
			rcs[run][2 * i + 1] = r1 || r2 ? 1 : share(hv, a, (uint64_t)i, ha, b, (uint64_t)i, hb);
		}
		CU_ASSERT(injected(hv, SIM_FK_HYPERCALL) > 20);
		CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0 && sim_hv_audit(hv) == 0);
		sim_hv_destroy(hv);
	}
	CU_ASSERT(memcmp(rcs[0], rcs[1], sizeof(rcs[0])) == 0);

	struct sim_hv *hv = mk_hv(31337, 0, (1u << SIM_FK_NR) - 1, false);
	uint32_t a = mk_dom(hv, 8);
	uint64_t h;

	for (int i = 0; i < 8; i++)
		CU_ASSERT(nominate(hv, a, (uint64_t)i, &h) == 0 && h == (uint64_t)i + 1);
	CU_ASSERT(injected(hv, SIM_FK_HYPERCALL) == 0);
	sim_hv_destroy(hv);
}

UT_MAIN("fault", NULL, NULL,
	UT(test_parse),
	UT(test_deterministic),
	UT(test_rate),
	UT(test_nominate_fault_leaves_no_trace),
	UT(test_share_fault_leaves_no_trace),
	UT(test_compare_share_pair_faults),
	UT(test_map_page_faults),
	UT(test_same_seed_same_faults))
