/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_gen.c - generated memory of the simulated hypervisor (scale mode,
 * hv.h): frames whose content is a pure function of a 64-bit key.
 *
 * DOC: Overview
 *
 * A frame with gen != 0 holds sim_hv_gen_fill(gen), which the memfd does
 * not store: sim_hv_map() writes it there (gen_mat) before handing the frame
 * out, and the last unmap punches it again (batched like destroy's
 * punches), so a host of 256 GiB of guests needs memory only for what is
 * mapped at a time.  Every reader inside the model goes through
 * sim_frame_content(); every writer first calls sim_gen_make_private(),
 * which materialises the frame for good.  The oracle keeps the key
 * (oracle_gen bit) until the guest writes the page, so verify can check a
 * generated gfn by comparing keys, without generating anything.
 *
 * Invariants (sim_hv_audit()): nr_gen counts the frames with gen != 0,
 * nr_gen_mat those of them in the memfd, which are mapped; a free frame
 * holds no key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hv_internal.h"
#include "hv_gen.h"

static uint64_t sim_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * xorshift64* seeded through splitmix64: about 2 GB/s, so materialising a
 * page costs ~2 us; the first word is the key itself, so two different
 * keys can never give the same page.
 */
void sim_hv_gen_fill(void *page, uint64_t key)
{
	uint64_t s = key, x = sim_splitmix64(&s) | 1;
	uint64_t *w = page;

	w[0] = key;
	for (unsigned int i = 1; i < SIM_PAGE_SIZE / sizeof(*w); i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		w[i] = x * 0x2545f4914f6cdd1dULL;
	}
}

/*
 * The content of a frame: a pointer into host memory, or buf filled with
 * the generated content of an unmaterialised generated frame.
 */
const uint8_t *sim_frame_content(struct sim_hv *hv, uint32_t mfn, uint8_t *buf)
{
	const struct sim_frame *f = &hv->frames[mfn];

	if (f->gen && !f->gen_mat) {
		sim_hv_gen_fill(buf, f->gen);
		return buf;
	}
	return sim_frame_ptr(hv, mfn);
}

/* Writes a generated frame's content into the memfd (it is being mapped). */
void sim_gen_materialise(struct sim_hv *hv, uint32_t mfn)
{
	struct sim_frame *f = &hv->frames[mfn];

	if (!f->gen || f->gen_mat)
		return;
	sim_hv_gen_fill(sim_frame_ptr(hv, mfn), f->gen);
	f->gen_mat = 1;
	hv->nr_gen_mat++;
}

/* Something is about to write the frame: from now on the memfd holds it. */
void sim_gen_make_private(struct sim_hv *hv, uint32_t mfn)
{
	struct sim_frame *f = &hv->frames[mfn];

	if (!f->gen)
		return;
	sim_gen_materialise(hv, mfn);
	f->gen = 0;
	f->gen_mat = 0;
	hv->nr_gen--;
	hv->nr_gen_mat--;
}

/* The last mapping of a generated frame went: its content leaves the memfd. */
void sim_gen_dematerialise(struct sim_hv *hv, uint32_t mfn)
{
	struct sim_frame *f = &hv->frames[mfn];

	if (!f->gen || !f->gen_mat)
		return;
	sim_punch_frame(hv, mfn);
	f->gen_mat = 0;
	hv->nr_gen_mat--;
}

/* ---- generated memory (scale mode) ----------------------------------------- */

int sim_hv_gen_assign(struct sim_hv *hv, uint32_t domid, uint64_t first_gfn,
		      unsigned int n, const uint64_t *keys)
{
	struct sim_dom *d;
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying) {
		rc = -ESRCH;
		goto out;
	}
	if (first_gfn > d->nr_gfns || n > d->nr_gfns - first_gfn) {
		rc = -EINVAL;
		goto out;
	}
	/* Check everything first: a refused call changes nothing. */
	for (unsigned int i = 0; i < n; i++) {
		const struct sim_p2m *e = &d->p2m[first_gfn + i];

		if (e->type != SIM_P2M_RAM_RW) {
			rc = -EINVAL;
			goto out;
		}
		if (hv->frames[e->mfn].map_refs) {
			rc = -EBUSY;
			goto out;
		}
	}
	if (!d->oracle_gen) {
		d->oracle_gen = calloc((d->nr_gfns + 63) / 64, sizeof(*d->oracle_gen));
		if (!d->oracle_gen) {
			rc = -ENOMEM;
			goto out;
		}
	}
	sim_punch_begin(hv, n);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gfn = first_gfn + i;
		uint32_t mfn = d->p2m[gfn].mfn;
		struct sim_frame *f = &hv->frames[mfn];

		/* whatever the frame held goes; the new content is the key's */
		sim_gen_forget(hv, f);
		sim_punch_frame(hv, mfn);
		if (keys[i]) {
			f->gen = keys[i];
			hv->nr_gen++;
			d->oracle[gfn] = keys[i];
			sim_oracle_set_gen(d, gfn, true);
		} else {
			d->oracle[gfn] = hv->zero_hash;
			sim_oracle_set_gen(d, gfn, false);
		}
	}
	sim_punch_flush(hv);
out:
	sim_unlock(hv);
	return rc;
}

void sim_hv_gen_get_stats(struct sim_hv *hv, struct sim_hv_gen_stats *out)
{
	sim_lock(hv);
	out->gen_frames = hv->nr_gen;
	out->materialised = hv->nr_gen_mat;
	sim_unlock(hv);
}
