/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_internal.c - the simulated hypervisor's core: the host lock and its
 * notification queue, host frames, the domains' bookkeeping (p2m growth,
 * the oracle's generated-key bits, the log-dirty bitmap), on which every
 * other part of the model (hv_*.c) builds.
 *
 * DOC: Overview
 *
 * Host memory is one memfd of nr_frames * 4 KiB, mapped MAP_SHARED here and
 * by every client.  A frame that is freed gets its hole punched
 * (FALLOC_FL_PUNCH_HOLE), so host RSS really drops when sharing frees a
 * frame and a newly allocated frame reads as zeros without being touched;
 * code that frees many frames at once (destroy, balloon, unmap, a batch of
 * the compare-and-share op) queues the punches between sim_punch_begin()
 * and sim_punch_flush() and punches sorted runs.  A frame its owner lets
 * go of while foreign mappings still reference it becomes an orphan, freed
 * with its last mapping, as Xen frees a page when its last reference goes.
 *
 * Locking: one mutex serialises everything; sim_hv_wait_resumed() sleeps on
 * a condition variable broadcast whenever a pause is lifted or a domain goes
 * away.  Notifications (the sharing ring's event channel, VIRQ_ENOMEM) are
 * queued under the lock and delivered after it is dropped, so a notify
 * callback may call back into hv.
 *
 * The log-dirty bitmap (one bit per gfn, allocated at the first mark as
 * Xen's tree is, grown with the p2m, freed by OFF) is kept here because
 * every part that changes a page marks it; what marks when, and the ops on
 * the bitmap, are hv_logdirty.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "hv_internal.h"

/* ---- lock and notifications --------------------------------------------- */

void sim_lock(struct sim_hv *hv)
{
	pthread_mutex_lock(&hv->lock);
}

void sim_unlock(struct sim_hv *hv)
{
	struct sim_notify todo[SIM_NOTIFY_MAX];
	unsigned int n = hv->nr_pending;
	sim_hv_notify_fn *fn = hv->notify_fn;
	void *arg = hv->notify_arg;

	memcpy(todo, hv->pending, n * sizeof(todo[0]));
	hv->nr_pending = 0;
	pthread_mutex_unlock(&hv->lock);
	for (unsigned int i = 0; fn && i < n; i++)
		fn(arg, todo[i].domid, todo[i].port);
}

/*
 * An event channel notification is level-like: two pending notifications
 * of the same port are one, so a full queue can only hold distinct ports.
 */
void sim_queue_notify(struct sim_hv *hv, uint32_t domid, uint32_t port)
{
	for (unsigned int i = 0; i < hv->nr_pending; i++)
		if (hv->pending[i].domid == domid && hv->pending[i].port == port)
			return;
	if (hv->nr_pending == SIM_NOTIFY_MAX) {
		fprintf(stderr, "xensim hv: d%u port %u: notification queue full, event dropped\n",
			domid, port);
		return;
	}
	hv->pending[hv->nr_pending].domid = domid;
	hv->pending[hv->nr_pending].port = port;
	hv->nr_pending++;
}

void sim_hv_set_notify(struct sim_hv *hv, sim_hv_notify_fn *fn, void *arg)
{
	sim_lock(hv);
	hv->notify_fn = fn;
	hv->notify_arg = arg;
	sim_unlock(hv);
}

/* ---- frames --------------------------------------------------------------- */

uint64_t sim_page_hash(const void *page)
{
	return XXH3_64bits(page, SIM_PAGE_SIZE);
}

uint8_t *sim_frame_ptr(struct sim_hv *hv, uint32_t mfn)
{
	return hv->mem + ((uint64_t)mfn << SIM_PAGE_SHIFT);
}

/* Forget a frame's generated content (it is freed, or reassigned). */
void sim_gen_forget(struct sim_hv *hv, struct sim_frame *f)
{
	if (f->gen) {
		hv->nr_gen--;
		if (f->gen_mat)
			hv->nr_gen_mat--;
	}
	f->gen = 0;
	f->gen_mat = 0;
}

bool sim_oracle_is_gen(const struct sim_dom *d, uint64_t gfn)
{
	return d->oracle_gen && (d->oracle_gen[gfn / 64] >> (gfn % 64) & 1);
}

void sim_oracle_set_gen(struct sim_dom *d, uint64_t gfn, bool gen)
{
	if (!d->oracle_gen)
		return;   /* only sim_hv_gen_assign() allocates it, with gen = true */
	if (gen)
		d->oracle_gen[gfn / 64] |= 1ULL << (gfn % 64);
	else
		d->oracle_gen[gfn / 64] &= ~(1ULL << (gfn % 64));
}

/* Take a frame off the free list; it reads as zeros.  SIM_MFN_NONE if none. */
uint32_t sim_frame_alloc(struct sim_hv *hv)
{
	uint32_t mfn = hv->free_head;

	if (mfn == SIM_MFN_NONE)
		return SIM_MFN_NONE;
	hv->free_head = (uint32_t)hv->frames[mfn].gfn;
	hv->nr_free--;
	memset(&hv->frames[mfn], 0, sizeof(hv->frames[mfn]));
	return mfn;
}

/* Give a range of frames' memory back to the kernel (they read as zero after). */
static void sim_punch(struct sim_hv *hv, uint64_t first, uint64_t count)
{
	if (!count)
		return;
	if (fallocate(hv->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(first << SIM_PAGE_SHIFT), (off_t)(count << SIM_PAGE_SHIFT)) < 0) {
		/* Without the punch a reallocated frame would keep old data. */
		fprintf(stderr, "xensim hv: mfn 0x%llx+%llu: punch hole failed (%s), zeroing\n",
			(unsigned long long)first, (unsigned long long)count, strerror(errno));
		memset(hv->mem + (first << SIM_PAGE_SHIFT), 0, count << SIM_PAGE_SHIFT);
	}
}

/* Drop a frame's memory now, or at sim_punch_flush() inside a batch. */
void sim_punch_frame(struct sim_hv *hv, uint32_t mfn)
{
	if (hv->punch_batch && hv->punch_n < hv->punch_cap)
		hv->punch_q[hv->punch_n++] = mfn;
	else
		sim_punch(hv, mfn, 1);
}

void sim_frame_free(struct sim_hv *hv, uint32_t mfn)
{
	/* In a batch (see sim_punch_begin) the punch waits for sim_punch_flush(). */
	sim_punch_frame(hv, mfn);
	sim_gen_forget(hv, &hv->frames[mfn]);
	hv->frames[mfn].state = SIM_FRAME_FREE;
	hv->frames[mfn].gfn = hv->free_head;
	hv->frames[mfn].owner = 0;
	hv->frames[mfn].special = 0;
	hv->free_head = mfn;
	hv->nr_free++;
}

/*
 * Freeing many frames: one fallocate() per frame costs ~2 us, so collect
 * them and punch sorted runs.  Nothing may allocate between begin and
 * flush, and the host lock is held throughout (a queued frame is on the
 * free list but not yet zeroed).
 */
void sim_punch_begin(struct sim_hv *hv, uint64_t max_frames)
{
	if (max_frames > hv->punch_cap) {
		uint32_t *q = realloc(hv->punch_q, max_frames * sizeof(*q));

		if (q) {   /* without memory, frames are simply punched one by one */
			hv->punch_q = q;
			hv->punch_cap = max_frames;
		}
	}
	hv->punch_n = 0;
	hv->punch_batch = true;
}

static int sim_mfn_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void sim_punch_flush(struct sim_hv *hv)
{
	uint64_t first = 0, count = 0;

	if (hv->punch_n)
		qsort(hv->punch_q, hv->punch_n, sizeof(*hv->punch_q), sim_mfn_cmp);
	for (size_t i = 0; i < hv->punch_n; i++) {
		uint32_t m = hv->punch_q[i];

		if (count && first + count == m) {
			count++;
			continue;
		}
		sim_punch(hv, first, count);
		first = m;
		count = 1;
	}
	sim_punch(hv, first, count);
	hv->punch_n = 0;
	hv->punch_batch = false;
}

/*
 * The owner (a domain or dom_cow) lets go of a frame: it is freed now, or
 * when the last foreign mapping goes (an orphan until then).
 */
void sim_frame_release(struct sim_hv *hv, uint32_t mfn)
{
	struct sim_frame *f = &hv->frames[mfn];

	if (f->map_refs) {
		f->state = SIM_FRAME_ORPHAN;
		f->owner = 0;
		f->gfn = 0;
		f->special = 0;
		return;
	}
	sim_frame_free(hv, mfn);
}

/* ---- domains -------------------------------------------------------------- */

void sim_dom_free(struct sim_dom *d)
{
	if (!d)
		return;
	free(d->p2m);
	free(d->oracle);
	free(d->oracle_gen);
	sim_logdirty_free(d);
	free(d->vcpus);
	free(d);
}

struct sim_dom *sim_dom_get(struct sim_hv *hv, uint32_t domid)
{
	return domid < SIM_DOMID_MAX ? hv->doms[domid] : NULL;
}

int sim_p2m_grow(struct sim_dom *d, uint64_t nr_gfns)
{
	struct sim_p2m *p2m;
	uint64_t *oracle;

	if (nr_gfns <= d->nr_gfns)
		return 0;
	if (nr_gfns > SIM_MAX_GFNS)
		return -EINVAL;
	p2m = realloc(d->p2m, nr_gfns * sizeof(*p2m));
	if (!p2m)
		return -ENOMEM;
	d->p2m = p2m;
	oracle = realloc(d->oracle, nr_gfns * sizeof(*oracle));
	if (!oracle)
		return -ENOMEM;
	d->oracle = oracle;
	if (d->oracle_gen) {
		size_t old_words = (d->nr_gfns + 63) / 64, words = (nr_gfns + 63) / 64;
		uint64_t *bits = realloc(d->oracle_gen, words * sizeof(*bits));

		if (!bits)
			return -ENOMEM;
		memset(bits + old_words, 0, (words - old_words) * sizeof(*bits));
		d->oracle_gen = bits;
	}
	if (sim_logdirty_grow(d, nr_gfns))
		return -ENOMEM;
	for (uint64_t g = d->nr_gfns; g < nr_gfns; g++) {
		d->p2m[g].mfn = SIM_MFN_NONE;
		d->p2m[g].rmap_idx = 0;
		d->p2m[g].type = SIM_P2M_HOLE;
		d->p2m[g].logdirty = 0;
		d->oracle[g] = SIM_ORACLE_HOLE;
	}
	d->nr_holes += nr_gfns - d->nr_gfns;
	d->nr_gfns = nr_gfns;
	return 0;
}

/*
 * domain_crash(): the domain is shut down with reason crash; its vCPUs stop.
 * Its memory stays until the toolstack destroys it (on_crash=destroy).
 */
void sim_vcpu_resumed(struct sim_dom *d, struct sim_vcpu *v)
{
	struct timespec now;
	uint64_t ns, us;
	unsigned int b = 0;

	if (!v->waiting || sim_vcpu_paused(v))
		return;
	v->waiting = false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)((int64_t)(now.tv_sec - v->paused_at.tv_sec) * 1000000000LL +
			(now.tv_nsec - v->paused_at.tv_nsec));
	d->vcpu_pauses++;
	d->pause_total_ns += ns;
	if (ns > d->pause_max_ns)
		d->pause_max_ns = ns;
	for (us = ns / 1000; us > 1 && b < SIM_PAUSE_BUCKETS - 1; us >>= 1)
		b++;
	d->pause_hist[b]++;
}

void sim_dom_crash(struct sim_hv *hv, struct sim_dom *d)
{
	fprintf(stderr, "xensim hv: d%u crashed\n", d->domid);
	d->shutdown = true;
	d->crashed = true;
	pthread_cond_broadcast(&hv->resumed);
}

/* Called (under the lock) whenever a vCPU may have become runnable. */
void sim_wake_vcpus(struct sim_hv *hv)
{
	pthread_cond_broadcast(&hv->resumed);
}

/* ---- log-dirty bitmap (its operations: hv_logdirty.c) --------------------- */

static size_t sim_ld_words(uint64_t nr_gfns)
{
	return (size_t)((nr_gfns + 63) / 64);
}

/* paging_mark_pfn_dirty() */
void sim_logdirty_mark(struct sim_dom *d, uint64_t gfn)
{
	uint64_t bit = 1ULL << (gfn % 64);

	if (!d->logdirty || gfn >= d->nr_gfns)
		return;
	if (!d->dirty_bitmap) {
		d->dirty_bitmap = calloc(sim_ld_words(d->nr_gfns), sizeof(*d->dirty_bitmap));
		if (!d->dirty_bitmap) {
			/* recorded; the next CLEAN or PEEK answers -ENOMEM */
			d->dirty_failed_allocs++;
			return;
		}
	}
	if (d->dirty_bitmap[gfn / 64] & bit)
		return;
	d->dirty_bitmap[gfn / 64] |= bit;
	d->dirty_count++;
}

/* A guest write reaches a ram_rw gfn: the fault of a write-protected one. */
void sim_logdirty_write_fault(struct sim_dom *d, uint64_t gfn)
{
	struct sim_p2m *e = &d->p2m[gfn];

	if (!e->logdirty)
		return;
	d->logdirty_faults++;
	sim_logdirty_mark(d, gfn);
	e->logdirty = 0;   /* p2m_change_type_one(logdirty -> ram_rw) */
}

/* The p2m grows (sim_p2m_grow()): so does the bitmap, with clear bits. */
int sim_logdirty_grow(struct sim_dom *d, uint64_t nr_gfns)
{
	size_t old = sim_ld_words(d->nr_gfns), words = sim_ld_words(nr_gfns);
	uint64_t *b;

	if (!d->dirty_bitmap || words <= old)
		return 0;
	b = realloc(d->dirty_bitmap, words * sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(b + old, 0, (words - old) * sizeof(*b));
	d->dirty_bitmap = b;
	return 0;
}

/* paging_free_log_dirty_bitmap() */
void sim_logdirty_free(struct sim_dom *d)
{
	free(d->dirty_bitmap);
	d->dirty_bitmap = NULL;
	d->dirty_failed_allocs = 0;
}
