/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fake_xen.h - an in-process Xen 4.17 host behind libshare/xen.h, for the
 * unit tests of the engine's core (see fake_xen.c).
 *
 * A unit binary links libshare's objects except xen.o, plus fake_xen.o:
 * every shr_xen_*() call of the engine lands in a simulated hypervisor of
 * this process.  The test sets the host up with the fx_*() calls below,
 * plays the guests and the other tools (writes, mappings, nominations of
 * its own), and makes any call fail or answer what it wants:
 *
 *   fx_inject(FX_NOMINATE, 1, 5, 2, 1, -E2BIG)   the 2nd nominate of d1 gfn 5
 *                                                 from now returns -E2BIG
 *   fx_hook(FX_SHARE, FX_ANY_DOM, FX_ANY_GFN, 1, write_source, NULL)
 *                                                 a guest writes just before
 *                                                 the next share
 *
 * An injected result replaces the call: nothing of it happens in the host.
 * A hook runs before the call, which then happens as usual.
 */
#ifndef FAKE_XEN_H
#define FAKE_XEN_H

#include <stdbool.h>
#include <stdint.h>

#include "libshare/xen.h"

#define FX_PAGE_SIZE 4096u
#define FX_ANY_DOM UINT32_MAX
#define FX_ANY_GFN UINT64_MAX

/* What a share of Xen 4.17 returns for a handle that died (errno 10 / 9 of
 * libxc, XENMEM_SHARING_OP_{S,C}_HANDLE_INVALID of xen/public/memory.h). */
#define FX_S_HANDLE_INVALID (-10)
#define FX_C_HANDLE_INVALID (-9)

/* fx_write(): the write did not happen because its vCPU now waits for
 * memory (on the sharing ring, or as a VIRQ_ENOMEM waiter of the patched
 * hypervisor), or because the domain crashed ("ENOMEM and no helper"). */
#define FX_PAUSED 1
#define FX_CRASHED 2

struct fx_cfg {
	uint64_t host_pages;         /* frames of the host; free = host - populated */
	bool patched;                /* hypervisor-patch/: the batched op, VIRQ_ENOMEM
					waiters, EDEADLK instead of a panic */
	bool no_mem_sharing;         /* no CONFIG_MEM_SHARING: sharing ops give ENOSYS */
	bool no_evtchn;              /* libxenevtchn cannot be opened */
	bool no_devicemodel;         /* libxendevicemodel cannot be opened (no dirty log) */
	bool no_frame_merge;         /* patched without 0009: two spanned frames are
					SPANNED, not merged */
};

/* A fresh host (whatever the previous test left is freed); and the end. */
void fx_reset(const struct fx_cfg *cfg);
void fx_fini(void);

/* ---- calls the engine makes: counting, failing, hooking -------------------- */

enum fx_op {
	FX_OPEN,                     /* shr_xen_open */
	FX_DOMINFO,
	FX_NR_GFNS,
	FX_PHYSINFO,
	FX_SHARING_COUNTERS,
	FX_MAP,                      /* a whole call: matched on its domain and any gfn */
	FX_MAP_PAGE,                 /* one page's err[] of a map call */
	FX_GFN_TYPES,                /* page types of gfns: matched on its domain and any gfn */
	FX_MEMSHR_CONTROL,
	FX_NOMINATE,
	FX_SHARE,                    /* matched on the client; rc as Xen gives it (FX_*_HANDLE_
					INVALID, -EDEADLK, -errno), converted as xen.c does */
	FX_DEBUG_GFN,
	FX_CMPSHR,                   /* the batched op as a whole: matched on any pair's client */
	FX_CMPSHR_PAIR,              /* one pair's result (XENSHARE_CMPSHR_* or -errno),
					matched on its client */
	FX_RING_PFN,
	FX_RING_ENABLE,
	FX_RING_DISABLE,
	FX_DOMAIN_RESUME,
	FX_ENOMEM_WAITERS,
	FX_ENOMEM_RESUME,
	FX_EVTCHN_BIND,              /* interdomain (matched on the domain) and VIRQ (domain 0) */
	FX_EVTCHN_PENDING,
	FX_RING_RESPOND,
	FX_LOGDIRTY_ENABLE,
	FX_LOGDIRTY_DISABLE,
	FX_LOGDIRTY_READ,            /* CLEAN and PEEK */
	FX_MARK_DIRTY,               /* XEN_DMOP_modified_memory, matched on its first gfn */
	FX_NR_OPS
};

