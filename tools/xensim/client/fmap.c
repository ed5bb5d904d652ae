/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fmap.c - foreign mappings over the xensim wire (see fmap.h).
 *
 * DOC: Overview
 * Mapping n gfns is:
 *  1. reserve n pages PROT_NONE (anonymous, private), at the caller's hint
 *     or MAP_FIXED address if given, so the result is one contiguous range;
 *  2. one SIM_OP_MAP per SIM_WIRE_MAX_MAP gfns: the server checks each gfn,
 *     takes a reference on its frame (unsharing it first for a writable
 *     mapping, as Xen does) and answers the frame number and a per-page
 *     error; the mfn array is received straight into a scratch buffer and
 *     the error array straight into the caller's err[];
 *  3. every run of pages with consecutive frames becomes one
 *     mmap(MAP_FIXED|MAP_SHARED) of the memfd over the reservation (the
 *     scanner's hot path: a guest's unshared memory is mostly laid out in
 *     runs, so this is usually a handful of system calls per batch), with
 *     MAP_POPULATE: privcmd's mmapbatch installs every page table entry
 *     in the ioctl, so a reader of a Xen mapping takes no page faults, and
 *     one fault per page here would charge the scanner a cost Xen does
 *     not have.
 *     Pages that failed stay PROT_NONE: touching one faults, as touching an
 *     unpopulated privcmd page does on Linux.
 * Invariant: the server holds a reference exactly for the frames recorded
 * in the table entry (SIM_INVALID_MFN elsewhere); every path that gives up
 * a page sends its frame back with SIM_OP_UNMAP.
 *
 * The table is a plain array searched linearly: a client holds few mappings
 * at once (the daemon maps, hashes and unmaps one batch at a time).
 */
#include "fmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct sim_fmap_ent {
	char *addr;
	size_t pages;
	size_t live;            /* pages still holding a frame reference */
	uint64_t *mfns;         /* per page, SIM_INVALID_MFN when none */
};

void sim_fmap_table_init(struct sim_fmap_table *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
}

void sim_fmap_table_fini(struct sim_fmap_table *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		free(t->ents[i].mfns);
	free(t->ents);
	pthread_mutex_destroy(&t->lock);
}

/* Give frame references back to the server, skipping invalid entries. */
static int release_frames(struct sim_conn *c, const uint64_t *mfns, size_t n)
{
	uint64_t *buf;
	size_t i = 0;
	int rc = 0;

	if (!n)
		return 0;
	buf = malloc(sizeof(*buf) * (n < SIM_WIRE_MAX_MAP ? n : SIM_WIRE_MAX_MAP));
	if (!buf)
		return -ENOMEM;
	while (i < n) {
		uint32_t hdr[2] = { 0, 0 };
		struct iovec req[2];
		int64_t r;

		while (i < n && hdr[0] < SIM_WIRE_MAX_MAP) {
			if (mfns[i] != SIM_INVALID_MFN)
				buf[hdr[0]++] = mfns[i];
			i++;
		}
		if (!hdr[0])
			continue;
		req[0].iov_base = hdr;
		req[0].iov_len = sizeof(hdr);
		req[1].iov_base = buf;
		req[1].iov_len = hdr[0] * sizeof(*buf);
		r = sim_conn_call(c, SIM_OP_UNMAP, req, 2, NULL, 0, NULL);
		if (r < 0 && !rc)
			rc = (int)r;
	}
	free(buf);
	return rc;
}

