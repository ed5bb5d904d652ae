/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xc.c - drop-in libxenctrl.so.4.17 for xensim: the calls the simulator
 * models (domains, host info, memory sharing, the sharing ring, log-dirty
 * mode, hypercall buffers, compat foreign mappings); every other export is
 * a generated ENOSYS stub (xenctrl-stubs.c).
 *
 * DOC: Overview
 * An xc_interface is one CALLS connection.  Each simulated hypercall is one
 * request whose reply carries the hypervisor's return value: >= 0, or the
 * negative errno Xen would return.  The conversion to libxenctrl's
 * convention happens once, in xc_ret(): -1 with errno = -rc, exactly as
 * xc_memory_op()'s multicall path and do_domctl() produce it in Debian's
 * tools/libs/ctrl (so the sharing op's handle errors surface as errno 10,
 * XENMEM_SHARING_OP_S_HANDLE_INVALID, and 9, _C_HANDLE_INVALID).  Argument
 * checks that the real library makes before the hypercall (NULL port,
 * NULL extent array) are repeated here with the same errno.
 *
 * Hypercall buffers (xc_hypercall_buffer_alloc_pages() and the
 * DECLARE_HYPERCALL_BUFFER machinery of xenctrl.h) are anonymous pages, as
 * libxencall's are without /dev/xen/hypercall; the byte-sized kind keeps
 * libxencall's page-count header in front, so one free works for both
 * ways of allocating.  xc_logdirty_control() writes the dirty bitmap into
 * such a buffer: ceil(pages / 8) bytes, as Xen copies them.
 *
 * The compat xc_map_foreign_*() mappings are released by the caller with
 * plain munmap(), which the simulator cannot see.  They are recorded, and
 * before every hypercall the pages no longer mapped give their frame
 * references back (sim_fmap_sweep), so that a caller that unmaps and then
 * nominates sees what it would on Xen.  Whatever is left goes when the
 * interface is closed or the process exits.
 */
#define XC_WANT_COMPAT_MAP_FOREIGN_API
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>

#include "hypervisor-patch/include/xenshare_cmpshr.h"
#include "conn.h"
#include "fmap.h"

struct xc_interface_core {
	struct sim_conn conn;
	struct sim_fmap_table compat;   /* xc_map_foreign_*() mappings */
	int connected;
	unsigned int flags;
	xc_error last_error;
};

/*
 * The real library exports this NULL hypercall buffer for the
 * HYPERCALL_BUFFER_NULL macro; programs may reference it.
 */
xc_hypercall_buffer_t XC__HYPERCALL_BUFFER_NAME(HYPERCALL_BUFFER_NULL) = {
	.hbuf = NULL,
	.param_shadow = NULL,
	HYPERCALL_BUFFER_INIT_NO_BOUNCE
};

int xc_memshr_compare_share(struct xc_interface_core *xch,
			    xenshare_cmpshr_pair_t *pairs, unsigned int nr);
int xc_memshr_enomem_waiters(struct xc_interface_core *xch, uint16_t *domids,
			     unsigned int *nr);
int xc_memshr_enomem_resume(struct xc_interface_core *xch, uint32_t domid);
/* exported, declared only in Xen's private tools/libs/ctrl/xc_private.h */
int xc__hypercall_bounce_pre(xc_interface *xch, xc_hypercall_buffer_t *bounce);
void xc__hypercall_bounce_post(xc_interface *xch, xc_hypercall_buffer_t *bounce);

/* Hypervisor return value -> libxenctrl's (-1, errno). */
static long xc_ret(int64_t rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return (long)rc;
}

static int64_t xc_call(xc_interface *xch, uint32_t op, const void *req,
		       size_t reqlen, void *rep, size_t replen)
{
	size_t got = 0;
	int64_t r;

	/* NULL: a caller that ignored a failed open; DUMMY: no hypervisor */
	if (!xch || !xch->connected)
		return -EBADF;
	sim_fmap_sweep(&xch->conn, &xch->compat);
	r = sim_conn_call1(&xch->conn, op, req, reqlen, rep, replen, &got);
	if (r >= 0 && rep && got != replen)
		return -EPROTO;
	return r;
}

/* ---- interface ---------------------------------------------------------- */

