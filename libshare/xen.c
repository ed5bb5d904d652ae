/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen.c - the Xen boundary of libshare.
 *
 * DOC: Overview
 *
 * Everything the engine asks of Xen goes through here, and only through the
 * stable client libraries (libxenctrl, libxenforeignmemory, libxenevtchn),
 * so the same engine runs on a real host and, with xensim's drop-in
 * libraries on LD_LIBRARY_PATH, against the simulator.  libxc reports
 * failure as -1 with errno (and the sharing ops' handle errors as errno
 * 9/10 = XENMEM_SHARING_OP_{C,S}_HANDLE_INVALID); this module converts that
 * to a negative errno exactly once, so everything above it speaks -errno.
 *
 * The batched compare-and-share op of hypervisor-patch/ is not in Debian's
 * xenctrl.h: it is looked up with dlsym() (absent on an unpatched
 * libxenctrl) and probed once with an empty batch, where ENOSYS or
 * EOPNOTSUPP means the hypervisor lacks it.  The same patch series lists
 * and resumes ring-less domains paused on an unshare ENOMEM
 * (xc_memshr_enomem_waiters/_resume); they are looked up the same way and
 * used only after a VIRQ_ENOMEM, which only the patched hypervisor raises.
 *
 * Holes are told apart without mapping them: xc_get_pfn_type_batch()
 * (XEN_DOMCTL_getpageframeinfo3, up to 1024 gfns a call) gives each gfn's
 * page type, XTAB for a gfn with no page behind it.  A foreign mapping of
 * a hole costs dom0 a page-table update per gfn that the hypervisor then
 * refuses; a PVH guest's p2m reaches its special pages just below 4 GiB,
 * so most of its gfns are holes.  The call is exported by Xen 4.17's
 * libxenctrl (version VERS_4.17.0) but declared only in its private
 * header, hence the declaration below.
 *
 * Invariants: every successful shr_xen_map() is matched by one
 * shr_xen_unmap() (live_mappings counts them, the audit checks it is 0
 * between batches); counters are incremented for every call that crosses
 * into privcmd, successful or not.
 */
#include "xen.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xendevicemodel.h>
#include <xenforeignmemory.h>

/* libxenctrl's xc_private.h (exported, not in xenctrl.h): arr[i] holds a
 * gfn on entry and its XEN_DOMCTL_PFINFO_* type on return. */
int xc_get_pfn_type_batch(xc_interface *xch, uint32_t dom, unsigned int num, xen_pfn_t *arr);
#include <xen/hvm/params.h>
#include <xen/vm_event.h>

#include "log.h"

struct shr_xen {
	xc_interface *xch;
	xenforeignmemory_handle *fmem;
	xenevtchn_handle *xce;
	xendevicemodel_handle *dmod;         /* NULL: no log-dirty marks (full passes) */
	xc_hypercall_buffer_t ld_hbuf;       /* the log-dirty bitmap, a hypercall buffer */
	unsigned int ld_pages;               /* its size in pages (0: none yet) */
	xenshare_cmpshr_fn *cmpshr;
	xenshare_enomem_waiters_fn *enomem_waiters;
	xenshare_enomem_resume_fn *enomem_resume;
	struct shr_xen_counters cnt;
};

/* The one place -1/errno becomes -errno. */
static inline int neg_errno(int rc)
{
	if (rc >= 0)
		return rc;
	return errno > 0 ? -errno : -EIO;
}

