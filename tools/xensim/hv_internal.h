/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_internal.h - private data structures of the simulated hypervisor and
 * the core primitives on them (hv_internal.c: the lock, frames, domains'
 * bookkeeping), which the parts of the model build on: hv_dom.c (host,
 * domains, layout), hv_mem.c (guest access, foreign mappings, oracle),
 * hv_share.c (memory sharing, the sharing vm_event ring), hv_logdirty.c
 * (log-dirty mode), hv_gen.c (generated frames), hv_audit.c (the
 * consistency walk).  Each part's own header says what the others may use
 * of it; the public API is hv.h.
 *
 * Data structures (all arrays, so every operation is O(1) apart from the
 * ones that are O(n) in Xen too -- share merging a client's reverse map,
 * destroy, audit, verify):
 *
 *  frames[mfn]      the frame table (struct sim_frame, 24 bytes).  A frame
 *                   is FREE (on the free list), DOM (owned by a domain, with
 *                   its m2p gfn), SHARED (owned by dom_cow; ->owner indexes
 *                   the sharing info) or ORPHAN (nobody owns it but foreign
 *                   mappings still reference it; freed on the last unmap,
 *                   as Xen frees a page when its last reference goes).
 *  shared[idx]      sharing info of one SHARED frame: handle and reverse
 *                   map, an array of (domid, gfn); each shared p2m entry
 *                   remembers its index in that array, so removing one
 *                   sharer is a swap-remove.
 *  doms[domid]      domains; each has a p2m array (mfn, type, rmap index)
 *                   and an oracle array (expected content hash per gfn).
 *  owners           foreign-mapping bookkeeping per client: an open
 *                   addressing table mfn -> (read-only, writable) counts.
 *
 * Invariants (checked by sim_hv_audit()):
 *  - sum over domains of shr_pages == nr_saved + nr_shared
 *  - nr_shared == number of SHARED frames; a SHARED frame's rmap is
 *    non-empty and every entry's p2m points back at it with type shared
 *  - a DOM frame's m2p gfn maps it in its owner's p2m (type ram_rw or ring)
 *  - frames[mfn].map_refs == sum of all owners' counts for mfn
 *  - FREE frames hold no data (hole punched in the memfd)
 *  - generated frames (gen != 0, scale mode): the memfd holds their
 *    content only while mapped (gen_mat, and then map_refs > 0); a guest
 *    write or a writable mapping makes them ordinary (gen = 0) first.  A
 *    gfn whose oracle bit is set (oracle_gen) expects content
 *    sim_hv_gen_fill(oracle[gfn]) instead of a hash.
 */
#ifndef XENSIM_HV_INTERNAL_H
#define XENSIM_HV_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* Xen's public headers need these from libxenctrl's xenctrl.h. */
#ifndef xen_mb
#define xen_mb()  atomic_thread_fence(memory_order_seq_cst)
#define xen_rmb() atomic_thread_fence(memory_order_acquire)
#define xen_wmb() atomic_thread_fence(memory_order_release)
#endif
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif
#include <xen/xen.h>
#include <xen/memory.h>
#include <xen/vm_event.h>
#include <xen/hvm/e820.h>
#include <xen/hvm/params.h>

#include "hv.h"

#define SIM_MFN_NONE UINT32_MAX        /* 32-bit mfn fields: no frame */
#define SIM_DOMID_MAX DOMID_FIRST_RESERVED  /* domids 0 .. 0x7fef */
#define SIM_MAX_GFNS (1ULL << 28)      /* p2m growth limit (1 TiB of gfns) */
#define SIM_ORACLE_HOLE 0ULL           /* oracle value: gfn expected to be a hole */
#define SIM_RECENT_NOMINATIONS 64     /* per domain, see sim_hv_recent_nominations() */

enum sim_frame_state { SIM_FRAME_FREE, SIM_FRAME_DOM, SIM_FRAME_SHARED, SIM_FRAME_ORPHAN };

struct sim_frame {
	uint64_t gfn;        /* DOM: m2p gfn; FREE: next free mfn (SIM_MFN_NONE ends) */
	uint64_t gen;        /* generated content key (sim_hv_gen_fill()); 0: the memfd holds it */
	uint32_t owner;      /* DOM: domid; SHARED: index into hv->shared */
	uint32_t map_refs;   /* foreign mappings (read-only and writable) */
	uint32_t map_rw;     /* of which writable (their writes reach the oracle on unmap) */
	uint8_t state;       /* enum sim_frame_state */
	uint8_t special;     /* DOM: a special page (SIM_P2M_SPECIAL) */
	uint8_t gen_mat;     /* gen != 0 and materialised in the memfd (while mapped) */
};
_Static_assert(sizeof(struct sim_frame) <= 32, "frame table entry must stay small");

/* SPECIAL: one of the pages libxl populates for Xen and the toolstack
 * (the sharing ring, xenstore and console rings, ...): not guest RAM to
 * the model, never nominated, not in tot_pages. */