static int table_add(struct sim_fmap_table *t, char *addr, size_t pages,
		     size_t live, uint64_t *mfns)
{
	pthread_mutex_lock(&t->lock);
	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct sim_fmap_ent *e = realloc(t->ents, cap * sizeof(*e));

		if (!e) {
			pthread_mutex_unlock(&t->lock);
			return -ENOMEM;
		}
		t->ents = e;
		t->cap = cap;
	}
	t->ents[t->nr++] = (struct sim_fmap_ent){ addr, pages, live, mfns };
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void *sim_fmap_map(struct sim_conn *c, struct sim_fmap_table *t, uint32_t dom,
		   void *addr, int prot, int flags, size_t pages,
		   const uint64_t *gfns, int *err)
{
	int *err_own = NULL;
	uint64_t *mfns = NULL;
	char *base = MAP_FAILED;
	size_t done = 0, i, live = 0;
	int saved;
	int rc;

	if (!pages || pages > (SIZE_MAX >> SIM_PAGE_SHIFT)) {
		errno = EINVAL;
		return NULL;
	}
	if (c->memfd < 0) {
		errno = ENODEV;
		return NULL;
	}
	if (!err) {
		err = err_own = malloc(pages * sizeof(*err));
		if (!err)
			return NULL;
	}
	mfns = malloc(pages * sizeof(*mfns));
	if (!mfns) {
		rc = -ENOMEM;
		goto fail;
	}
	base = mmap(addr, pages << SIM_PAGE_SHIFT, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (flags & MAP_FIXED),
		    -1, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}

	while (done < pages) {
		size_t n = pages - done;
		struct sim_wire_map m = { .domid = dom, .writable = !!(prot & PROT_WRITE) };
		struct iovec req[2], rep[2];
		size_t replen = 0;
		int64_t r;

		if (n > SIM_WIRE_MAX_MAP)
			n = SIM_WIRE_MAX_MAP;
		m.n = (uint32_t)n;
		req[0] = (struct iovec){ &m, sizeof(m) };
		req[1] = (struct iovec){ (void *)(gfns + done), n * sizeof(*gfns) };
		rep[0] = (struct iovec){ mfns + done, n * sizeof(*mfns) };
		rep[1] = (struct iovec){ err + done, n * sizeof(*err) };
		r = sim_conn_call(c, SIM_OP_MAP, req, 2, rep, 2, &replen);
		if (r >= 0 && replen != n * (sizeof(*mfns) + sizeof(*err)))
			r = -EPROTO;
		if (r < 0) {
			/* frames of earlier chunks are referenced: give them back */
			for (i = 0; i < done; i++)
				if (err[i])
					mfns[i] = SIM_INVALID_MFN;
			release_frames(c, mfns, done);
			rc = (int)r;
			goto fail;
		}
		done += n;
	}

	for (i = 0; i < pages; i++) {
		if (!err[i] && mfns[i] >= c->nr_frames)
			err[i] = -EPROTO;   /* the server named a frame that does not exist */
		if (err[i] > 0)
			err[i] = -err[i];
		if (err[i])
			mfns[i] = SIM_INVALID_MFN;
	}

	/* one mmap per run of consecutive frames */
	for (i = 0; i < pages;) {
		size_t j = i + 1;
		void *p;

		if (err[i]) {
			i++;
			continue;
		}
		while (j < pages && !err[j] && mfns[j] == mfns[j - 1] + 1)
			j++;
		p = mmap(base + (i << SIM_PAGE_SHIFT), (j - i) << SIM_PAGE_SHIFT,
			 prot, MAP_SHARED | MAP_FIXED | MAP_POPULATE, c->memfd,
			 (off_t)(mfns[i] << SIM_PAGE_SHIFT));
		if (p == MAP_FAILED) {
			int e = errno;

			release_frames(c, mfns + i, j - i);
			for (; i < j; i++) {
				err[i] = -e;
				mfns[i] = SIM_INVALID_MFN;
			}
			continue;
		}
		live += j - i;
		i = j;
	}

	if (err_own) {
		for (i = 0; i < pages; i++)
			if (err[i]) {
				rc = err[i];
				release_frames(c, mfns, pages);
				goto fail;
			}
	}
	if (t) {
		rc = table_add(t, base, pages, live, mfns);
		if (rc) {
			release_frames(c, mfns, pages);
			goto fail;
		}
	} else {
		free(mfns);
	}
	free(err_own);
	return base;

fail:
	saved = -rc;
	if (base != MAP_FAILED)
		munmap(base, pages << SIM_PAGE_SHIFT);
	free(mfns);
	free(err_own);
	errno = saved;
	return NULL;
}

void sim_fmap_sweep(struct sim_conn *c, struct sim_fmap_table *t)
{
	uint64_t *gone = NULL;
	size_t nr_gone = 0, cap = 0, i = 0;

	pthread_mutex_lock(&t->lock);
	while (i < t->nr) {
		struct sim_fmap_ent *e = &t->ents[i];
		size_t k;

		/* one call per mapping in the common case: all of it still there */
		if (!msync(e->addr, e->pages << SIM_PAGE_SHIFT, MS_ASYNC)) {
			i++;
			continue;
		}
		for (k = 0; k < e->pages; k++) {
			if (e->mfns[k] == SIM_INVALID_MFN ||
			    !msync(e->addr + (k << SIM_PAGE_SHIFT), SIM_PAGE_SIZE, MS_ASYNC) ||
			    errno != ENOMEM)
				continue;
			if (nr_gone == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				uint64_t *g = realloc(gone, ncap * sizeof(*g));

				if (!g)
					goto out;   /* try again at the next sweep */
				gone = g;
				cap = ncap;
			}
			gone[nr_gone++] = e->mfns[k];
			e->mfns[k] = SIM_INVALID_MFN;
			e->live--;
		}
		if (!e->live) {
			free(e->mfns);
			t->ents[i] = t->ents[--t->nr];
			continue;
		}
		i++;
	}
out:
	pthread_mutex_unlock(&t->lock);
	release_frames(c, gone, nr_gone);
	free(gone);
}

int sim_fmap_unmap(struct sim_conn *c, struct sim_fmap_table *t, void *addr,
		   size_t pages)
{
	char *a = addr;
	uint64_t *gone = NULL;
	size_t i, off = 0;
	int rc;

	if (!pages || ((uintptr_t)a & (SIM_PAGE_SIZE - 1))) {
		errno = EINVAL;
		return -1;
	}
	if (munmap(addr, pages << SIM_PAGE_SHIFT))
		return -1;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nr; i++) {
		struct sim_fmap_ent *e = &t->ents[i];

		if (a >= e->addr && a < e->addr + (e->pages << SIM_PAGE_SHIFT))
			break;
	}
	if (i < t->nr) {
		struct sim_fmap_ent *e = &t->ents[i];
		size_t k, n;

		off = (size_t)(a - e->addr) >> SIM_PAGE_SHIFT;
		n = pages < e->pages - off ? pages : e->pages - off;
		gone = malloc(n * sizeof(*gone));
		if (gone) {
			for (k = 0; k < n; k++) {
				gone[k] = e->mfns[off + k];
				if (gone[k] != SIM_INVALID_MFN)
					e->live--;
				e->mfns[off + k] = SIM_INVALID_MFN;
			}
			off = n;
		} else {
			off = 0;
		}
		if (!e->live) {
			free(e->mfns);
			t->ents[i] = t->ents[--t->nr];
		}
	}
	pthread_mutex_unlock(&t->lock);

	if (!gone)
		return 0;   /* not ours (or no memory to say which frames): plain munmap */
	rc = release_frames(c, gone, off);
	free(gone);
	if (rc) {
		errno = -rc;
		return -1;
	}
	return 0;
}