int shr_xen_open(struct shr_xen **out)
{
	struct shr_xen *x = calloc(1, sizeof(*x));
	int rc;

	if (!x)
		return -ENOMEM;
	x->xch = xc_interface_open(NULL, NULL, 0);
	if (!x->xch) {
		rc = errno ? -errno : -ENOENT;
		shr_err("xen open: cannot open libxenctrl (privcmd): %s",
			rc == -ENOENT ? "no /dev/xen/privcmd (not a Xen dom0?)" :
			rc == -EACCES ? "permission denied (run as root)" : "error");
		goto out_free;
	}
	x->fmem = xenforeignmemory_open(NULL, 0);
	if (!x->fmem) {
		rc = errno ? -errno : -ENOENT;
		shr_err("xen open: cannot open libxenforeignmemory: errno %d", -rc);
		goto out_xc;
	}
	x->dmod = xendevicemodel_open(NULL, 0);
	if (!x->dmod)
		shr_info("xen open: no libxendevicemodel (errno %d): no dirty-log scanning",
			 errno);
	x->xce = xenevtchn_open(NULL, 0);
	if (!x->xce) {
		/* No event channels: the engine still shares, but cannot serve
		 * sharing rings or VIRQ_ENOMEM.  Logged, and reported by
		 * shr_engine_event_fd() returning -1. */
		shr_warn("xen open: cannot open libxenevtchn (errno %d): no sharing "
			 "ring or VIRQ_ENOMEM handling", errno);
	}
	x->enomem_waiters = (xenshare_enomem_waiters_fn *)
		dlsym(RTLD_DEFAULT, XENSHARE_ENOMEM_WAITERS_SYMBOL);
	x->enomem_resume = (xenshare_enomem_resume_fn *)
		dlsym(RTLD_DEFAULT, XENSHARE_ENOMEM_RESUME_SYMBOL);
	x->cmpshr = (xenshare_cmpshr_fn *)dlsym(RTLD_DEFAULT, XENSHARE_CMPSHR_SYMBOL);
	if (x->cmpshr) {
		x->cnt.hypercalls++;
		if (x->cmpshr((struct xc_interface_core *)x->xch, NULL, 0) < 0) {
			rc = errno;
			if (rc != ENOSYS && rc != EOPNOTSUPP)
				shr_warn("xen open: probing %s failed (errno %d): "
					 "using the upstream protocol",
					 XENSHARE_CMPSHR_SYMBOL, rc);
			x->cmpshr = NULL;
		}
	}
	*out = x;
	return 0;

out_xc:
	xc_interface_close(x->xch);
out_free:
	free(x);
	return rc;
}

void shr_xen_close(struct shr_xen *x)
{
	if (!x)
		return;
	if (x->xce)
		xenevtchn_close(x->xce);
	if (x->ld_pages) {
		DECLARE_HYPERCALL_BUFFER_SHADOW(void, bits, &x->ld_hbuf);

		xc_hypercall_buffer_free_pages(x->xch, bits, (int)x->ld_pages);
	}
	if (x->dmod)
		xendevicemodel_close(x->dmod);
	xenforeignmemory_close(x->fmem);
	xc_interface_close(x->xch);
	free(x);
}

const struct shr_xen_counters *shr_xen_counters(const struct shr_xen *x)
{
	return &x->cnt;
}

int shr_xen_dominfo(struct shr_xen *x, uint32_t domid, struct shr_xen_dominfo *out)
{
	xc_domaininfo_t info;
	int rc;

	x->cnt.hypercalls++;
	rc = neg_errno(xc_domain_getinfolist(x->xch, domid, 1, &info));
	if (rc < 0)
		return rc;
	if (rc == 0 || info.domain != domid)
		return -ESRCH;
	*out = (struct shr_xen_dominfo){
		.domid = domid,
		.dying = info.flags & XEN_DOMINF_dying,
		.shutdown = info.flags & XEN_DOMINF_shutdown,
		.paused = info.flags & XEN_DOMINF_paused,
		.hvm = info.flags & XEN_DOMINF_hvm_guest,
		.hap = info.flags & XEN_DOMINF_hap,
		.tot_pages = info.tot_pages,
		.max_pages = info.max_pages,
		.shr_pages = info.shr_pages,
		.nr_online_vcpus = info.nr_online_vcpus,
	};
	return 0;
}