xc_interface *xc_interface_open(xentoollog_logger *logger,
				xentoollog_logger *dombuild_logger,
				unsigned int open_flags)
{
	xc_interface *xch = calloc(1, sizeof(*xch));
	int rc;

	(void)dombuild_logger;
	if (!xch)
		return NULL;
	xch->flags = open_flags;
	xch->last_error.code = XC_ERROR_NONE;
	if (open_flags & XC_OPENFLAG_DUMMY)
		return xch;
	rc = sim_conn_open(&xch->conn, SIM_CONN_CALLS, 0, logger, "xencall");
	if (rc) {
		free(xch);
		errno = -rc;
		return NULL;
	}
	sim_fmap_table_init(&xch->compat);
	xch->connected = 1;
	return xch;
}

int xc_interface_close(xc_interface *xch)
{
	if (!xch)
		return 0;
	if (xch->connected) {
		sim_conn_close(&xch->conn);
		sim_fmap_table_fini(&xch->compat);
	}
	free(xch);
	return 0;
}

const xc_error *xc_get_last_error(xc_interface *xch)
{
	return &xch->last_error;
}

void xc_clear_last_error(xc_interface *xch)
{
	xch->last_error.code = XC_ERROR_NONE;
	xch->last_error.message[0] = '\0';
}

const char *xc_error_code_to_desc(int code)
{
	/* same table as tools/libs/ctrl/xc_private.c */
	switch (code) {
	case XC_ERROR_NONE:
		return "No error details";
	case XC_INTERNAL_ERROR:
		return "Internal error";
	case XC_INVALID_KERNEL:
		return "Invalid kernel";
	case XC_INVALID_PARAM:
		return "Invalid configuration";
	case XC_OUT_OF_MEMORY:
		return "Out of memory";
	}
	return "Unknown error code";
}

const char *xc_strerror(xc_interface *xch, int errcode)
{
	static _Thread_local char buf[64];

	(void)xch;
	/* GNU strerror_r: may return a static string instead of filling buf */
	return strerror_r(errcode, buf, sizeof(buf));
}

/* ---- domains and host --------------------------------------------------- */

#define GETINFO_CHUNK 512u

static int getinfo_raw(xc_interface *xch, uint32_t first, unsigned int max,
		       struct sim_dominfo *out)
{
	struct sim_wire_dom_range req = { .first = first, .max = max };
	size_t got = 0;
	int64_t r;

	if (!xch || !xch->connected)
		return -EBADF;
	r = sim_conn_call1(&xch->conn, SIM_OP_DOMAIN_GETINFO, &req, sizeof(req),
			   out, max * sizeof(*out), &got);
	if (r >= 0 && (r > max || got != (size_t)r * sizeof(*out)))
		return -EPROTO;
	return (int)r;
}

static uint32_t dominf_flags(const struct sim_dominfo *d)
{
	uint32_t f = 0;

	if (d->flags & SIM_DOMF_DYING)
		f |= XEN_DOMINF_dying;
	if (d->flags & SIM_DOMF_HVM)
		f |= XEN_DOMINF_hvm_guest | XEN_DOMINF_hap;
	if (d->flags & SIM_DOMF_PAUSED)
		f |= XEN_DOMINF_paused;
	if (d->flags & SIM_DOMF_BLOCKED)
		f |= XEN_DOMINF_blocked;
	if (d->flags & SIM_DOMF_RUNNING)
		f |= XEN_DOMINF_running;
	if (d->flags & SIM_DOMF_CRASHED)
		f |= XEN_DOMINF_shutdown |
		     ((uint32_t)SHUTDOWN_crash << XEN_DOMINF_shutdownshift);
	else if (d->flags & SIM_DOMF_SHUTDOWN)
		f |= XEN_DOMINF_shutdown |
		     ((uint32_t)SHUTDOWN_poweroff << XEN_DOMINF_shutdownshift);
	return f;
}