/*
 * Of the calls of op that match domid and gfn (FX_ANY_*) from now on, the
 * nth (1 = the next one) and the times - 1 after it (times 0: every one
 * from the nth on) return rc instead of happening.  0, or -ENOSPC when
 * too many rules are set.
 */
int fx_inject(enum fx_op op, uint32_t domid, uint64_t gfn, unsigned int nth,
	      unsigned int times, int rc);
/* fn(arg) runs just before the nth matching call (once). */
int fx_hook(enum fx_op op, uint32_t domid, uint64_t gfn, unsigned int nth,
	    void (*fn)(void *arg), void *arg);
/* Calls of op the engine made since fx_reset(). */
uint64_t fx_calls(enum fx_op op);

/* ---- the host ------------------------------------------------------------------ */

struct fx_host_stats {
	uint64_t total, free;        /* frames */
	uint64_t nr_saved, nr_shared;
	uint64_t sum_shr_pages;      /* = nr_saved + nr_shared, always (fx_check) */
	uint64_t single_sharer;      /* shared frames with one gfn: nominated, never merged */
	/* what the engine must never do */
	uint64_t nominate_while_mapped;  /* a nominate or batched op while a batch map is live */
	uint64_t ring_page_maps;     /* the ring page in a batch mapping */
	uint64_t bad_unmaps;         /* unmap of an address not mapped (or of the wrong size) */
	const char *panic;           /* Xen 4.17 panicked (share_pages() lock order), or NULL */
};
void fx_host(struct fx_host_stats *out);
/* Free frames (a memory hog, or one that went away). */
void fx_host_set_free(uint64_t free_pages);
/* Checks the model's own invariants (frame counts against the p2ms,
 * sum(shr_pages) = saved + shared); returns the violations, each printed. */
int fx_check(void);
/* Shared frames holding gfns of domains that group_of() puts apart. */
unsigned int fx_mixed_frames(const char *(*group_of)(uint32_t domid));

/* ---- domains -------------------------------------------------------------------- */

/* An HVM domain of nr_gfns gfns, every one a zero page; -ENOMEM when the
 * host has not that many free frames, -EEXIST. */
int fx_dom_create(uint32_t domid, uint64_t nr_gfns);
/* Destroyed: its shares dropped, its frames freed, its ring gone. */
void fx_dom_destroy(uint32_t domid);
void fx_dom_set_dying(uint32_t domid);
/* Sharing refused for it: memshr_control (and the implicit enable of the
 * first sharing op) gives err (-EOPNOTSUPP, -EXDEV, -ENODEV). */
void fx_dom_refuse(uint32_t domid, int err);
/* The p2m grows to nr_gfns (the new gfns zero pages). */
int fx_dom_grow(uint32_t domid, uint64_t nr_gfns);
/* gfn becomes the domain's sharing ring page (HVM_PARAM_SHARING_RING_PFN). */
void fx_dom_set_ring(uint32_t domid, uint64_t gfn);

struct fx_dom_stats {
	uint64_t nr_gfns, tot_pages, max_pages, shr_pages;
	bool dying, crashed;
	bool ring_enabled;           /* in the hypervisor */
	bool ring_bound;             /* a consumer has its event channel bound */
	unsigned int ring_unanswered;    /* requests on the ring without a response */
	unsigned int ring_paused;    /* vCPUs paused by a ring request, not yet resumed */
	unsigned int enomem_waiting; /* patched, no ring: vCPUs paused on ENOMEM */
};
int fx_dom(uint32_t domid, struct fx_dom_stats *out);

