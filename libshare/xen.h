/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen.h - the engine's only door to Xen: libxenctrl, libxenforeignmemory
 * and libxenevtchn behind a few functions that return 0 (or a count) and
 * -errno.  Every call that reaches the hypervisor or privcmd is counted
 * (hypercalls, mappings) for the benchmarks.
 *
 * Two kinds of answer never share one int: errors are -errno, and what the
 * hypervisor says of a pair it was asked to share (merged, different, a
 * handle that died, a frame spanning a third domain) is an enum
 * shr_verdict; docs/design.md, "Results", lists them with the engine's
 * reaction to each.
 */
#ifndef SHR_XEN_H
#define SHR_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypervisor-patch/include/xenshare_cmpshr.h"

struct shr_xen;

struct shr_xen_dominfo {
	uint32_t domid;
	bool dying, shutdown, paused, hvm, hap;
	uint64_t tot_pages, max_pages, shr_pages;
	uint32_t nr_online_vcpus;
};

struct shr_xen_counters {
	uint64_t hypercalls;      /* libxenctrl calls that reach the hypervisor */
	uint64_t mappings;        /* xenforeignmemory_map calls */
	uint64_t mapped_pages;    /* pages in those calls */
	uint64_t live_mappings;   /* batch maps not yet unmapped (audit: 0 between batches) */
	uint64_t ring_mappings;   /* sharing-ring pages mapped for the engine's lifetime */
	uint64_t info_calls;      /* counter reads for statistics (not in hypercalls) */
};

int shr_xen_open(struct shr_xen **out);
void shr_xen_close(struct shr_xen *x);
const struct shr_xen_counters *shr_xen_counters(const struct shr_xen *x);

/* domains and host */
int shr_xen_dominfo(struct shr_xen *x, uint32_t domid, struct shr_xen_dominfo *out);
/* Number of gfns to scan: highest gfn + 1. */
int shr_xen_nr_gfns(struct shr_xen *x, uint32_t domid, uint64_t *out);
int shr_xen_physinfo(struct shr_xen *x, uint64_t *total_pages, uint64_t *free_pages);
int shr_xen_sharing_counters(struct shr_xen *x, uint64_t *freed, uint64_t *used);

/* foreign mappings: n pages of domid at consecutive addresses; err[i] is 0
 * or -errno per page (never read a page whose err is non-zero). */
int shr_xen_map(struct shr_xen *x, uint32_t domid, bool writable,
		const uint64_t *gfns, unsigned int n, int *err, void **addr);
void shr_xen_unmap(struct shr_xen *x, void *addr, unsigned int n);

/* gfns per shr_xen_gfn_holes() call at most (XEN_DOMCTL_getpageframeinfo3) */
#define SHR_XEN_TYPE_BATCH 1024u
/* Which of n gfns (n <= SHR_XEN_TYPE_BATCH) have no page a mapping could
 * read: hole[i] is true for a hole of the p2m, a gfn past its end, a page
 * paged out or broken, a hypervisor-owned special page.  One hypercall,
 * no mapping.  0 or -errno (-ESRCH: the domain is gone). */
int shr_xen_gfn_holes(struct shr_xen *x, uint32_t domid, const uint64_t *gfns, unsigned int n,
		      bool *hole);

/* What the hypervisor says of one pair (docs/design.md, "Results"). */
enum shr_verdict {
	SHR_SHARED = 0,        /* merged (or both gfns were on one frame already) */
	SHR_DIFFERENT,         /* the frames differ: nothing merged */
	SHR_SPANNED,           /* the client's frame also backs a third domain's gfn:
				  refused (batched op; a patched plain share's EDEADLK) */
	SHR_SRC_STALE,         /* the source's handle died: its guest wrote the page */
	SHR_CLI_STALE,         /* the client's handle died */
	SHR_FAILED,            /* an error: its -errno is given beside */
};

/* memory sharing */
int shr_xen_memshr_control(struct shr_xen *x, uint32_t domid, bool enable);
int shr_xen_nominate(struct shr_xen *x, uint32_t domid, uint64_t gfn, uint64_t *handle);
/* 0 with the verdict, or -errno (*v = SHR_FAILED). */
int shr_xen_share(struct shr_xen *x, uint32_t sdom, uint64_t sgfn, uint64_t sh,
		  uint32_t cdom, uint64_t cgfn, uint64_t ch, enum shr_verdict *v);
/* Whether domid's gfn maps a shared frame: >= 0 (Xen's reference count of
 * the frame) if it does, -EINVAL if the gfn maps a private page. */
int shr_xen_gfn_shared(struct shr_xen *x, uint32_t domid, uint64_t gfn);
/* The batched op: -EOPNOTSUPP when this libxenctrl or hypervisor lacks it;
 * another -errno when the batch as a whole failed; 0 when every pair has a
 * result, which shr_xen_cmpshr_verdict() reads. */
