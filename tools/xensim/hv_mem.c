/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_mem.c - guest memory of the simulated hypervisor as the guest and as
 * dom0 see it: guest writes and reads, foreign mappings, and the oracle.
 *
 * DOC: Overview
 *
 * Guest writes go through sim_hv_guest_write(): a write to a shared gfn
 * unshares first (hv_share.c), exactly where Xen's EPT write fault would,
 * and a write to a write-protected gfn of a domain in log-dirty mode takes
 * its log-dirty fault (hv_logdirty.c).  Every successful write stores
 * XXH3-64 of the page's whole new content in the oracle; sim_hv_verify()
 * re-reads every populated gfn through its p2m (with pread(), so that
 * verifying never allocates memory for holes) and compares.  A wrong share,
 * a write into a shared frame or a lost page all show up there.
 *
 * Foreign mappings: sim_hv_map() takes one reference per mapped frame for
 * the owner (a client connection), like privcmd's get_page_from_gfn(), and
 * nominate then gives -E2BIG.  A writable mapping takes no more than a
 * read-only one: dom0's mapping of an HVM/PVH guest's page gets no
 * PGT_writable type reference (get_page_from_l1e(): foreign mappings into
 * a paging_mode_external() guest "don't contribute to writeable mapping
 * refcounts"), so page_make_sharable() gets past its type check and fails
 * on the reference count.  A writable mapping of a shared gfn unshares it
 * first (the mapping's reference then keeps the private page from being
 * nominated again).  Writes made through a writable mapping are
 * foreign writes the oracle cannot see; the oracle takes the page's content
 * when the writable mapping goes away (and verify skips gfns that still
 * have one).  Each owner's mappings are an open-addressing table mfn ->
 * (read-only, writable) counts.
 *
 * Fault injection (fault.h): each page of a foreign map draws a fault;
 * a page that would map is then reported in err[] as privcmd reports a page
 * it could not map, before a writable mapping's unshare or any reference.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv_internal.h"
#include "hv_gen.h"
#include "hv_share.h"

#include <xen/domctl.h>   /* after hv_internal.h: it needs <stdint.h> and __XEN_TOOLS__ */

/* ---- guest side ----------------------------------------------------------- */

int sim_hv_guest_write(struct sim_hv *hv, uint32_t domid, uint32_t vcpu,
		       uint64_t gfn, size_t offset, const void *buf, size_t len)
{
	struct sim_dom *d;
	struct sim_p2m *e;
	uint8_t *page;
	int rc = 0;

	if (offset > SIM_PAGE_SIZE || len > SIM_PAGE_SIZE - offset)
		return -EINVAL;
	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying || d->shutdown) {
		rc = -ESRCH;
		goto out;
	}
	if (vcpu != SIM_HV_LOADER_VCPU) {
		if (vcpu >= d->nr_vcpus) {
			rc = -EINVAL;
			goto out;
		}
		if (d->pause_count || sim_vcpu_paused(&d->vcpus[vcpu])) {
			rc = -EAGAIN;
			goto out;
		}
	}
	if (gfn >= d->nr_gfns) {
		rc = -EINVAL;
		goto out;
	}
	e = &d->p2m[gfn];
	if (e->type == SIM_P2M_SHARED) {
		rc = sim_share_unshare(hv, d, gfn);
		if (rc == -ENOMEM) {
			sim_share_enomem(hv, d, vcpu, gfn, vcpu != SIM_HV_LOADER_VCPU);
			goto out;
		}
		if (rc)
			goto out;
	}
	if (e->type != SIM_P2M_RAM_RW) {
		rc = -EINVAL;   /* a hole, or the ring page (not guest RAM here) */
		goto out;
	}
	sim_logdirty_write_fault(d, gfn);
	sim_gen_make_private(hv, e->mfn);
	page = sim_frame_ptr(hv, e->mfn);
	memcpy(page + offset, buf, len);
	d->oracle[gfn] = sim_page_hash(page);
	sim_oracle_set_gen(d, gfn, false);
out:
	sim_unlock(hv);
	return rc;
}

int sim_hv_guest_read(struct sim_hv *hv, uint32_t domid, uint64_t gfn, void *page)
{
	struct sim_dom *d;
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying) {
		rc = -ESRCH;
	} else if (gfn >= d->nr_gfns || d->p2m[gfn].type == SIM_P2M_HOLE) {
		rc = -EINVAL;
	} else if (hv->frames[d->p2m[gfn].mfn].gen) {
		const uint8_t *c = sim_frame_content(hv, d->p2m[gfn].mfn, page);

		if (c != page)
			memcpy(page, c, SIM_PAGE_SIZE);
	} else if (pread(hv->fd, page, SIM_PAGE_SIZE,
			 (off_t)((uint64_t)d->p2m[gfn].mfn << SIM_PAGE_SHIFT)) != SIM_PAGE_SIZE) {
		rc = -EIO;
	}
	sim_unlock(hv);
	return rc;
}