int shr_xen_nr_gfns(struct shr_xen *x, uint32_t domid, uint64_t *out)
{
	xen_pfn_t max_gpfn;
	int rc;

	x->cnt.hypercalls++;
	rc = neg_errno(xc_domain_maximum_gpfn(x->xch, domid, &max_gpfn));
	if (rc < 0)
		return rc;
	*out = (uint64_t)max_gpfn + 1;
	return 0;
}

int shr_xen_physinfo(struct shr_xen *x, uint64_t *total_pages, uint64_t *free_pages)
{
	xc_physinfo_t info = { 0 };
	int rc;

	x->cnt.hypercalls++;
	rc = neg_errno(xc_physinfo(x->xch, &info));
	if (rc < 0)
		return rc;
	*total_pages = info.total_pages;
	*free_pages = info.free_pages;
	return 0;
}

int shr_xen_sharing_counters(struct shr_xen *x, uint64_t *freed, uint64_t *used)
{
	long f, u;

	x->cnt.info_calls += 2;
	f = xc_sharing_freed_pages(x->xch);
	if (f < 0)
		return neg_errno(-1);
	u = xc_sharing_used_frames(x->xch);
	if (u < 0)
		return neg_errno(-1);
	*freed = (uint64_t)f;
	*used = (uint64_t)u;
	return 0;
}

int shr_xen_map(struct shr_xen *x, uint32_t domid, bool writable,
		const uint64_t *gfns, unsigned int n, int *err, void **addr)
{
	/* xen_pfn_t is unsigned long: the same width as uint64_t on x86-64,
	 * the only architecture with memory sharing. */
	_Static_assert(sizeof(xen_pfn_t) == sizeof(uint64_t), "xen_pfn_t width");
	void *p;

	x->cnt.mappings++;
	x->cnt.mapped_pages += n;
	p = xenforeignmemory_map(x->fmem, domid, writable ? PROT_READ | PROT_WRITE : PROT_READ,
				 n, (const xen_pfn_t *)gfns, err);
	if (!p)
		return neg_errno(-1);
	x->cnt.live_mappings++;
	*addr = p;
	return 0;
}

void shr_xen_unmap(struct shr_xen *x, void *addr, unsigned int n)
{
	if (xenforeignmemory_unmap(x->fmem, addr, n) < 0)
		shr_err("unmap of %u pages at %p failed: errno %d", n, addr, errno);
	x->cnt.live_mappings--;
}

int shr_xen_gfn_holes(struct shr_xen *x, uint32_t domid, const uint64_t *gfns, unsigned int n,
		      bool *hole)
{
	xen_pfn_t arr[SHR_XEN_TYPE_BATCH];

	if (!n || n > SHR_XEN_TYPE_BATCH)
		return -EINVAL;
	memcpy(arr, gfns, (size_t)n * sizeof(*arr));
	x->cnt.hypercalls++;
	if (xc_get_pfn_type_batch(x->xch, domid, n, arr) < 0)
		return neg_errno(-1);
	for (unsigned int i = 0; i < n; i++) {
		xen_pfn_t t = arr[i] & XEN_DOMCTL_PFINFO_LTAB_MASK;

		hole[i] = t == XEN_DOMCTL_PFINFO_XTAB || t == XEN_DOMCTL_PFINFO_BROKEN;
	}
	return 0;
}

int shr_xen_memshr_control(struct shr_xen *x, uint32_t domid, bool enable)
{
	x->cnt.hypercalls++;
	return neg_errno(xc_memshr_control(x->xch, domid, enable));
}

int shr_xen_nominate(struct shr_xen *x, uint32_t domid, uint64_t gfn, uint64_t *handle)
{
	x->cnt.hypercalls++;
	return neg_errno(xc_memshr_nominate_gfn(x->xch, domid, gfn, handle));
}

/*
 * A share's errno as a verdict: XENMEM_SHARING_OP_{S,C}_HANDLE_INVALID
 * (-10, -9 once errno is negated) mean a handle died, and a patched hypervisor (0008) refuses a
 * client frame spanning a third domain with EDEADLK instead of panicking.
 */