enum sim_p2m_type { SIM_P2M_HOLE = 0, SIM_P2M_RAM_RW, SIM_P2M_SHARED, SIM_P2M_SPECIAL };

struct sim_p2m {
	uint32_t mfn;        /* SIM_MFN_NONE for holes */
	uint32_t rmap_idx;   /* SHARED: position in the frame's reverse map */
	uint8_t type;        /* enum sim_p2m_type */
	/*
	 * RAM_RW only: p2m_ram_logdirty, write-protected by a log-dirty enable
	 * or CLEAN until the guest's next write faults (hv_logdirty.c); any
	 * other change of the entry's type clears it.
	 */
	uint8_t logdirty;
};

struct sim_gref { uint32_t domid; uint32_t pad; uint64_t gfn; };

struct sim_shared {
	uint64_t handle;     /* 0: slot unused (handles start at 1, as in Xen) */
	uint32_t mfn;
	uint32_t nr;         /* sharers (rmap entries) */
	uint32_t cap;
	uint32_t next_free;
	bool merged;         /* has had two sharers (nominated_unmerged: never) */
	struct sim_gref *rmap;
};

struct sim_vcpu {
	int vm_event_pause_count;  /* vm_event_vcpu_pause(): a request with VCPU_PAUSED */
	bool blocked;              /* vm_event_mark_and_pause(): waiting for ring room */
	bool enomem_paused;        /* patched, no ring: waiting for VIRQ_ENOMEM handling */
	struct timespec paused_at; /* when the current wait began (sim_vcpu_pausing()) */
	bool waiting;              /* a wait is being timed (sim_vcpu_pausing() .. _resumed()) */
};

/* Paused by the sharing machinery (not by a domain pause). */
static inline bool sim_vcpu_paused(const struct sim_vcpu *v)
{
	return v->vm_event_pause_count > 0 || v->blocked || v->enomem_paused;
}

/* Call before pausing v: a wait that begins now is timed from now. */
static inline void sim_vcpu_pausing(struct sim_vcpu *v)
{
	if (!sim_vcpu_paused(v)) {
		clock_gettime(CLOCK_MONOTONIC, &v->paused_at);
		v->waiting = true;
	}
}

struct sim_dom {
	uint32_t domid;
	enum sim_dom_type type;
	char name[64];
	uint8_t uuid[16];
	bool passthrough;
	bool sharing_enabled;
	bool dying;
	bool shutdown;
	bool crashed;
	bool enomem_waiter;
	int pause_count;
	uint64_t nr_gfns;
	uint64_t nr_holes;         /* p2m entries of type SIM_P2M_HOLE */
	struct sim_p2m *p2m;
	uint64_t *oracle;
	uint64_t *oracle_gen;      /* bitmap: oracle[gfn] is a generated key (NULL: none ever) */
	uint64_t tot_pages, max_pages, shr_pages;
	uint64_t ring_gfn;         /* HVM_PARAM_SHARING_RING_PFN (0: none, PV) */
	uint32_t nr_vcpus;
	struct sim_vcpu *vcpus;
	/* the sharing vm_event ring (d->vm_event_share) */
	bool ring_enabled;
	uint32_t ring_port;
	uint32_t next_port;
	int ring_target_producers, ring_foreign_producers;
	unsigned int ring_blocked;
	vm_event_front_ring_t ring;
	struct timespec created;
	/*
	 * The last SIM_RECENT_NOMINATIONS gfns nominated successfully (a ring,
	 * newest at recent_nom[(recent_pos - 1) % N]), for sim_write_aim's
	 * writers, which aim at the window between nominate and share.
	 */
	uint64_t recent_nom[SIM_RECENT_NOMINATIONS];
	uint32_t recent_pos, recent_n;
	/*
	 * Log-dirty (hv_logdirty.c): paging_mode_log_dirty(); the bitmap, a
	 * bit per gfn of the p2m (NULL: not allocated, Xen's log_dirty.top ==
	 * INVALID_MFN); dirty_count, the bits that went 0 -> 1 since the last
	 * CLEAN; failed_allocs, marks lost for want of memory since the bitmap
	 * was last freed; logdirty_faults, write faults on p2m_ram_logdirty
	 * entries since creation (for `xensim info`; Xen keeps no such count).
	 */
	bool logdirty;
	uint64_t *dirty_bitmap;
	uint64_t dirty_count;
	uint32_t dirty_failed_allocs;
	uint64_t logdirty_faults;
	/*
	 * vCPU waits on an unshare ENOMEM that have ended (sim_vcpu_resumed()):
	 * how many, their total and the longest, and a histogram of their
	 * lengths (SIM_PAUSE_BUCKETS, hv.h) from which percentiles are read.
	 * Xen keeps no such record; xensim's list shows it so that a test can
	 * say how long guests were frozen by a storm of unshares.
	 */
	uint64_t vcpu_pauses, pause_total_ns, pause_max_ns;
	uint64_t pause_hist[SIM_PAUSE_BUCKETS];
};