static void to_domaininfo(const struct sim_dominfo *d, xc_domaininfo_t *o)
{
	memset(o, 0, sizeof(*o));
	o->domain = (domid_t)d->domid;
	o->flags = dominf_flags(d);
	o->tot_pages = d->tot_pages;
	o->max_pages = d->max_pages;
	o->shr_pages = d->shr_pages;
	o->shared_info_frame = 0;
	o->cpu_time = d->cpu_time_ns;
	o->nr_online_vcpus = d->nr_online_vcpus;
	o->max_vcpu_id = d->nr_online_vcpus ? d->nr_online_vcpus - 1 : XEN_INVALID_MAX_VCPU_ID;
	memcpy(o->handle, d->uuid, sizeof(o->handle));
	o->gpaddr_bits = (d->flags & SIM_DOMF_HVM) ? 48 : 0;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
			  unsigned int max_domains, xc_domaininfo_t *info)
{
	struct sim_dominfo *buf;
	unsigned int done = 0;
	uint32_t next = first_domain;
	int rc = 0;

	buf = malloc(GETINFO_CHUNK * sizeof(*buf));
	if (!buf)
		return -1;
	while (done < max_domains) {
		unsigned int want = max_domains - done, i;

		if (want > GETINFO_CHUNK)
			want = GETINFO_CHUNK;
		rc = getinfo_raw(xch, next, want, buf);
		if (rc < 0)
			break;
		for (i = 0; i < (unsigned int)rc; i++)
			to_domaininfo(&buf[i], &info[done + i]);
		done += (unsigned int)rc;
		if ((unsigned int)rc < want)
			break;
		next = buf[rc - 1].domid + 1;
	}
	free(buf);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return (int)done;
}

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
		      unsigned int max_doms, xc_dominfo_t *info)
{
	xc_domaininfo_t *dl;
	unsigned int i;
	int n;

	memset(info, 0, max_doms * sizeof(*info));
	if (!max_doms)
		return 0;
	dl = calloc(max_doms, sizeof(*dl));
	if (!dl)
		return -1;
	n = xc_domain_getinfolist(xch, first_domid, max_doms, dl);
	if (n == 0) {
		/* XEN_DOMCTL_getdomaininfo: no domain with id >= first */
		errno = ESRCH;
		n = -1;
	}
	for (i = 0; n > 0 && i < (unsigned int)n; i++) {
		const xc_domaininfo_t *d = &dl[i];
		xc_dominfo_t *o = &info[i];

		o->domid = d->domain;
		o->dying = !!(d->flags & XEN_DOMINF_dying);
		o->shutdown = !!(d->flags & XEN_DOMINF_shutdown);
		o->paused = !!(d->flags & XEN_DOMINF_paused);
		o->blocked = !!(d->flags & XEN_DOMINF_blocked);
		o->running = !!(d->flags & XEN_DOMINF_running);
		o->hvm = !!(d->flags & XEN_DOMINF_hvm_guest);
		o->debugged = !!(d->flags & XEN_DOMINF_debugged);
		o->xenstore = !!(d->flags & XEN_DOMINF_xs_domain);
		o->hap = !!(d->flags & XEN_DOMINF_hap);
		o->shutdown_reason = (d->flags >> XEN_DOMINF_shutdownshift) &
				     XEN_DOMINF_shutdownmask;
		if (o->shutdown && o->shutdown_reason == SHUTDOWN_crash) {
			o->shutdown = 0;
			o->crashed = 1;
		}
		o->ssidref = d->ssidref;
		o->nr_pages = d->tot_pages;
		o->nr_outstanding_pages = d->outstanding_pages;
		o->nr_shared_pages = d->shr_pages;
		o->nr_paged_pages = d->paged_pages;
		o->max_memkb = d->max_pages << (XC_PAGE_SHIFT - 10);
		o->shared_info_frame = d->shared_info_frame;
		o->cpu_time = d->cpu_time;
		o->nr_online_vcpus = d->nr_online_vcpus;
		o->max_vcpu_id = d->max_vcpu_id;
		o->cpupool = d->cpupool;
		o->gpaddr_bits = d->gpaddr_bits;
		o->arch_config = d->arch_config;
		memcpy(o->handle, d->handle, sizeof(o->handle));
	}
	free(dl);
	return n;
}

/* XENMEM_maximum_gpfn: the highest gfn of the domain's p2m. */
int xc_domain_maximum_gpfn(xc_interface *xch, uint32_t domid, xen_pfn_t *gpfns)
{
	struct sim_dominfo d;
	int rc = getinfo_raw(xch, domid, 1, &d);

	if (rc < 0)
		return (int)xc_ret(rc);
	if (rc != 1 || d.domid != domid)
		return (int)xc_ret(-ESRCH);
	*gpfns = d.nr_gfns ? d.nr_gfns - 1 : 0;
	return 0;
}

int xc_domain_nr_gpfns(xc_interface *xch, uint32_t domid, xen_pfn_t *gpfns)
{
	int rc = xc_domain_maximum_gpfn(xch, domid, gpfns);

	if (rc >= 0)
		*gpfns += 1;
	return rc;
}