int sim_hv_wait_resumed(struct sim_hv *hv, uint32_t domid, uint32_t vcpu)
{
	int rc;

	sim_lock(hv);
	for (;;) {
		struct sim_dom *d = sim_dom_get(hv, domid);

		if (!d || d->dying || d->shutdown) {
			rc = -ESRCH;
			break;
		}
		if (vcpu >= d->nr_vcpus) {
			rc = -EINVAL;
			break;
		}
		if (!d->pause_count && !sim_vcpu_paused(&d->vcpus[vcpu])) {
			rc = 0;
			break;
		}
		pthread_cond_wait(&hv->resumed, &hv->lock);
	}
	sim_unlock(hv);
	return rc;
}

/* ---- foreign mappings ----------------------------------------------------- */

static struct sim_map_owner *sim_owner_get(struct sim_hv *hv, uint64_t id, bool create)
{
	struct sim_map_owner *o;

	for (o = hv->owners; o; o = o->next)
		if (o->id == id)
			return o;
	if (!create)
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->id = id;
	o->next = hv->owners;
	hv->owners = o;
	return o;
}

static uint32_t sim_slot_hash(uint32_t mfn, uint32_t cap)
{
	return (mfn * 2654435761u) & (cap - 1);
}

static struct sim_map_slot *sim_slot_find(struct sim_map_owner *o, uint32_t mfn)
{
	if (!o->cap)
		return NULL;
	for (uint32_t i = sim_slot_hash(mfn, o->cap);; i = (i + 1) & (o->cap - 1)) {
		if (o->slots[i].mfn == mfn)
			return &o->slots[i];
		if (o->slots[i].mfn == SIM_MFN_NONE)
			return NULL;
	}
}

static int sim_slot_grow(struct sim_map_owner *o)
{
	uint32_t cap = o->cap ? o->cap * 2 : 64;
	struct sim_map_slot *old = o->slots, *slots;

	slots = malloc(cap * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++)
		slots[i].mfn = SIM_MFN_NONE;
	for (uint32_t i = 0; i < o->cap; i++) {
		uint32_t j;

		if (old[i].mfn == SIM_MFN_NONE)
			continue;
		for (j = sim_slot_hash(old[i].mfn, cap); slots[j].mfn != SIM_MFN_NONE;
		     j = (j + 1) & (cap - 1))
			;
		slots[j] = old[i];
	}
	free(old);
	o->slots = slots;
	o->cap = cap;
	return 0;
}

static struct sim_map_slot *sim_slot_get(struct sim_map_owner *o, uint32_t mfn)
{
	struct sim_map_slot *s = sim_slot_find(o, mfn);
	uint32_t i;

	if (s)
		return s;
	if ((o->used + 1) * 4 > o->cap * 3 && sim_slot_grow(o))
		return NULL;
	for (i = sim_slot_hash(mfn, o->cap); o->slots[i].mfn != SIM_MFN_NONE;
	     i = (i + 1) & (o->cap - 1))
		;
	o->slots[i].mfn = mfn;
	o->slots[i].ro = 0;
	o->slots[i].rw = 0;
	o->used++;
	return &o->slots[i];
}

