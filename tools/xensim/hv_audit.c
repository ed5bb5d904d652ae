/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_audit.c - XENMEM_sharing_op_audit of the simulated hypervisor: the
 * consistency walk of debug builds, and the check every unit test of the
 * model ends with.
 *
 * DOC: Overview
 *
 * Xen's audit() walks the shared frames; this one walks everything the
 * model keeps, under the host lock: the free list against its counter;
 * every frame's state against its owner's p2m (private frames' m2p,
 * shared frames' reverse maps, orphans still referenced, generated frames'
 * counters); every domain's tot_pages, shr_pages and holes against its
 * p2m, and its log-dirty invariants (hv_logdirty.c); the global sharing
 * invariant sum(shr_pages) == nr_saved + nr_shared; and every frame's
 * mapping references against what the clients hold.  Each error is one
 * line on stderr; the return value counts them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "hv_internal.h"
#include "hv_logdirty.h"

#define AUDIT_ERR(...) do { errors++; fprintf(stderr, "xensim hv: audit: " __VA_ARGS__); } while (0)

/*
 * Xen's audit() walks the shared frames; this one also checks the frame
 * table, per-domain counters, mapping references and the global invariant,
 * since the model can afford it.  Debug builds only, as in Xen.
 */
int sim_hv_audit(struct sim_hv *hv)
{
	int errors = 0;
	uint64_t nr_free = 0, shared_found = 0, sum_shr = 0, sum_saved = 0;
	uint64_t gen_found = 0, gen_mat_found = 0;
	uint32_t *refs;

	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	if (!hv->cfg.debug_build)
		return -EOPNOTSUPP;
	refs = calloc(hv->nr_frames, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	sim_lock(hv);
	for (uint32_t m = hv->free_head; m != SIM_MFN_NONE; m = (uint32_t)hv->frames[m].gfn) {
		if (m >= hv->nr_frames || hv->frames[m].state != SIM_FRAME_FREE || ++nr_free > hv->nr_frames) {
			AUDIT_ERR("free list broken at mfn 0x%x\n", m);
			break;
		}
	}
	if (nr_free != hv->nr_free)
		AUDIT_ERR("free list holds %llu frames, counter says %llu\n",
			  (unsigned long long)nr_free, (unsigned long long)hv->nr_free);

	for (uint64_t m = 0; m < hv->nr_frames; m++) {
		struct sim_frame *f = &hv->frames[m];

		if (f->map_rw > f->map_refs)
			AUDIT_ERR("mfn 0x%llx: more writable than total mapping refs\n",
				  (unsigned long long)m);
		if (f->state == SIM_FRAME_FREE && f->map_refs)
			AUDIT_ERR("mfn 0x%llx: free but mapped\n", (unsigned long long)m);
		if (f->state == SIM_FRAME_FREE && f->gen)
			AUDIT_ERR("mfn 0x%llx: free but holds generated content\n", (unsigned long long)m);
		if (f->gen_mat && (!f->gen || !f->map_refs))
			AUDIT_ERR("mfn 0x%llx: materialised generated frame without mapping\n",
				  (unsigned long long)m);
		if (f->gen) {
			gen_found++;
			gen_mat_found += f->gen_mat;
		}
		if (f->state == SIM_FRAME_ORPHAN && !f->map_refs)
			AUDIT_ERR("mfn 0x%llx: orphan without references (leaked)\n",
				  (unsigned long long)m);
		if (f->state == SIM_FRAME_DOM) {
			struct sim_dom *d = sim_dom_get(hv, f->owner);
			uint8_t want = f->special ? SIM_P2M_SPECIAL : SIM_P2M_RAM_RW;

			if (!d || f->gfn >= d->nr_gfns || d->p2m[f->gfn].mfn != m ||
			    d->p2m[f->gfn].type != want)
				AUDIT_ERR("mfn 0x%llx: owned by d%u gfn 0x%llx, p2m disagrees (lost frame)\n",
					  (unsigned long long)m, f->owner, (unsigned long long)f->gfn);
		}
		if (f->state == SIM_FRAME_SHARED) {
			struct sim_shared *s;

			if (f->owner >= hv->shared_cap || !hv->shared[f->owner].handle ||
			    hv->shared[f->owner].mfn != m) {
				AUDIT_ERR("mfn 0x%llx: shared without sharing info\n", (unsigned long long)m);
				continue;
			}
			s = &hv->shared[f->owner];
			if (!s->nr) {
				AUDIT_ERR("mfn 0x%llx shared, but empty gfn list\n", (unsigned long long)m);
				continue;
			}
			shared_found++;
			sum_saved += s->nr - 1;
			for (uint32_t i = 0; i < s->nr; i++) {
				struct sim_gref *g = &s->rmap[i];
				struct sim_dom *d = sim_dom_get(hv, g->domid);

				if (!d || g->gfn >= d->nr_gfns) {
					AUDIT_ERR("Unknown dom %u / gfn 0x%llx for MFN 0x%llx\n", g->domid,
						  (unsigned long long)g->gfn, (unsigned long long)m);
					continue;
				}
				if (d->p2m[g->gfn].mfn != m || d->p2m[g->gfn].type != SIM_P2M_SHARED ||
				    d->p2m[g->gfn].rmap_idx != i)
					AUDIT_ERR("Incorrect P2M for d%u gfn 0x%llx, expecting MFN 0x%llx\n",
						  g->domid, (unsigned long long)g->gfn, (unsigned long long)m);
			}
		}
	}
	if (gen_found != hv->nr_gen || gen_mat_found != hv->nr_gen_mat)
		AUDIT_ERR("generated frames %llu (%llu materialised), counters say %llu (%llu)\n",
			  (unsigned long long)gen_found, (unsigned long long)gen_mat_found,
			  (unsigned long long)hv->nr_gen, (unsigned long long)hv->nr_gen_mat);
	if ((long)shared_found != hv->nr_shared)
		AUDIT_ERR("Expected %ld shared mfns, found %llu\n", hv->nr_shared,
			  (unsigned long long)shared_found);
	if ((long)sum_saved != hv->nr_saved)
		AUDIT_ERR("nr_saved_mfns %ld, rmaps account for %llu\n", hv->nr_saved,
			  (unsigned long long)sum_saved);

	for (uint32_t id = 0; id < SIM_DOMID_MAX; id++) {
		struct sim_dom *d = hv->doms[id];
		uint64_t tot = 0, shr = 0, holes = 0;

		if (!d)
			continue;
		for (uint64_t g = 0; g < d->nr_gfns; g++) {
			struct sim_p2m *e = &d->p2m[g];

			if (e->type == SIM_P2M_HOLE) {
				holes++;
				continue;
			}
			if (e->mfn >= hv->nr_frames) {
				AUDIT_ERR("d%u gfn 0x%llx maps invalid mfn\n", id, (unsigned long long)g);
				continue;
			}
			if (e->type == SIM_P2M_RAM_RW || e->type == SIM_P2M_SPECIAL) {
				struct sim_frame *f = &hv->frames[e->mfn];

				if (e->type == SIM_P2M_RAM_RW)
					tot++;
				if (f->state != SIM_FRAME_DOM || f->owner != id || f->gfn != g)
					AUDIT_ERR("d%u gfn 0x%llx: private mfn 0x%x not owned (m2p)\n", id,
						  (unsigned long long)g, e->mfn);
			} else if (e->type == SIM_P2M_SHARED) {
				shr++;
				if (hv->frames[e->mfn].state != SIM_FRAME_SHARED)
					AUDIT_ERR("d%u gfn 0x%llx: p2m shared, frame is not\n", id,
						  (unsigned long long)g);
			}
		}
		if (tot != d->tot_pages)
			AUDIT_ERR("d%u tot_pages %llu, p2m holds %llu private frames\n", id,
				  (unsigned long long)d->tot_pages, (unsigned long long)tot);
		if (shr != d->shr_pages)
			AUDIT_ERR("d%u shr_pages %llu, p2m holds %llu shared gfns\n", id,
				  (unsigned long long)d->shr_pages, (unsigned long long)shr);
		if (holes != d->nr_holes)
			AUDIT_ERR("d%u nr_holes %llu, p2m holds %llu holes\n", id,
				  (unsigned long long)d->nr_holes, (unsigned long long)holes);
		errors += sim_logdirty_audit(d);
		sum_shr += d->shr_pages;
	}
	if ((long)sum_shr != hv->nr_saved + hv->nr_shared)
		AUDIT_ERR("sum(shr_pages) %llu != nr_saved %ld + nr_shared %ld\n",
			  (unsigned long long)sum_shr, hv->nr_saved, hv->nr_shared);

	for (struct sim_map_owner *o = hv->owners; o; o = o->next) {
		for (uint32_t i = 0; i < o->cap; i++)
			if (o->slots[i].mfn != SIM_MFN_NONE)
				refs[o->slots[i].mfn] += o->slots[i].ro + o->slots[i].rw;
	}
	for (uint64_t m = 0; m < hv->nr_frames; m++)
		if (refs[m] != hv->frames[m].map_refs)
			AUDIT_ERR("mfn 0x%llx: %u mapping refs, owners hold %u\n", (unsigned long long)m,
				  hv->frames[m].map_refs, refs[m]);
	sim_unlock(hv);
	free(refs);
	return errors;
}