int xc_physinfo(xc_interface *xch, xc_physinfo_t *put_info)
{
	struct sim_wire_physinfo p;
	int64_t r = xc_call(xch, SIM_OP_PHYSINFO, NULL, 0, &p, sizeof(p));

	if (r < 0)
		return (int)xc_ret(r);
	memset(put_info, 0, sizeof(*put_info));
	put_info->threads_per_core = 1;
	put_info->cores_per_socket = (uint32_t)p.nr_cpus;
	put_info->nr_cpus = (uint32_t)p.nr_cpus;
	put_info->max_cpu_id = p.nr_cpus ? (uint32_t)p.nr_cpus - 1 : 0;
	put_info->nr_nodes = 1;
	put_info->max_node_id = 0;
	put_info->cpu_khz = (uint32_t)p.cpu_khz;
	put_info->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv |
				 XEN_SYSCTL_PHYSCAP_hap;
	put_info->total_pages = p.total_pages;
	put_info->free_pages = p.free_pages;
	put_info->max_mfn = p.total_pages ? p.total_pages - 1 : 0;
	return 0;
}

static int dom_op(xc_interface *xch, uint32_t op, uint32_t domid)
{
	struct sim_wire_dom d = { .domid = domid };

	return (int)xc_ret(xc_call(xch, op, &d, sizeof(d), NULL, 0));
}

int xc_domain_pause(xc_interface *xch, uint32_t domid)
{
	return dom_op(xch, SIM_OP_DOMAIN_PAUSE, domid);
}

int xc_domain_unpause(xc_interface *xch, uint32_t domid)
{
	return dom_op(xch, SIM_OP_DOMAIN_UNPAUSE, domid);
}

int xc_domain_destroy(xc_interface *xch, uint32_t domid)
{
	return dom_op(xch, SIM_OP_DOMAIN_DESTROY, domid);
}

/*
 * The wire carries a page count, not the extent list: the simulator
 * chooses which gfns of the domain become holes (docs/xensim.md).
 * Returns the number of extents released, as XENMEM_decrease_reservation.
 */
int xc_domain_decrease_reservation(xc_interface *xch, uint32_t domid,
				   unsigned long nr_extents,
				   unsigned int extent_order,
				   xen_pfn_t *extent_start)
{
	struct sim_wire_dom_nr req = { .domid = domid };
	int64_t r;

	if (!extent_start) {
		errno = EINVAL;
		return -1;
	}
	if (extent_order >= 32 || nr_extents > (UINT64_MAX >> extent_order)) {
		errno = EINVAL;
		return -1;
	}
	req.nr = (uint64_t)nr_extents << extent_order;
	r = xc_call(xch, SIM_OP_DECREASE_RESERVATION, &req, sizeof(req), NULL, 0);
	if (r < 0)
		return (int)xc_ret(r);
	return (int)((uint64_t)r >> extent_order);
}

int xc_domain_decrease_reservation_exact(xc_interface *xch, uint32_t domid,
					 unsigned long nr_extents,
					 unsigned int extent_order,
					 xen_pfn_t *extent_start)
{
	int err = xc_domain_decrease_reservation(xch, domid, nr_extents,
						 extent_order, extent_start);

	if (err >= 0 && (unsigned long)err == nr_extents)
		return 0;
	if (err >= 0) {
		errno = EINVAL;
		err = -1;
	}
	return err;
}

int xc_hvm_param_get(xc_interface *handle, uint32_t dom, uint32_t param,
		     uint64_t *value)
{
	struct sim_wire_param req = { .domid = dom, .param = (int32_t)param };
	struct sim_wire_u64 v = { 0 };
	int64_t r = xc_call(handle, SIM_OP_GET_PARAM, &req, sizeof(req), &v, sizeof(v));

	/* the real call stores the (zeroed) value even on failure */
	*value = r < 0 ? 0 : v.v;
	return (int)xc_ret(r);
}

int xc_get_hvm_param(xc_interface *handle, uint32_t dom, int param,
		     unsigned long *value)
{
	uint64_t v;
	int ret = xc_hvm_param_get(handle, dom, (uint32_t)param, &v);

	if (ret < 0)
		return ret;
	*value = v;
	return 0;
}

/* ---- memory sharing ----------------------------------------------------- */

int xc_memshr_control(xc_interface *xch, uint32_t domid, int enable)
{
	struct sim_wire_dom_nr req = { .domid = domid, .nr = !!enable };

	return (int)xc_ret(xc_call(xch, SIM_OP_MEMSHR_CONTROL, &req, sizeof(req), NULL, 0));
}