/* Linear probing deletion by backward shift (no tombstones). */
static void sim_slot_del(struct sim_map_owner *o, struct sim_map_slot *s)
{
	uint32_t mask = o->cap - 1;
	uint32_t i = (uint32_t)(s - o->slots);

	for (uint32_t j = (i + 1) & mask; o->slots[j].mfn != SIM_MFN_NONE; j = (j + 1) & mask) {
		uint32_t home = sim_slot_hash(o->slots[j].mfn, o->cap);

		/* Move j into the hole at i if its home is not in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			o->slots[i] = o->slots[j];
			i = j;
		}
	}
	o->slots[i].mfn = SIM_MFN_NONE;
	o->used--;
}

/* A writable mapping goes away: what was written through it is now the guest's content. */
static void sim_oracle_take(struct sim_hv *hv, uint32_t mfn)
{
	struct sim_frame *f = &hv->frames[mfn];
	struct sim_dom *d;

	if (f->state != SIM_FRAME_DOM || f->special)
		return;
	d = sim_dom_get(hv, f->owner);
	if (d && f->gfn < d->nr_gfns && d->p2m[f->gfn].mfn == mfn &&
	    d->p2m[f->gfn].type == SIM_P2M_RAM_RW) {
		d->oracle[f->gfn] = sim_page_hash(sim_frame_ptr(hv, mfn));
		sim_oracle_set_gen(d, f->gfn, false);
	}
}

/* Drop one mapping reference of o on mfn (read-only first). */
static void sim_map_put(struct sim_hv *hv, struct sim_map_owner *o, struct sim_map_slot *s)
{
	struct sim_frame *f = &hv->frames[s->mfn];
	uint32_t mfn = s->mfn;

	if (s->ro) {
		s->ro--;
	} else {
		s->rw--;
		f->map_rw--;
		sim_oracle_take(hv, mfn);
	}
	f->map_refs--;
	if (!s->ro && !s->rw)
		sim_slot_del(o, s);
	if (!f->map_refs && f->state == SIM_FRAME_ORPHAN)
		sim_frame_free(hv, mfn);
	else if (!f->map_refs)
		sim_gen_dematerialise(hv, mfn);
}

int sim_hv_pfn_types(struct sim_hv *hv, uint32_t domid, const uint64_t *gfns, unsigned int n,
		     uint64_t *types)
{
	struct sim_dom *d;
	int rc = 0;

	if (n > 1024)
		return -E2BIG;
	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying) {
		rc = -ESRCH;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++)
		types[i] = gfns[i] >= d->nr_gfns || d->p2m[gfns[i]].type == SIM_P2M_HOLE ?
			   XEN_DOMCTL_PFINFO_XTAB : XEN_DOMCTL_PFINFO_NOTAB;
out:
	sim_unlock(hv);
	return rc;
}

int sim_hv_map(struct sim_hv *hv, uint64_t owner, uint32_t domid,
	       const uint64_t *gfns, unsigned int n, bool writable,
	       uint64_t *mfns, int *err)
{
	struct sim_map_owner *o;
	struct sim_dom *d;
	unsigned int faulted[2] = { 0, 0 };   /* pages failed with ENOMEM, ENOENT */
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying) {
		rc = -ESRCH;
		goto out;
	}
	o = sim_owner_get(hv, owner, true);
	if (!o) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gfn = gfns[i], pick = 0;
		bool fault = sim_fault_draw(hv->faults, SIM_FK_MAP_PAGE, &pick);
		struct sim_map_slot *s;
		struct sim_frame *f;
		struct sim_p2m *e;

		mfns[i] = SIM_INVALID_MFN;
		if (gfn >= d->nr_gfns || d->p2m[gfn].type == SIM_P2M_HOLE) {
			err[i] = -EINVAL;
			continue;
		}
		if (fault) {
			/* privcmd's err[]: dom0's p2m pool empty, or the page being paged */
			err[i] = pick & 1 ? -ENOENT : -ENOMEM;
			faulted[err[i] == -ENOENT]++;
			continue;
		}
		e = &d->p2m[gfn];
		if (writable && e->type == SIM_P2M_SHARED) {
			/* get_page_from_gfn(P2M_UNSHARE): unshare before a writable mapping */
			int urc = sim_share_unshare(hv, d, gfn);

			if (urc) {
				if (urc == -ENOMEM)
					sim_share_enomem(hv, d, 0, gfn, false);
				err[i] = urc;
				continue;
			}
		}
		f = &hv->frames[e->mfn];
		if (f->map_refs == UINT32_MAX) {
			err[i] = -E2BIG;
			continue;
		}
		s = sim_slot_get(o, e->mfn);
		if (!s) {
			err[i] = -ENOMEM;
			continue;
		}
		if (writable) {
			/* what is written through the mapping is the frame's from now on */
			sim_gen_make_private(hv, e->mfn);
			s->rw++;
			f->map_rw++;
		} else {
			sim_gen_materialise(hv, e->mfn);
			s->ro++;
		}
		f->map_refs++;
		mfns[i] = e->mfn;
		err[i] = 0;
	}
	if (faulted[0] + faulted[1])
		sim_fault_note(hv->faults, SIM_FK_MAP_PAGE, faulted[0] + faulted[1],
			       "map d%u: %u of %u pages not mapped (%u ENOMEM, %u ENOENT)", domid,
			       faulted[0] + faulted[1], n, faulted[0], faulted[1]);
out:
	sim_unlock(hv);
	return rc;
}

int sim_hv_unmap(struct sim_hv *hv, uint64_t owner, const uint64_t *mfns, unsigned int n)
{
	struct sim_map_owner *o;
	int rc = 0;

	sim_lock(hv);
	o = sim_owner_get(hv, owner, false);
	sim_punch_begin(hv, n);
	for (unsigned int i = 0; i < n; i++) {
		struct sim_map_slot *s = NULL;

		if (o && mfns[i] < hv->nr_frames)
			s = sim_slot_find(o, (uint32_t)mfns[i]);
		if (!s) {
			fprintf(stderr, "xensim hv: owner %llu unmap of mfn 0x%llx it has not mapped\n",
				(unsigned long long)owner, (unsigned long long)mfns[i]);
			rc = -EINVAL;
			continue;
		}
		sim_map_put(hv, o, s);
	}
	sim_punch_flush(hv);
	sim_unlock(hv);
	return rc;
}