static int share_verdict(int rc, enum shr_verdict *v)
{
	*v = SHR_FAILED;
	if (rc == 0)
		*v = SHR_SHARED;
	else if (rc == XENMEM_SHARING_OP_S_HANDLE_INVALID)
		*v = SHR_SRC_STALE;
	else if (rc == XENMEM_SHARING_OP_C_HANDLE_INVALID)
		*v = SHR_CLI_STALE;
	else if (rc == -EDEADLK)
		*v = SHR_SPANNED;
	return *v == SHR_FAILED ? rc : 0;
}

int shr_xen_share(struct shr_xen *x, uint32_t sdom, uint64_t sgfn, uint64_t sh,
		  uint32_t cdom, uint64_t cgfn, uint64_t ch, enum shr_verdict *v)
{
	x->cnt.hypercalls++;
	return share_verdict(neg_errno(xc_memshr_share_gfns(x->xch, sdom, sgfn, sh,
							     cdom, cgfn, ch)), v);
}

/*
 * XENMEM_sharing_op_debug_gfn: in a release build of Xen its messages are
 * compiled out (gdprintk), which leaves a read-only query of one gfn.
 */
int shr_xen_gfn_shared(struct shr_xen *x, uint32_t domid, uint64_t gfn)
{
	x->cnt.hypercalls++;
	return neg_errno(xc_memshr_debug_gfn(x->xch, domid, gfn));
}

bool shr_xen_has_cmpshr(const struct shr_xen *x)
{
	return x->cmpshr != NULL;
}

int shr_xen_cmpshr(struct shr_xen *x, xenshare_cmpshr_pair_t *pairs, unsigned int n)
{
	if (!x->cmpshr)
		return -EOPNOTSUPP;
	x->cnt.hypercalls++;
	return neg_errno(x->cmpshr((struct xc_interface_core *)x->xch, pairs, n));
}

enum shr_verdict shr_xen_cmpshr_verdict(const xenshare_cmpshr_pair_t *p, int *err)
{
	enum shr_verdict v;

	*err = 0;
	switch (p->result) {
	case XENSHARE_CMPSHR_SHARED:
		return SHR_SHARED;
	case XENSHARE_CMPSHR_DIFFERENT:
		return SHR_DIFFERENT;
	case XENSHARE_CMPSHR_SPANNED:
		return SHR_SPANNED;
	default:
		if (p->result >= 0) {
			*err = -EPROTO;     /* a result this engine does not know */
			return SHR_FAILED;
		}
		*err = share_verdict(p->result, &v);
		return v;
	}
}

int shr_xen_ring_enable(struct shr_xen *x, uint32_t domid, uint32_t *port)
{
	x->cnt.hypercalls++;
	return neg_errno(xc_memshr_ring_enable(x->xch, domid, port));
}

int shr_xen_ring_disable(struct shr_xen *x, uint32_t domid)
{
	x->cnt.hypercalls++;
	return neg_errno(xc_memshr_ring_disable(x->xch, domid));
}

int shr_xen_ring_pfn(struct shr_xen *x, uint32_t domid, uint64_t *pfn)
{
	x->cnt.hypercalls++;
	return neg_errno(xc_hvm_param_get(x->xch, domid, HVM_PARAM_SHARING_RING_PFN, pfn));
}

int shr_xen_domain_resume(struct shr_xen *x, uint32_t domid)
{
	x->cnt.hypercalls++;
	return neg_errno(xc_memshr_domain_resume(x->xch, domid));
}

int shr_xen_enomem_waiters(struct shr_xen *x, uint16_t *domids, unsigned int *nr)
{
	if (!x->enomem_waiters)
		return -ENOSYS;
	x->cnt.hypercalls++;
	return neg_errno(x->enomem_waiters((struct xc_interface_core *)x->xch, domids, nr));
}

int shr_xen_enomem_resume(struct shr_xen *x, uint32_t domid)
{
	if (!x->enomem_resume)
		return -ENOSYS;
	x->cnt.hypercalls++;
	return neg_errno(x->enomem_resume((struct xc_interface_core *)x->xch, domid));
}