bool shr_xen_has_cmpshr(const struct shr_xen *x);
int shr_xen_cmpshr(struct shr_xen *x, xenshare_cmpshr_pair_t *pairs, unsigned int n);
/* One pair's result: its verdict, and *err (-errno) for SHR_FAILED. */
enum shr_verdict shr_xen_cmpshr_verdict(const xenshare_cmpshr_pair_t *p, int *err);

/*
 * Log-dirty mode, as live migration uses it (XEN_DOMCTL_SHADOW_OP_*):
 * enable (-EINVAL when some user already has it on), disable, and read the
 * bitmap of the first nr gfns, clearing it (clean) or not.  *bits points
 * into the boundary's buffer (bit g of word g / 64), valid until the next
 * call; *dirty_count is Xen's count of bits set since the last clean.
 * shr_xen_mark_dirty() sets bits (XEN_DMOP_modified_memory, which unshares
 * a shared page first, and is a no-op while log-dirty is off); it needs
 * libxendevicemodel: shr_xen_has_logdirty() says whether it was found.
 */
bool shr_xen_has_logdirty(const struct shr_xen *x);
int shr_xen_logdirty_enable(struct shr_xen *x, uint32_t domid);
int shr_xen_logdirty_disable(struct shr_xen *x, uint32_t domid);
int shr_xen_logdirty_read(struct shr_xen *x, uint32_t domid, bool clean, uint64_t nr,
			  const uint64_t **bits, uint64_t *dirty_count);
int shr_xen_mark_dirty(struct shr_xen *x, uint32_t domid, uint64_t first, uint32_t nr);

/* the sharing ring and ENOMEM events */
int shr_xen_ring_enable(struct shr_xen *x, uint32_t domid, uint32_t *port);
int shr_xen_ring_disable(struct shr_xen *x, uint32_t domid);
int shr_xen_ring_pfn(struct shr_xen *x, uint32_t domid, uint64_t *pfn);
int shr_xen_domain_resume(struct shr_xen *x, uint32_t domid);
/* Patched hypervisor, ring-less domains paused on an unshare ENOMEM:
 * list them (*nr: room in, waiting domains out) and resume one (returns
 * the vCPUs resumed).  -ENOSYS where libxenctrl lacks the ops. */
int shr_xen_enomem_waiters(struct shr_xen *x, uint16_t *domids, unsigned int *nr);
int shr_xen_enomem_resume(struct shr_xen *x, uint32_t domid);
/*
 * A domain's sharing vm_event ring, set up as xc_vm_event_enable() does
 * (HVM_PARAM_SHARING_RING_PFN, map the page read-write, enable, init the
 * back ring, bind the event channel).  -ENOSYS/-ENOENT: the domain has no
 * ring page; other errors as the calls give them.
 *
 * A ring a previous consumer left enabled (xenshared stopped or killed) is
 * taken over with the domain paused, so that no vCPU can fault meanwhile:
 * the hypervisor first consumes the responses that consumer pushed, then
 * every request it left unanswered is answered on the OLD ring, at its own
 * index (the ring protocol pairs them by index), and consumed too; only
 * then is the ring disabled, enabled afresh and initialised, and the
 * domain unpaused.  A vCPU that was waiting runs again and, if memory is
 * still short, faults once more and asks on the new ring: no request is
 * ever lost, and no vCPU is left paused by a request nobody will answer.
 * *answered (may be NULL) is the number of requests answered that way.
 */
struct shr_xen_ring;
struct shr_xen_ring_req {
	uint32_t vcpu_id, flags, reason;
};
int shr_xen_ring_attach(struct shr_xen *x, uint32_t domid, struct shr_xen_ring **out,
			unsigned int *answered);
/* Releases the ring; with disable false the hypervisor keeps it enabled
 * (its unanswered requests stay on it for the next consumer). */
void shr_xen_ring_detach(struct shr_xen *x, struct shr_xen_ring *r, bool disable);
uint32_t shr_xen_ring_port(const struct shr_xen_ring *r);
uint32_t shr_xen_ring_domid(const struct shr_xen_ring *r);
/* 1 and the request if one was queued, 0 if none. */
int shr_xen_ring_take(struct shr_xen_ring *r, struct shr_xen_ring_req *req);
/* Puts the response to req on the ring and kicks the hypervisor. */
int shr_xen_ring_respond(struct shr_xen *x, struct shr_xen_ring *r,
			 const struct shr_xen_ring_req *req);

int shr_xen_evtchn_fd(struct shr_xen *x);
int shr_xen_evtchn_bind_interdomain(struct shr_xen *x, uint32_t domid, uint32_t port,
				    uint32_t *local);
int shr_xen_evtchn_bind_virq(struct shr_xen *x, unsigned int virq, uint32_t *local);
int shr_xen_evtchn_unbind(struct shr_xen *x, uint32_t local);
int shr_xen_evtchn_notify(struct shr_xen *x, uint32_t local);
/* Next pending local port (>= 0), -EAGAIN when none. */
int shr_xen_evtchn_pending(struct shr_xen *x);
int shr_xen_evtchn_unmask(struct shr_xen *x, uint32_t local);

#endif /* SHR_XEN_H */