/*
 * Call after clearing a reason for which v of d waited: when it no longer
 * waits, the wait that began at sim_vcpu_pausing() is recorded in d.
 */
void sim_vcpu_resumed(struct sim_dom *d, struct sim_vcpu *v);

struct sim_map_slot { uint32_t mfn; uint32_t ro; uint32_t rw; };

struct sim_map_owner {
	uint64_t id;
	struct sim_map_slot *slots;  /* open addressing, mfn SIM_MFN_NONE = empty */
	uint32_t cap, used;
	struct sim_map_owner *next;
};

#define SIM_NOTIFY_MAX 64
struct sim_notify { uint32_t domid, port; };

struct sim_hv {
	struct sim_hv_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t resumed;
	int fd;
	uint8_t *mem;
	uint64_t nr_frames;
	struct sim_frame *frames;
	uint32_t free_head;
	uint64_t nr_free;
	struct sim_shared *shared;
	uint32_t shared_cap, shared_free;
	uint64_t next_handle;
	long nr_saved, nr_shared;
	struct sim_dom *doms[SIM_DOMID_MAX];
	uint32_t next_domid;
	struct sim_map_owner *owners;
	uint64_t zero_hash;
	sim_hv_notify_fn *notify_fn;
	void *notify_arg;
	uint32_t *punch_q;           /* frames freed in a batch, punched at its end */
	size_t punch_n, punch_cap;
	bool punch_batch;
	struct sim_notify pending[SIM_NOTIFY_MAX];
	unsigned int nr_pending;
	uint64_t nr_gen, nr_gen_mat;  /* generated frames, of which materialised */
	char panic[256];             /* non-empty: a Xen BUG() was hit, the host is down */
	struct sim_faults *faults;   /* NULL: no fault injection */
	uint64_t nr_unshare_enomem;  /* unshares that found no free frame (sim_share_enomem()) */
	uint64_t frame_merge_preemptions; /* sim_merge_spanned() dropped the lock */
};

/* ---- the core (hv_internal.c); every caller holds the host lock ---- */

/* the host lock; sim_unlock() delivers the notifications queued under it */
void sim_lock(struct sim_hv *hv);
void sim_unlock(struct sim_hv *hv);
void sim_queue_notify(struct sim_hv *hv, uint32_t domid, uint32_t port);
/* a vCPU may have become runnable: wake sim_hv_wait_resumed() */
void sim_wake_vcpus(struct sim_hv *hv);

/* frames */
uint64_t sim_page_hash(const void *page);
uint8_t *sim_frame_ptr(struct sim_hv *hv, uint32_t mfn);
uint32_t sim_frame_alloc(struct sim_hv *hv);   /* reads as zeros; SIM_MFN_NONE if none */
void sim_frame_free(struct sim_hv *hv, uint32_t mfn);
/* the owner lets go: freed now, or with its last foreign mapping (an orphan) */
void sim_frame_release(struct sim_hv *hv, uint32_t mfn);
/* forget a frame's generated content (it is freed or reassigned) */
void sim_gen_forget(struct sim_hv *hv, struct sim_frame *f);
/*
 * Freeing many frames: their holes are punched as sorted runs at
 * sim_punch_flush(); nothing may allocate between begin and flush.
 */
void sim_punch_begin(struct sim_hv *hv, uint64_t max_frames);
void sim_punch_frame(struct sim_hv *hv, uint32_t mfn);
void sim_punch_flush(struct sim_hv *hv);

/* domains */
struct sim_dom *sim_dom_get(struct sim_hv *hv, uint32_t domid);
void sim_dom_free(struct sim_dom *d);
/* grow the p2m (and oracle, bitmaps) to nr_gfns, new gfns holes */
int sim_p2m_grow(struct sim_dom *d, uint64_t nr_gfns);
/* domain_crash(): shut down with reason crash */
void sim_dom_crash(struct sim_hv *hv, struct sim_dom *d);
bool sim_oracle_is_gen(const struct sim_dom *d, uint64_t gfn);
void sim_oracle_set_gen(struct sim_dom *d, uint64_t gfn, bool gen);

/*
 * The log-dirty bitmap (what marks when, and the ops: hv_logdirty.c):
 * paging_mark_pfn_dirty(); a guest write to gfn, which takes the log-dirty
 * fault of a write-protected entry; the bitmap's growth with the p2m and
 * its end.
 */
void sim_logdirty_mark(struct sim_dom *d, uint64_t gfn);
void sim_logdirty_write_fault(struct sim_dom *d, uint64_t gfn);
int sim_logdirty_grow(struct sim_dom *d, uint64_t nr_gfns);
void sim_logdirty_free(struct sim_dom *d);

#endif /* XENSIM_HV_INTERNAL_H */