/* ---- log-dirty ------------------------------------------------------ */

int shr_xen_logdirty_enable(struct shr_xen *x, uint32_t domid)
{
	x->cnt.hypercalls++;
	return neg_errno(xc_shadow_control(x->xch, domid, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY,
					   NULL, 0));
}

int shr_xen_logdirty_disable(struct shr_xen *x, uint32_t domid)
{
	x->cnt.hypercalls++;
	return neg_errno(xc_shadow_control(x->xch, domid, XEN_DOMCTL_SHADOW_OP_OFF, NULL, 0));
}

/* The boundary's bitmap buffer, grown to hold nr bits (kept between calls:
 * a hypercall buffer is a locked mapping, not worth making per call). */
static int ld_buffer(struct shr_xen *x, uint64_t nr)
{
	unsigned int pages = (unsigned int)((nr + 8 * XC_PAGE_SIZE - 1) / (8 * XC_PAGE_SIZE));
	DECLARE_HYPERCALL_BUFFER(void, bits);

	if (pages <= x->ld_pages)
		return 0;
	bits = xc_hypercall_buffer_alloc_pages(x->xch, bits, (int)pages);
	if (!bits)
		return -ENOMEM;
	if (x->ld_pages) {
		DECLARE_HYPERCALL_BUFFER_SHADOW(void, old, &x->ld_hbuf);

		xc_hypercall_buffer_free_pages(x->xch, old, (int)x->ld_pages);
	}
	x->ld_hbuf = XC__HYPERCALL_BUFFER_NAME(bits);
	x->ld_pages = pages;
	return 0;
}

int shr_xen_logdirty_read(struct shr_xen *x, uint32_t domid, bool clean, uint64_t nr,
			  const uint64_t **bits, uint64_t *dirty_count)
{
	xc_shadow_op_stats_t stats = { 0 };
	long long rc;

	if (ld_buffer(x, nr))
		return -ENOMEM;
	{
		DECLARE_HYPERCALL_BUFFER_SHADOW(void, buf, &x->ld_hbuf);

		memset(buf, 0, (size_t)x->ld_pages * XC_PAGE_SIZE);
		x->cnt.hypercalls++;
		rc = xc_logdirty_control(x->xch, domid, clean ? XEN_DOMCTL_SHADOW_OP_CLEAN :
				       XEN_DOMCTL_SHADOW_OP_PEEK, HYPERCALL_BUFFER(buf),
				       (unsigned long)nr, 0, &stats);
	}
	if (rc < 0)
		return neg_errno(-1);
	*bits = x->ld_hbuf.hbuf;
	*dirty_count = stats.dirty_count;
	return 0;
}

int shr_xen_mark_dirty(struct shr_xen *x, uint32_t domid, uint64_t first, uint32_t nr)
{
	if (!x->dmod)
		return -ENOSYS;
	x->cnt.hypercalls++;
	return neg_errno(xendevicemodel_modified_memory(x->dmod, (domid_t)domid, first, nr));
}

bool shr_xen_has_logdirty(const struct shr_xen *x)
{
	return x->dmod != NULL;
}

int shr_xen_evtchn_fd(struct shr_xen *x)
{
	return x->xce ? xenevtchn_fd(x->xce) : -1;
}

int shr_xen_evtchn_bind_interdomain(struct shr_xen *x, uint32_t domid, uint32_t port,
				    uint32_t *local)
{
	xenevtchn_port_or_error_t p;

	if (!x->xce)
		return -ENODEV;
	p = xenevtchn_bind_interdomain(x->xce, domid, port);
	if (p < 0)
		return neg_errno(-1);
	*local = (uint32_t)p;
	return 0;
}

int shr_xen_evtchn_bind_virq(struct shr_xen *x, unsigned int virq, uint32_t *local)
{
	xenevtchn_port_or_error_t p;

	if (!x->xce)
		return -ENODEV;
	p = xenevtchn_bind_virq(x->xce, virq);
	if (p < 0)
		return neg_errno(-1);
	*local = (uint32_t)p;
	return 0;
}