void sim_hv_unmap_owner(struct sim_hv *hv, uint64_t owner)
{
	struct sim_map_owner *o, **pp;

	sim_lock(hv);
	for (pp = &hv->owners; *pp && (*pp)->id != owner; pp = &(*pp)->next)
		;
	o = *pp;
	if (o) {
		*pp = o->next;
		sim_punch_begin(hv, o->used);
		for (uint32_t i = 0; i < o->cap; i++) {
			struct sim_map_slot *s = &o->slots[i];
			struct sim_frame *f;

			if (s->mfn == SIM_MFN_NONE)
				continue;
			f = &hv->frames[s->mfn];
			f->map_refs -= s->ro + s->rw;
			f->map_rw -= s->rw;
			if (s->rw)
				sim_oracle_take(hv, s->mfn);
			if (!f->map_refs && f->state == SIM_FRAME_ORPHAN)
				sim_frame_free(hv, s->mfn);
			else if (!f->map_refs)
				sim_gen_dematerialise(hv, s->mfn);
		}
		sim_punch_flush(hv);
		free(o->slots);
		free(o);
	}
	sim_unlock(hv);
}

/* ---- oracle --------------------------------------------------------------- */

/*
 * Each gfn is checked under the lock (a guest write updates frame and oracle
 * together under it), but the lock is dropped every VERIFY_CHUNK gfns so
 * that verifying a large host does not stall every vCPU for its whole walk.
 */
#define VERIFY_CHUNK 4096

/* Does frame mfn hold sim_hv_gen_fill(key)?  (scratch: one page) */
static bool sim_gen_matches(struct sim_hv *hv, uint32_t mfn, uint64_t key, uint8_t *scratch)
{
	static _Thread_local uint8_t want[SIM_PAGE_SIZE];
	const uint8_t *have;

	if (hv->frames[mfn].gen) {
		have = sim_frame_content(hv, mfn, scratch);
	} else {
		if (pread(hv->fd, scratch, SIM_PAGE_SIZE,
			  (off_t)((uint64_t)mfn << SIM_PAGE_SHIFT)) != SIM_PAGE_SIZE)
			return false;
		have = scratch;
	}
	sim_hv_gen_fill(want, key);
	return memcmp(have, want, SIM_PAGE_SIZE) == 0;
}

long sim_hv_verify(struct sim_hv *hv, struct sim_mismatch *out, unsigned int max)
{
	uint8_t page[SIM_PAGE_SIZE];
	long bad = 0;

	for (uint32_t id = 0; id < SIM_DOMID_MAX; id++) {
		for (uint64_t start = 0;; start += VERIFY_CHUNK) {
			struct sim_dom *d;
			bool more;

			sim_lock(hv);
			d = hv->doms[id];
			if (!d || start >= d->nr_gfns) {
				sim_unlock(hv);
				break;
			}
			for (uint64_t g = start; g < d->nr_gfns && g < start + VERIFY_CHUNK; g++) {
				const struct sim_p2m *e = &d->p2m[g];
				bool ok;

				if (e->type == SIM_P2M_SPECIAL)
					continue;
				if (e->type == SIM_P2M_HOLE) {
					ok = d->oracle[g] == SIM_ORACLE_HOLE;   /* else: a lost page */
				} else if (hv->frames[e->mfn].map_rw) {
					/* Being written through a foreign mapping: not judged. */
					ok = true;
				} else if (sim_oracle_is_gen(d, g)) {
					/* generated: same key, or the same bytes as that key's page */
					ok = hv->frames[e->mfn].gen == d->oracle[g] ||
					     sim_gen_matches(hv, e->mfn, d->oracle[g], page);
				} else if (hv->frames[e->mfn].gen) {
					ok = d->oracle[g] != SIM_ORACLE_HOLE &&
					     sim_page_hash(sim_frame_content(hv, e->mfn, page)) == d->oracle[g];
				} else if (pread(hv->fd, page, SIM_PAGE_SIZE,
						 (off_t)((uint64_t)e->mfn << SIM_PAGE_SHIFT)) != SIM_PAGE_SIZE) {
					ok = false;
				} else {
					ok = d->oracle[g] != SIM_ORACLE_HOLE &&
					     sim_page_hash(page) == d->oracle[g];
				}
				if (ok)
					continue;
				if ((unsigned long)bad < max) {
					out[bad].domid = id;
					out[bad].gfn = g;
				}
				bad++;
			}
			more = start + VERIFY_CHUNK < d->nr_gfns;
			sim_unlock(hv);
			if (!more)
				break;
		}
	}
	return bad;
}