int xc_memshr_nominate_gfn(xc_interface *xch, uint32_t domid,
			   unsigned long gfn, uint64_t *handle)
{
	struct sim_wire_gfn req = { .domid = domid, .gfn = gfn };
	struct sim_wire_u64 h;
	int64_t r = xc_call(xch, SIM_OP_NOMINATE_GFN, &req, sizeof(req), &h, sizeof(h));

	if (r < 0)
		return (int)xc_ret(r);
	*handle = h.v;
	return 0;
}

int xc_memshr_share_gfns(xc_interface *xch, uint32_t source_domain,
			 unsigned long source_gfn, uint64_t source_handle,
			 uint32_t client_domain, unsigned long client_gfn,
			 uint64_t client_handle)
{
	struct sim_wire_share req = {
		.sdom = source_domain, .cdom = client_domain,
		.sgfn = source_gfn, .sh = source_handle,
		.cgfn = client_gfn, .ch = client_handle,
	};

	return (int)xc_ret(xc_call(xch, SIM_OP_SHARE_GFNS, &req, sizeof(req), NULL, 0));
}

int xc_memshr_add_to_physmap(xc_interface *xch, uint32_t source_domain,
			     unsigned long source_gfn, uint64_t source_handle,
			     uint32_t client_domain, unsigned long client_gfn)
{
	struct sim_wire_share req = {
		.sdom = source_domain, .cdom = client_domain,
		.sgfn = source_gfn, .sh = source_handle, .cgfn = client_gfn,
	};

	return (int)xc_ret(xc_call(xch, SIM_OP_ADD_TO_PHYSMAP, &req, sizeof(req), NULL, 0));
}

int xc_memshr_range_share(xc_interface *xch, uint32_t source_domain,
			  uint32_t client_domain, uint64_t first_gfn,
			  uint64_t last_gfn)
{
	struct sim_wire_range req = {
		.sdom = source_domain, .cdom = client_domain,
		.first_gfn = first_gfn, .last_gfn = last_gfn,
	};

	return (int)xc_ret(xc_call(xch, SIM_OP_RANGE_SHARE, &req, sizeof(req), NULL, 0));
}

int xc_memshr_debug_gfn(xc_interface *xch, uint32_t domid, unsigned long gfn)
{
	struct sim_wire_gfn req = { .domid = domid, .gfn = gfn };

	return (int)xc_ret(xc_call(xch, SIM_OP_DEBUG_GFN, &req, sizeof(req), NULL, 0));
}

/* exported, declared only in Xen's private tools/libs/ctrl/xc_private.h:
 * arr[i] holds a gfn on entry and its XEN_DOMCTL_PFINFO_* type on return */
int xc_get_pfn_type_batch(xc_interface *xch, uint32_t dom, unsigned int num, xen_pfn_t *arr);

int xc_get_pfn_type_batch(xc_interface *xch, uint32_t dom, unsigned int num, xen_pfn_t *arr)
{
	struct {
		struct sim_wire_map m;
		uint64_t gfns[1024];
	} req = { .m = { .domid = dom, .n = num } };
	uint64_t types[1024];
	int64_t r;

	_Static_assert(sizeof(xen_pfn_t) == sizeof(uint64_t), "xen_pfn_t width");
	if (num > 1024) {   /* XEN_DOMCTL_getpageframeinfo3's limit */
		errno = E2BIG;
		return -1;
	}
	if (!num)
		return 0;
	memcpy(req.gfns, arr, (size_t)num * sizeof(*arr));
	r = xc_call(xch, SIM_OP_PFN_TYPES, &req, sizeof(req.m) + (size_t)num * sizeof(uint64_t),
		    types, (size_t)num * sizeof(uint64_t));
	if (r < 0)
		return (int)xc_ret(r);
	memcpy(arr, types, (size_t)num * sizeof(*arr));
	return 0;
}

int xc_memshr_audit(xc_interface *xch)
{
	return (int)xc_ret(xc_call(xch, SIM_OP_AUDIT, NULL, 0, NULL, 0));
}

long xc_sharing_freed_pages(xc_interface *xch)
{
	return xc_ret(xc_call(xch, SIM_OP_FREED_PAGES, NULL, 0, NULL, 0));
}

long xc_sharing_used_frames(xc_interface *xch)
{
	return xc_ret(xc_call(xch, SIM_OP_USED_FRAMES, NULL, 0, NULL, 0));
}

int xc_memshr_ring_enable(xc_interface *xch, uint32_t domid, uint32_t *port)
{
	struct sim_wire_dom req = { .domid = domid };
	struct sim_wire_u64 p;
	int64_t r;

	if (!port) {
		errno = EINVAL;
		return -1;
	}
	r = xc_call(xch, SIM_OP_RING_ENABLE, &req, sizeof(req), &p, sizeof(p));
	if (r < 0)
		return (int)xc_ret(r);
	*port = (uint32_t)p.v;
	return 0;
}

