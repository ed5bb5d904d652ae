/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xdm.c - drop-in libxendevicemodel.so.1 for xensim: XEN_DMOP_modified_memory
 * (xendevicemodel_modified_memory() and _bulk()), the call with which a
 * device model -- or anything else that writes guest memory behind the
 * guest's p2m -- tells a log-dirty user which pages it changed.  Every
 * other export is a generated ENOSYS stub (xendevicemodel-stubs.c).
 *
 * DOC: Overview
 * A handle is one CALLS connection; each dm_op is one request whose reply
 * is Xen's return value, turned into -1/errno once, as Debian's
 * tools/libs/devicemodel does.  restrict() limits the handle to one domain
 * as privcmd's IOCTL_PRIVCMD_RESTRICT does: a dm_op on another domain then
 * fails with EPERM, restricting to a second domain with EINVAL.
 *
 * A bulk call whose extents do not fit one message is sent as several,
 * the last extents first: Xen takes the extents last first and stops at
 * the first bad one, so the host sees them in the same order and the
 * caller the same result (a dm_op is not atomic in Xen either).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/uio.h>

#include <xendevicemodel.h>

#include "conn.h"

struct xendevicemodel_handle {
	struct sim_conn conn;
	uint32_t restricted;     /* DOMID_INVALID when not restricted */
};

_Static_assert(sizeof(struct xen_dm_op_modified_memory_extent) == sizeof(struct sim_dm_extent) &&
	       offsetof(struct xen_dm_op_modified_memory_extent, nr) ==
	       offsetof(struct sim_dm_extent, nr) &&
	       offsetof(struct xen_dm_op_modified_memory_extent, first_pfn) ==
	       offsetof(struct sim_dm_extent, first_pfn), "the wire's extent is Xen's");

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
					   unsigned int open_flags)
{
	xendevicemodel_handle *h = calloc(1, sizeof(*h));
	int rc;

	(void)open_flags;
	if (!h)
		return NULL;
	rc = sim_conn_open(&h->conn, SIM_CONN_CALLS, 0, logger, "xendevicemodel");
	if (rc) {
		free(h);
		errno = -rc;
		return NULL;
	}
	h->restricted = DOMID_INVALID;
	return h;
}

int xendevicemodel_close(xendevicemodel_handle *dmod)
{
	if (!dmod)
		return 0;
	sim_conn_close(&dmod->conn);
	free(dmod);
	return 0;
}

int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid)
{
	uint32_t cur = __atomic_load_n(&dmod->restricted, __ATOMIC_RELAXED);

	if (cur != DOMID_INVALID && cur != domid) {
		errno = EINVAL;
		return -1;
	}
	__atomic_store_n(&dmod->restricted, domid, __ATOMIC_RELAXED);
	return 0;
}

int xendevicemodel_modified_memory_bulk(xendevicemodel_handle *dmod, domid_t domid,
					struct xen_dm_op_modified_memory_extent extents[],
					uint32_t nr)
{
	uint32_t r = __atomic_load_n(&dmod->restricted, __ATOMIC_RELAXED);
	uint32_t left = nr;

	if (r != DOMID_INVALID && domid != r) {
		errno = EPERM;
		return -1;
	}
	if (nr && !extents) {
		errno = EFAULT;   /* Xen's copy from a null buffer */
		return -1;
	}
	do {
		uint32_t n = left < SIM_WIRE_MAX_DM_EXTENTS ? left : (uint32_t)SIM_WIRE_MAX_DM_EXTENTS;
		struct sim_wire_dm_op q = { .domid = domid, .n = n };
		struct iovec req[2] = {
			{ &q, sizeof(q) }, { extents + (left - n), n * sizeof(*extents) },
		};
		int64_t ret = sim_conn_call(&dmod->conn, SIM_OP_DM_MODIFIED_MEMORY, req, n ? 2 : 1,
					    NULL, 0, NULL);

		if (ret < 0) {
			errno = (int)-ret;
			return -1;
		}
		left -= n;
	} while (left);
	return 0;
}

int xendevicemodel_modified_memory(xendevicemodel_handle *dmod, domid_t domid,
				   uint64_t first_pfn, uint32_t nr)
{
	struct xen_dm_op_modified_memory_extent x = { .first_pfn = first_pfn, .nr = nr };

	return xendevicemodel_modified_memory_bulk(dmod, domid, &x, 1);
}