int shr_xen_evtchn_unbind(struct shr_xen *x, uint32_t local)
{
	if (!x->xce)
		return -ENODEV;
	return neg_errno(xenevtchn_unbind(x->xce, local));
}

int shr_xen_evtchn_notify(struct shr_xen *x, uint32_t local)
{
	if (!x->xce)
		return -ENODEV;
	return neg_errno(xenevtchn_notify(x->xce, local));
}

int shr_xen_evtchn_pending(struct shr_xen *x)
{
	struct pollfd pfd;
	xenevtchn_port_or_error_t p;
	int rc;

	if (!x->xce)
		return -ENODEV;
	/* xenevtchn_pending() blocks on an empty queue: poll first. */
	pfd = (struct pollfd){ .fd = xenevtchn_fd(x->xce), .events = POLLIN };
	rc = poll(&pfd, 1, 0);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -EAGAIN;
	p = xenevtchn_pending(x->xce);
	if (p < 0)
		return neg_errno(-1);
	return (int)p;
}

int shr_xen_evtchn_unmask(struct shr_xen *x, uint32_t local)
{
	if (!x->xce)
		return -ENODEV;
	return neg_errno(xenevtchn_unmask(x->xce, local));
}

/* ---- the sharing ring ------------------------------------------------- */

struct shr_xen_ring {
	uint32_t domid;
	uint32_t local_port;
	void *page;
	vm_event_back_ring_t back;
};

/*
 * Takeover of a ring left enabled (see xen.h), the domain paused: the back
 * ring adopts the shared indices the previous consumer left (responses
 * pushed up to rsp_prod, after Xen has consumed them), answers every
 * request from rsp_prod to req_prod in place, and lets Xen consume those.
 * The page is the guest's: a garbage index pair reads no more than one
 * ring's worth.  Returns the number of requests answered.
 */
static unsigned int ring_answer_left(struct shr_xen *x, uint32_t domid, void *page)
{
	vm_event_sring_t *sring = page;
	vm_event_back_ring_t back;
	unsigned int n = 0;
	RING_IDX req_prod;

	shr_xen_domain_resume(x, domid);
	BACK_RING_ATTACH(&back, sring, sring->rsp_prod, XC_PAGE_SIZE);
	req_prod = sring->req_prod;
	xen_rmb();
	while (back.rsp_prod_pvt != req_prod && n < RING_SIZE(&back)) {
		const vm_event_request_t *req = RING_GET_REQUEST(&back, back.rsp_prod_pvt);
		vm_event_response_t rsp = {
			.version = VM_EVENT_INTERFACE_VERSION,
			.vcpu_id = req->vcpu_id,
			.flags = req->flags & VM_EVENT_FLAG_VCPU_PAUSED,
			.reason = req->reason,
		};

		memcpy(RING_GET_RESPONSE(&back, back.rsp_prod_pvt), &rsp, sizeof(rsp));
		back.rsp_prod_pvt++;
		n++;
	}
	if (n) {
		RING_PUSH_RESPONSES(&back);
		shr_xen_domain_resume(x, domid);
	}
	return n;
}

static int ring_take_over(struct shr_xen *x, uint32_t domid, void *page, uint32_t *port,
			  unsigned int *answered)
{
	bool paused;
	int rc;

	x->cnt.hypercalls++;
	paused = xc_domain_pause(x->xch, domid) == 0;
	if (!paused)
		shr_warn("d%u ring takeover: pause: errno %d (taken over running)", domid, errno);
	*answered = ring_answer_left(x, domid, page);
	rc = shr_xen_ring_disable(x, domid);
	if (rc == 0)
		rc = shr_xen_ring_enable(x, domid, port);
	if (paused) {
		x->cnt.hypercalls++;
		if (xc_domain_unpause(x->xch, domid))
			shr_err("d%u ring takeover: unpause: errno %d: the domain stays paused",
				domid, errno);
	}
	return rc;
}