int xc_memshr_ring_disable(xc_interface *xch, uint32_t domid)
{
	return dom_op(xch, SIM_OP_RING_DISABLE, domid);
}

int xc_memshr_domain_resume(xc_interface *xch, uint32_t domid)
{
	return dom_op(xch, SIM_OP_DOMAIN_RESUME, domid);
}

/* hypervisor-patch/'s ENOMEM waiters list and resume (xenshare_cmpshr.h). */
int xc_memshr_enomem_waiters(struct xc_interface_core *xch, uint16_t *domids,
			     unsigned int *nr)
{
	uint32_t ids[SIM_WIRE_MAX_MSG / sizeof(uint32_t) / 2];
	struct iovec rep = { ids, sizeof(ids) };
	size_t got = 0;
	int64_t r;

	if (!nr || (*nr && !domids)) {
		errno = EINVAL;
		return -1;
	}
	if (!xch || !xch->connected) {
		errno = EBADF;
		return -1;
	}
	r = sim_conn_call(&xch->conn, SIM_OP_ENOMEM_WAITERS, NULL, 0, &rep, 1, &got);
	if (r >= 0 && got != (size_t)r * sizeof(uint32_t))
		r = -EPROTO;
	if (r < 0)
		return (int)xc_ret(r);
	for (int64_t i = 0; i < r && i < *nr; i++)
		domids[i] = (uint16_t)ids[i];
	*nr = (unsigned int)r;
	return 0;
}

int xc_memshr_enomem_resume(struct xc_interface_core *xch, uint32_t domid)
{
	return dom_op(xch, SIM_OP_ENOMEM_RESUME, domid);
}

/*
 * hypervisor-patch/'s batched compare-and-share (xenshare_cmpshr.h): one
 * request carries the batch, the reply the same array with each result.
 */
int xc_memshr_compare_share(struct xc_interface_core *xch,
			    xenshare_cmpshr_pair_t *pairs, unsigned int nr)
{
	uint32_t hdr[2] = { nr, 0 };
	struct iovec req[2] = {
		{ hdr, sizeof(hdr) }, { pairs, nr * sizeof(*pairs) },
	};
	struct iovec rep = { pairs, nr * sizeof(*pairs) };
	size_t got = 0;
	int64_t r;

	if (nr > XENSHARE_CMPSHR_MAX_BATCH || (nr && !pairs)) {
		errno = EINVAL;
		return -1;
	}
	if (!xch || !xch->connected) {
		errno = EBADF;
		return -1;
	}
	sim_fmap_sweep(&xch->conn, &xch->compat);
	r = sim_conn_call(&xch->conn, SIM_OP_COMPARE_SHARE, req, nr ? 2 : 1,
			  &rep, nr ? 1 : 0, &got);
	if (r >= 0 && got != nr * sizeof(*pairs))
		r = -EPROTO;
	return r < 0 ? (int)xc_ret(r) : 0;
}

/* ---- hypercall buffers (xc_hcall_buf.c, libxencall's buffer.c) --------- */

/* libxencall's header in front of a byte-sized buffer: how many pages to free */
struct sim_hbuf_header {
	int nr_pages;
	int pad[3];
};

/* xc_private.h's bounce directions */
enum { SIM_BOUNCE_NONE = 0, SIM_BOUNCE_IN = 1, SIM_BOUNCE_OUT = 2, SIM_BOUNCE_BOTH = 3 };