/* ---- pages, as the guests and other tools see them ------------------------------------ */

/* The bytes of content c: 0 is the zero page, any other value a page drawn
 * from it (equal values, equal pages). */
void fx_content(uint64_t c, uint8_t page[FX_PAGE_SIZE]);
/* A guest write of content c over the whole page (a write to a shared gfn
 * unshares it first): 0, FX_PAUSED, FX_CRASHED, or -errno (-EINVAL hole). */
int fx_write(uint32_t domid, uint64_t gfn, uint64_t c);
/* The guest writes back the bytes the page holds (unshares it; the
 * fingerprint cannot tell). */
int fx_write_same(uint32_t domid, uint64_t gfn);
int fx_read(uint32_t domid, uint64_t gfn, uint8_t page[FX_PAGE_SIZE]);
/* Whether the page holds content c. */
bool fx_holds(uint32_t domid, uint64_t gfn, uint64_t c);
/* The gfn is ballooned out (a hole) / populated again with content c. */
int fx_hole(uint32_t domid, uint64_t gfn);
int fx_populate(uint32_t domid, uint64_t gfn, uint64_t c);
/* As debug_gfn: the gfns on the page's frame when it is shared, -EINVAL
 * when private or a hole. */
int fx_sharers(uint32_t domid, uint64_t gfn);
/* The frame's identity (0 for a hole): equal for gfns on one frame. */
uintptr_t fx_frame(uint32_t domid, uint64_t gfn);

/* Another tool (or a daemon killed earlier): the hypervisor ops themselves,
 * not counted as the engine's calls and never injected. */
int fx_nominate(uint32_t domid, uint64_t gfn, uint64_t *handle);
int fx_share(uint32_t sdom, uint64_t sgfn, uint64_t sh, uint32_t cdom, uint64_t cgfn,
	     uint64_t ch);
/* Another tool maps a page (QEMU): an extra reference until released. */
int fx_hold(uint32_t domid, uint64_t gfn, bool writable);   /* a hold id >= 0, or -errno */
void fx_release(int hold);

/* ---- the sharing ring and VIRQ_ENOMEM --------------------------------------------------- */

/* Xen puts a request on the domain's ring for vCPU vcpu, which waits for
 * its response (an unshare found no memory): 0, -ENODEV without an
 * enabled ring, -EBUSY when the ring is full. */
int fx_ring_push(uint32_t domid, uint32_t vcpu);
/* Patched hypervisor, no ring: vCPU vcpu pauses on an unshare ENOMEM and
 * VIRQ_ENOMEM is raised. */
int fx_enomem_wait(uint32_t domid, uint32_t vcpu);
/* VIRQ_ENOMEM alone (also Xen's own low-heap warning). */
void fx_virq_raise(void);

/* ---- log-dirty, as paging.c keeps it ------------------------------------------------ */

/*
 * While a domain's log-dirty mode is on, a guest write (fx_write, and the
 * write faults of fx_write_same), an unshare and a modified_memory mark
 * the page dirty; dirty_count counts bits set since the last CLEAN, and an
 * OFF frees the bitmap without resetting it.  The toolstack's side:
 */
bool fx_logdirty_on(uint32_t domid);
/* What xg_sr_save.c does to start a save: ENABLE, or OFF then ENABLE when
 * someone holds it. */
int fx_logdirty_takeover(uint32_t domid);
/* The toolstack's CLEAN: the dirty gfns into out (room for max), their
 * number returned; -EINVAL when log-dirty is off. */
int fx_logdirty_clean(uint32_t domid, uint64_t *out, unsigned int max);
/* The toolstack's OFF at the end of a save. */
void fx_logdirty_off(uint32_t domid);

#endif /* FAKE_XEN_H */
