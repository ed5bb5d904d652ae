/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xfm.c - drop-in libxenforeignmemory.so.1 for xensim.
 *
 * DOC: Overview
 * A handle is one CALLS connection (whose HELLO brought the host-memory
 * memfd) and the table of its live mappings (fmap.c).  Semantics follow
 * Debian's tools/libs/foreignmemory/{core,linux}.c: map2() with err NULL
 * fails as a whole on any page error (errno = that page's error) and leaves
 * nothing mapped; with err given, per-page errors are negative errno values
 * and the call still returns the address.  restrict() limits the handle to
 * one domain as privcmd's IOCTL_PRIVCMD_RESTRICT does (later maps of another
 * domain: EPERM; restricting to a second domain: EINVAL).  Resource mappings
 * are not simulated (ENOSYS, generated stubs).
 *
 * Closing a handle closes its connection: the server then drops every frame
 * reference the handle still held, as privcmd does when the fd is closed.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xenforeignmemory.h>

#include "conn.h"
#include "fmap.h"

struct xenforeignmemory_handle {
	struct sim_conn conn;
	struct sim_fmap_table maps;
	uint32_t restricted;     /* DOMID_INVALID when not restricted */
};

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
					       unsigned int open_flags)
{
	(void)open_flags;
	xenforeignmemory_handle *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return NULL;
	rc = sim_conn_open(&h->conn, SIM_CONN_CALLS, 0, logger, "xenforeignmemory");
	if (rc) {
		free(h);
		errno = -rc;
		return NULL;
	}
	sim_fmap_table_init(&h->maps);
	h->restricted = DOMID_INVALID;
	return h;
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	if (!fmem)
		return 0;
	sim_conn_close(&fmem->conn);
	sim_fmap_table_fini(&fmem->maps);
	free(fmem);
	return 0;
}

void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom,
			    void *addr, int prot, int flags, size_t pages,
			    const xen_pfn_t arr[], int err[])
{
	uint32_t r = __atomic_load_n(&fmem->restricted, __ATOMIC_RELAXED);

	if (r != DOMID_INVALID && dom != r) {
		errno = EPERM;
		return NULL;
	}
	return sim_fmap_map(&fmem->conn, &fmem->maps, dom, addr, prot, flags,
			    pages, arr, err);
}

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom,
			   int prot, size_t pages, const xen_pfn_t arr[], int err[])
{
	return xenforeignmemory_map2(fmem, dom, NULL, prot, 0, pages, arr, err);
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr,
			   size_t pages)
{
	return sim_fmap_unmap(&fmem->conn, &fmem->maps, addr, pages);
}

int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
	pthread_mutex_lock(&fmem->maps.lock);
	if (fmem->restricted != DOMID_INVALID && fmem->restricted != domid) {
		pthread_mutex_unlock(&fmem->maps.lock);
		errno = EINVAL;
		return -1;
	}
	__atomic_store_n(&fmem->restricted, domid, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&fmem->maps.lock);
	return 0;
}
