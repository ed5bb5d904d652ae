/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * core_fixture.c - the engine's parts over the fake Xen for the unit tests
 * of the core (see core_fixture.h).
 *
 * fix_open() starts the parts in engine.c's order (doms, reserve, merge,
 * scan) and fix_close() stops them in its order (flush, the reserve's stop
 * protocol, scan, merge, doms, Xen).  fix_pass() is engine.c's pass without
 * its schedule: one round period later, the log rounds (shr_scan_rounds),
 * then every cursor to 0, batches until the end, a flush.
 */
#include "core_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "ut_common.h"

struct shr_params fix_params(void)
{
	return (struct shr_params){
		.batch_pages = 16, .max_sharers = 256, .pass_target_s = 0, .cpu_cap = 1,
		.reserve_pages = 0, .settle_ratio = 0.001, .protocol = SHR_PROTO_UPSTREAM,
	};
}

void fix_open(struct fix *f, const struct shr_params *params)
{
	uint8_t secret[SHR_FP_SECRET_SIZE];

	memset(f, 0, sizeof(*f));
	f->params = *params;
	for (unsigned int i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 37 + 11);
	shr_fp_key_from_secret(&f->key, secret);
	shr_doms_init(&f->doms, &f->key);
	CU_ASSERT_EQUAL_FATAL(shr_xen_open(&f->xen), 0);
	CU_ASSERT_EQUAL_FATAL(shr_reserve_init(&f->reserve, &f->params, f->xen, &f->doms), 0);
	CU_ASSERT_EQUAL_FATAL(shr_merge_init(&f->merge, &f->params, f->xen, &f->doms,
					     &f->reserve, &f->key, &f->st), 0);
	CU_ASSERT_EQUAL_FATAL(shr_scan_init(&f->scan, &f->params, f->xen, &f->doms, &f->merge,
					    &f->key, &f->st), 0);
}

void fix_kill(struct fix *f)
{
	shr_scan_fini(&f->scan);
	shr_merge_fini(&f->merge);
	shr_doms_fini(&f->doms);
	shr_xen_close(f->xen);
	f->xen = NULL;
}

void fix_close(struct fix *f)
{
	shr_merge_flush(&f->merge);
	for (unsigned int i = 0; i < f->doms.nr; i++)
		shr_scan_forget_domain(&f->scan, f->doms.v[i]);
	shr_reserve_fini(&f->reserve);
	shr_scan_fini(&f->scan);
	shr_merge_fini(&f->merge);
	shr_doms_fini(&f->doms);
	shr_xen_close(f->xen);
	f->xen = NULL;
}

struct shr_dom *fix_add(struct fix *f, uint32_t domid, enum shr_mode mode, const char *group)
{
	struct shr_dom *d = NULL;
	uint64_t nr = 0, pfn = 0;

	CU_ASSERT_EQUAL_FATAL(shr_xen_nr_gfns(f->xen, domid, &nr), 0);
	CU_ASSERT_EQUAL_FATAL(shr_dom_insert(&f->doms, domid, "t", nr, &d), 0);
	CU_ASSERT_EQUAL_FATAL(shr_dom_set_group(&f->doms, d, group), 0);
	d->policy.mode = mode;
	snprintf(d->policy.group, sizeof(d->policy.group), "%s", f->doms.groups[d->group]);
	d->held = d->policy;
	CU_ASSERT_EQUAL_FATAL(shr_xen_dominfo(f->xen, domid, &d->info), 0);
	if (mode != SHR_MODE_OFF)
		CU_ASSERT_EQUAL_FATAL(shr_xen_memshr_control(f->xen, domid, true), 0);
	if (shr_xen_ring_pfn(f->xen, domid, &pfn) == 0 && pfn)
		d->ring_gfn = pfn;
	if (mode != SHR_MODE_OFF && !f->params.no_rings)
		shr_reserve_ring_attach(&f->reserve, d);       /* -ENOENT: no ring page */
	return d;
}

void fix_pass(struct fix *f)
{
	f->clock += SHR_LOG_ROUND_S;
	shr_scan_rounds(&f->scan, f->clock, HUGE_VAL);
	f->scan.pages_total = 0;
	f->scan.pages_done = 0;
	for (unsigned int i = 0; i < f->doms.nr; i++) {
		struct shr_dom *d = f->doms.v[i];

		d->cursor = 0;
		if (shr_dom_scannable(d))
			f->scan.pages_total += d->pages.nr;
	}
	if (f->scan.pages_total)
		while (shr_scan_batch(&f->scan) > 0)
			;
	shr_merge_flush(&f->merge);
	f->scan.pass++;
	f->scan.pages_total = 0;
}

void fix_passes(struct fix *f, unsigned int n)
{
	while (n--)
		fix_pass(f);
}

int fix_audit(const struct fix *f)
{
	return shr_audit_walk(&f->doms, f->merge.nr_pairs, shr_xen_counters(f->xen)->live_mappings);
}

void fix_done(struct fix *f)
{
	struct fx_host_stats h;

	UT_ASSERT_EQ(fix_audit(f), 0);
	UT_ASSERT_EQ(fx_check(), 0);
	fx_host(&h);
	UT_ASSERT_EQ(h.nominate_while_mapped, 0);
	UT_ASSERT_EQ(h.ring_page_maps, 0);
	UT_ASSERT_EQ(h.bad_unmaps, 0);
	CU_ASSERT_PTR_NULL(h.panic);
	fix_close(f);
}

void fix_fill(uint32_t domid, uint64_t first, uint64_t n, uint64_t c0, uint64_t step)
{
	for (uint64_t i = 0; i < n; i++)
		UT_ASSERT_EQ_FATAL(fx_write(domid, first + i, c0 + i * step), 0);
}

void fix_host(uint64_t host_pages, bool patched, unsigned int nr_doms, uint64_t nr_gfns)
{
	fx_reset(&(struct fx_cfg){ .host_pages = host_pages, .patched = patched });
	for (unsigned int i = 1; i <= nr_doms; i++)
		UT_ASSERT_EQ_FATAL(fx_dom_create(i, nr_gfns), 0);
}

uint8_t fix_byte(const struct fix *f, uint32_t domid, uint32_t gfn)
{
	const struct shr_dom *d = shr_dom_find(&f->doms, domid);

	CU_ASSERT_FATAL(d && gfn < d->pages.nr);
	return d->pages.pstate[gfn];
}

enum shr_pstate fix_state(const struct fix *f, uint32_t domid, uint32_t gfn)
{
	return shr_ps_state(fix_byte(f, domid, gfn));
}
