/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fmap.h - foreign mappings of guest frames, shared by the drop-in
 * libxenforeignmemory and libxenctrl's compatibility xc_map_foreign_*().
 *
 * A mapping is a contiguous reservation of n pages in which each page the
 * server granted is an mmap of the host-memory memfd at frame * 4096.  The
 * server holds one reference per mapped frame (what makes nominate fail with
 * E2BIG) until the pages are unmapped through sim_fmap_unmap(), or until
 * the connection closes.
 */
#ifndef XENSIM_CLIENT_FMAP_H
#define XENSIM_CLIENT_FMAP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

struct sim_fmap_ent;

/* Live mappings of one handle: address -> frames, for unmap. */
struct sim_fmap_table {
	pthread_mutex_t lock;
	struct sim_fmap_ent *ents;
	size_t nr, cap;
};

void sim_fmap_table_init(struct sim_fmap_table *t);
/* Forgets the table (the server drops the references when the connection closes). */
void sim_fmap_table_fini(struct sim_fmap_table *t);

/*
 * Map pages gfns of dom as xenforeignmemory_map2() does: returns the address
 * or NULL with errno.  err (may be NULL) gets 0 or a negative errno per
 * page; with err NULL any failing page fails the whole call (errno of the
 * first failure) and nothing stays mapped.  t may be NULL for mappings the
 * caller releases with plain munmap() and that are not worth tracking:
 * their frame references then live until the connection closes.
 */
void *sim_fmap_map(struct sim_conn *c, struct sim_fmap_table *t, uint32_t dom,
		   void *addr, int prot, int flags, size_t pages,
		   const uint64_t *gfns, int *err);

/*
 * For mappings the caller releases with plain munmap() (libxenctrl's compat
 * xc_map_foreign_*()): give back the frames of every recorded page that is
 * no longer mapped (msync() says ENOMEM), as privcmd's VMA close would.
 * A page whose address was mapped again by something else keeps its frame
 * until the connection closes.
 */
void sim_fmap_sweep(struct sim_conn *c, struct sim_fmap_table *t);

/* munmap + release of the frames.  Returns 0 or -1 with errno. */
int sim_fmap_unmap(struct sim_conn *c, struct sim_fmap_table *t, void *addr,
		   size_t pages);

#endif /* XENSIM_CLIENT_FMAP_H */