int shr_xen_ring_attach(struct shr_xen *x, uint32_t domid, struct shr_xen_ring **out,
			unsigned int *answered)
{
	struct shr_xen_ring *r;
	unsigned int n = 0;
	uint64_t pfn;
	uint32_t port;
	int err = 0, rc;

	if (answered)
		*answered = 0;
	if (!x->xce)
		return -ENODEV;
	rc = shr_xen_ring_pfn(x, domid, &pfn);
	if (rc)
		return rc;
	if (!pfn)
		return -ENOENT;       /* the toolstack gave the domain no ring page */
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->domid = domid;
	rc = shr_xen_map(x, domid, true, &pfn, 1, &err, &r->page);
	if (rc)
		goto out_free;
	/* the ring page stays mapped: not a batch mapping */
	x->cnt.live_mappings--;
	x->cnt.ring_mappings++;
	if (err) {
		rc = err;
		goto out_unmap;
	}
	rc = shr_xen_ring_enable(x, domid, &port);
	if (rc == -EINVAL || rc == -EBUSY)
		rc = ring_take_over(x, domid, r->page, &port, &n);
	if (rc)
		goto out_unmap;
	SHARED_RING_INIT((vm_event_sring_t *)r->page);
	BACK_RING_INIT(&r->back, (vm_event_sring_t *)r->page, XC_PAGE_SIZE);
	rc = shr_xen_evtchn_bind_interdomain(x, domid, port, &r->local_port);
	if (rc)
		goto out_disable;
	if (answered)
		*answered = n;
	*out = r;
	return 0;

out_disable:
	shr_xen_ring_disable(x, domid);
out_unmap:
	x->cnt.live_mappings++;
	x->cnt.ring_mappings--;
	shr_xen_unmap(x, r->page, 1);
out_free:
	free(r);
	return rc;
}

void shr_xen_ring_detach(struct shr_xen *x, struct shr_xen_ring *r, bool disable)
{
	if (!r)
		return;
	shr_xen_evtchn_unbind(x, r->local_port);
	if (disable)
		shr_xen_ring_disable(x, r->domid);
	x->cnt.live_mappings++;
	x->cnt.ring_mappings--;
	shr_xen_unmap(x, r->page, 1);
	free(r);
}

uint32_t shr_xen_ring_port(const struct shr_xen_ring *r)
{
	return r->local_port;
}

uint32_t shr_xen_ring_domid(const struct shr_xen_ring *r)
{
	return r->domid;
}

int shr_xen_ring_take(struct shr_xen_ring *r, struct shr_xen_ring_req *req)
{
	vm_event_request_t vreq;
	RING_IDX cons;

	if (!RING_HAS_UNCONSUMED_REQUESTS(&r->back))
		return 0;
	cons = r->back.req_cons;
	memcpy(&vreq, RING_GET_REQUEST(&r->back, cons), sizeof(vreq));
	r->back.req_cons = cons + 1;
	r->back.sring->req_event = cons + 2;
	*req = (struct shr_xen_ring_req){ .vcpu_id = vreq.vcpu_id, .flags = vreq.flags,
					  .reason = vreq.reason };
	return 1;
}

int shr_xen_ring_respond(struct shr_xen *x, struct shr_xen_ring *r,
			 const struct shr_xen_ring_req *req)
{
	vm_event_response_t rsp = {
		.version = VM_EVENT_INTERFACE_VERSION,
		.vcpu_id = req->vcpu_id,
		.flags = req->flags & VM_EVENT_FLAG_VCPU_PAUSED,
		.reason = req->reason,
	};
	RING_IDX prod = r->back.rsp_prod_pvt;

	memcpy(RING_GET_RESPONSE(&r->back, prod), &rsp, sizeof(rsp));
	r->back.rsp_prod_pvt = prod + 1;
	RING_PUSH_RESPONSES(&r->back);
	return shr_xen_evtchn_notify(x, r->local_port);
}