static void *hbuf_pages(int nr_pages)
{
	void *p;

	if (nr_pages <= 0) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, (size_t)nr_pages << XC_PAGE_SHIFT, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void *xc__hypercall_buffer_alloc_pages(xc_interface *xch, xc_hypercall_buffer_t *b,
				       int nr_pages)
{
	void *p = hbuf_pages(nr_pages);

	(void)xch;
	if (!p)
		return NULL;
	b->hbuf = p;
	return p;
}

void xc__hypercall_buffer_free_pages(xc_interface *xch, xc_hypercall_buffer_t *b,
				     int nr_pages)
{
	(void)xch;
	if (b->hbuf && nr_pages > 0)
		munmap(b->hbuf, (size_t)nr_pages << XC_PAGE_SHIFT);
}

void *xc__hypercall_buffer_alloc(xc_interface *xch, xc_hypercall_buffer_t *b, size_t size)
{
	size_t bytes = size + sizeof(struct sim_hbuf_header);
	struct sim_hbuf_header *h;
	size_t pages;

	(void)xch;
	if (bytes < size || bytes > ((size_t)INT_MAX << XC_PAGE_SHIFT)) {
		errno = ENOMEM;
		return NULL;
	}
	pages = (bytes + XC_PAGE_SIZE - 1) >> XC_PAGE_SHIFT;
	h = hbuf_pages((int)pages);
	if (!h)
		return NULL;
	h->nr_pages = (int)pages;
	b->hbuf = h + 1;
	return b->hbuf;
}

void xc__hypercall_buffer_free(xc_interface *xch, xc_hypercall_buffer_t *b)
{
	struct sim_hbuf_header *h = b->hbuf;

	(void)xch;
	if (!h)
		return;
	h--;
	munmap(h, (size_t)h->nr_pages << XC_PAGE_SHIFT);
}

int xc__hypercall_bounce_pre(xc_interface *xch, xc_hypercall_buffer_t *b)
{
	/* a buffer not declared with DECLARE_HYPERCALL_BOUNCE: libxenctrl aborts too */
	if (b->ubuf == (void *)-1 || b->dir == SIM_BOUNCE_NONE)
		abort();
	if (!b->ubuf) {
		b->hbuf = NULL;
		return 0;
	}
	if (!xc__hypercall_buffer_alloc(xch, b, b->sz))
		return -1;
	if (b->dir == SIM_BOUNCE_IN || b->dir == SIM_BOUNCE_BOTH)
		memcpy(b->hbuf, b->ubuf, b->sz);
	return 0;
}

void xc__hypercall_bounce_post(xc_interface *xch, xc_hypercall_buffer_t *b)
{
	if (b->ubuf == (void *)-1 || b->dir == SIM_BOUNCE_NONE)
		abort();
	if (!b->hbuf)
		return;
	if (b->dir == SIM_BOUNCE_OUT || b->dir == SIM_BOUNCE_BOTH)
		memcpy(b->ubuf, b->hbuf, b->sz);
	xc__hypercall_buffer_free(xch, b);
}

struct xc_hypercall_buffer_array {
	unsigned int max_bufs;
	xc_hypercall_buffer_t *bufs;
};

xc_hypercall_buffer_array_t *xc_hypercall_buffer_array_create(xc_interface *xch, unsigned n)
{
	xc_hypercall_buffer_array_t *a = malloc(sizeof(*a));

	(void)xch;
	if (!a)
		return NULL;
	a->bufs = calloc(n ? n : 1, sizeof(*a->bufs));
	if (!a->bufs) {
		free(a);
		return NULL;
	}
	a->max_bufs = n;
	return a;
}

void *xc__hypercall_buffer_array_alloc(xc_interface *xch, xc_hypercall_buffer_array_t *array,
				       unsigned index, xc_hypercall_buffer_t *hbuf, size_t size)
{
	void *buf;

	/* libxenctrl aborts on a bad index or a slot in use */
	if (index >= array->max_bufs || array->bufs[index].hbuf)
		abort();
	buf = xc__hypercall_buffer_alloc(xch, hbuf, size);
	if (buf)
		array->bufs[index] = *hbuf;
	return buf;
}

void *xc__hypercall_buffer_array_get(xc_interface *xch, xc_hypercall_buffer_array_t *array,
				     unsigned index, xc_hypercall_buffer_t *hbuf)
{
	(void)xch;
	if (index >= array->max_bufs || !array->bufs[index].hbuf)
		abort();
	*hbuf = array->bufs[index];
	return array->bufs[index].hbuf;
}

void xc_hypercall_buffer_array_destroy(xc_interface *xc, xc_hypercall_buffer_array_t *array)
{
	if (!array)
		return;
	for (unsigned int i = 0; i < array->max_bufs; i++)
		xc__hypercall_buffer_free(xc, &array->bufs[i]);
	free(array->bufs);
	free(array);
}

/* ---- log-dirty (XEN_DOMCTL_shadow_op) ----------------------------------- */

/*
 * One shadow op.  With bitmap (bytes long, what Xen would copy to the
 * handle), the reply's bitmap lands there, zero-filled past what the host
 * sent.
 */
static int64_t shadow_op(xc_interface *xch, uint32_t domid, unsigned int sop,
			 unsigned int mode, uint64_t pages, uint8_t *bitmap, uint64_t bytes,
			 struct sim_wire_shadow_reply *out)
{
	struct sim_wire_shadow_op req = {
		.domid = domid, .op = sop, .mode = mode, .bitmap = bitmap != NULL,
		.pages = pages,
	};
	size_t inline_max = SIM_WIRE_MAX_BULK;
	struct iovec q = { &req, sizeof(req) };
	struct iovec rep[2] = {
		{ out, sizeof(*out) }, { bitmap, bytes < inline_max ? (size_t)bytes : inline_max },
	};
	size_t got = 0;
	int fd = -1;
	int64_t r;

	if (!xch || !xch->connected)
		return -EBADF;
	memset(out, 0, sizeof(*out));
	sim_fmap_sweep(&xch->conn, &xch->compat);
	r = sim_conn_call_fd(&xch->conn, SIM_OP_SHADOW_OP, &q, 1, rep, bitmap ? 2 : 1, &got, &fd);
	if (r < 0)
		return r;
	if (got < sizeof(*out) || out->bitmap_len > bytes ||
	    (!out->in_memfd && got != sizeof(*out) + out->bitmap_len) ||
	    (out->in_memfd && (fd < 0 || got != sizeof(*out)))) {
		r = -EPROTO;
		goto out;
	}
	if (out->in_memfd) {
		uint64_t done = 0;

		while (done < out->bitmap_len) {
			ssize_t n = pread(fd, bitmap + done, (size_t)(out->bitmap_len - done),
					  (off_t)done);

			if (n <= 0) {
				r = n < 0 ? -errno : -EPROTO;
				goto out;
			}
			done += (uint64_t)n;
		}
	}
	if (bitmap && bytes > out->bitmap_len)
		memset(bitmap + out->bitmap_len, 0, (size_t)(bytes - out->bitmap_len));
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int xc_shadow_control(xc_interface *xch, uint32_t domid, unsigned int sop,
		      unsigned int *mb, unsigned int mode)
{
	struct sim_wire_shadow_reply rep;

	/* *mb (the paging pool of the allocation ops, not simulated) stays as it is */
	(void)mb;
	return (int)xc_ret(shadow_op(xch, domid, sop, mode, 0, NULL, 0, &rep));
}

long long xc_logdirty_control(xc_interface *xch, uint32_t domid, unsigned int sop,
			      xc_hypercall_buffer_t *dirty_bitmap, unsigned long pages,
			      unsigned int mode, xc_shadow_op_stats_t *stats)
{
	struct sim_wire_shadow_reply rep;
	/* the buffer the handle names: a null handle when none was allocated */
	uint8_t *bitmap = dirty_bitmap ? dirty_bitmap->hbuf : NULL;
	int64_t r = shadow_op(xch, domid, sop, mode, pages, bitmap,
			      ((uint64_t)pages + 7) / 8, &rep);

	if (stats) {
		stats->fault_count = rep.fault_count;
		stats->dirty_count = rep.dirty_count;
	}
	if (r < 0)
		return xc_ret(r);
	return (long long)rep.pages;
}

/* ---- compat foreign mappings (xenctrl_compat.h) ------------------------- */

void *xc_map_foreign_bulk(xc_interface *xch, uint32_t dom, int prot,
			  const xen_pfn_t *arr, int *err, unsigned int num)
{
	if (!xch || !xch->connected) {
		errno = EBADF;
		return NULL;
	}
	sim_fmap_sweep(&xch->conn, &xch->compat);
	return sim_fmap_map(&xch->conn, &xch->compat, dom, NULL, prot, 0, num, arr, err);
}

void *xc_map_foreign_pages(xc_interface *xch, uint32_t dom, int prot,
			   const xen_pfn_t *arr, int num)
{
	if (num < 0) {
		errno = EINVAL;
		return NULL;
	}
	return xc_map_foreign_bulk(xch, dom, prot, arr, NULL, (unsigned int)num);
}

void *xc_map_foreign_range(xc_interface *xch, uint32_t dom, int size, int prot,
			   unsigned long mfn)
{
	xen_pfn_t *arr;
	void *ret;
	int num, i;

	if (size <= 0) {
		errno = EINVAL;
		return NULL;
	}
	num = (int)(((unsigned int)size + XC_PAGE_SIZE - 1) >> XC_PAGE_SHIFT);
	arr = calloc((size_t)num, sizeof(*arr));
	if (!arr)
		return NULL;
	for (i = 0; i < num; i++)
		arr[i] = mfn + (unsigned long)i;
	ret = xc_map_foreign_pages(xch, dom, prot, arr, num);
	free(arr);
	return ret;
}
