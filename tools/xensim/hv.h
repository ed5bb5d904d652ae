/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv.h - the simulated Xen 4.17 hypervisor: host frames, domains, p2m and
 * memory sharing, as seen from outside the hypervisor.
 *
 * This is the contract between the pure model (hv_*.c, hv_internal.h says
 * which part does what; unit-tested in-process) and the xensim server
 * (server.c), which exposes it over a socket to the drop-in libraries.  The
 * semantics are those of ../shared/briefs/xen-4.17-sharing.md, checked
 * against Xen 4.17's xen/arch/x86/mm/mem_sharing.c, paging.c and the rest;
 * docs/xensim.md lists every place where the model knowingly differs, and
 * so does the DOC below.
 *
 * Conventions:
 *  - Every function returns 0 (or a count) on success and a negative errno
 *    on failure, exactly the value the hypervisor would return, so the
 *    client library turns it into -1/errno as libxenctrl does.  Share
 *    handle errors are XENMEM_SHARING_OP_S_HANDLE_INVALID and
 *    XENMEM_SHARING_OP_C_HANDLE_INVALID, which <xen/memory.h> already
 *    defines as negative (-10 and -9; libxenctrl callers see errno 10/9).
 *  - All functions are thread-safe: one host lock serialises hypercalls,
 *    guest writes and mapping changes, which is what makes the model easy to
 *    reason about (Xen's finer locking gives the same observable ordering
 *    for any single operation).
 *  - Host memory is one memfd of nr_frames * 4096 bytes; frame N lives at
 *    offset N * 4096.  Foreign mappings are real mmap()s of that fd made by
 *    the client, and sim_hv_map() takes a reference on each frame until
 *    sim_hv_unmap() (or sim_hv_unmap_owner() when a client goes away).
 *  - An oracle records, for every (domain, gfn), the 64-bit hash of what the
 *    guest last wrote there; sim_hv_verify() compares every populated gfn's
 *    frame with it.  Guest writes go only through sim_hv_guest_write().
 *
 * DOC: Where the model knowingly differs from Xen 4.17 (code, not comments,
 * was followed where the two disagree)
 *
 *  - Enabling sharing on a PV guest gives -EOPNOTSUPP (is_hvm_domain() is
 *    checked first); the brief's -ENODEV is the HAP check, and HAP is always
 *    on here, so -ENODEV never comes from control.  The ring on a PV guest
 *    does give -ENODEV (vm_event's HAP check).
 *  - ring_enable on an enabled ring: -EBUSY (vm_event_enable()); xenctrl.h's
 *    comment says EINVAL.
 *  - share of two gfns that are both holes succeeds (both INVALID_MFN),
 *    exactly as share_pages() does.
 *  - Domain destruction is atomic: no "dying" phase is observable, so
 *    nominate's -EBUSY cannot happen; frames of a destroyed domain that are
 *    still foreign-mapped live on as orphans (Xen keeps a zombie domain).
 *  - libxl's eight special pages (paging, access and sharing rings,
 *    bufioreq, xenstore, ioreq, identity page table, console; the sharing
 *    ring is the third) lie right above the RAM of max(nr_pages,
 *    max_pages) (libxl puts them in the MMIO hole below 4 GiB, which would
 *    make every p2m 4 GiB long), not counted in tot_pages, never removed
 *    from the p2m; only the sharing ring has a function.  Video RAM and
 *    the ACPI tables are not modelled.
 *  - vm_event_resume() consumes at most one ring's worth of responses per
 *    call (Xen trusts rsp_prod; a bad consumer must not hang the model).
 *  - Ring disable leaves vCPUs paused by a request paused, as Xen does.
 *  - Patched, no ring: a vCPU paused on ENOMEM carries its own pause (as
 *    the patch's vcpu_pause + mem_sharing_enomem_wait), released only by
 *    sim_hv_enomem_resume() (XENMEM_sharing_op_enomem_resume); neither
 *    the ring's resume (-ENODEV without a ring) nor a domain unpause does.
 *  - compare_share leaves both gfns nominated when they differ, and enables
 *    sharing on both domains implicitly.
 *  - decrease_reservation frees the highest populated gfns; a shared gfn's
 *    reference is dropped directly where Xen unshares then frees (same
 *    counters, same -ENOMEM when the unshare could not allocate).
 *  - range_share runs to the end in one call (no continuation / opaque);
 *    grant-reference ops, fork and fork_reset are not modelled.
 *  - getinfo's cpu_time is wall-clock time since creation.
 *  - Writes through writable foreign mappings reach the oracle when the
 *    mapping goes away; verify skips gfns that still have one.
 *  - Log-dirty mode: the DOC of hv_logdirty.c.
 */
#ifndef XENSIM_HV_H
#define XENSIM_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault.h"

#define SIM_PAGE_SHIFT 12
#define SIM_PAGE_SIZE (1u << SIM_PAGE_SHIFT)
/*
 * libxl's special pages of an HVM/PVH guest (xg_dom_x86.c: special_pfn(),
 * SPECIALPAGE_PAGING .. _CONSOLE): eight pages above the RAM, the sharing
 * ring the third.
 */
#define SIM_NR_SPECIAL_PAGES 8u
#define SIM_SPECIALPAGE_SHARING 2u
#define SIM_INVALID_MFN (~0ULL)

struct sim_hv;

/* What kind of hypervisor to simulate. */
struct sim_hv_config {
	uint64_t nr_frames;     /* host RAM in 4 KiB frames (free pool + domains) */
	uint64_t dom0_pages;    /* frames given to dom0 at boot (it can balloon them out) */
	/* built without CONFIG_MEM_SHARING, as Debian's stock hypervisor is:
	 * XENMEM_sharing_op and the sharing domctls end in -ENOSYS */
	bool no_mem_sharing;
	bool cpu_vmx;           /* Intel VMX: sharing allowed (false: -EOPNOTSUPP) */
	bool debug_build;       /* audit op available (else -EOPNOTSUPP) */
	/*
	 * Patched hypervisor (hypervisor-patch/): the batched compare-and-share
	 * op exists, and an unshare that finds no free frame on a domain without
	 * a sharing ring pauses the vCPU and raises VIRQ_ENOMEM instead of
	 * crashing the domain.  Unpatched: the op gives -ENOSYS and the domain
	 * is crashed.
	 */
	bool patched;
	bool allow_svm_sharing; /* patched boot option: sharing on AMD SVM+NPT */
	struct sim_fault_config faults;  /* --faults (fault.h); off unless enabled */
};

int sim_hv_create(const struct sim_hv_config *cfg, struct sim_hv **out);
void sim_hv_destroy(struct sim_hv *hv);
/*
 * The fault injector (NULL when faults are off).  The hypervisor fires the
 * faults that depend on its state itself -- nominate, share and each pair of
 * compare_share at the point where they would succeed, each page of a
 * foreign map -- when the caller armed the operation (sim_fault_arm());
 * compare_share arms its pairs itself.  Everything else is the server's.
 */
struct sim_faults *sim_hv_faults(struct sim_hv *hv);
/* The memfd holding host memory (owned by hv; clients get a dup over the socket). */
int sim_hv_frames_fd(const struct sim_hv *hv);

/* ---- domains ------------------------------------------------------------ */

enum sim_dom_type { SIM_DOM_PV, SIM_DOM_PVH, SIM_DOM_HVM };

/*
 * Where a guest's RAM lies, as libxl lays it out (libxl__build_hvm(),
 * xg_dom_x86.c meminit_hvm()): nr_pages of RAM from gfn 0 up, except that
 *  - an HVM or PVH guest's RAM stops at the MMIO hole below 4 GiB and goes
 *    on from 4 GiB: the hole is HVM_BELOW_4G_MMIO_LENGTH (256 MiB, from
 *    0xF0000000) for HVM, and for PVH what holds the LAPIC, the ACPI
 *    tables and the special pages (64 MiB, from ACPI_INFO_PHYSICAL_ADDRESS
 *    0xFC000000), so guests above 3840 / 4032 MiB have RAM above 4 GiB;
 *  - an HVM guest (it has a device model) leaves the legacy VGA window
 *    0xA0000-0xBFFFF unpopulated (LIBXL_VGA_HOLE_SIZE pages less RAM);
 *    the ROM window 0xC0000-0xFFFFF above it is RAM.
 * A PV guest's nr_pages are gfns 0 .. nr_pages-1.  Every other gfn below
 * the highest one is a hole.  Up to three ranges of gfns, ascending.
 */
#define SIM_RAM_RANGES 3
struct sim_ram_layout {
	unsigned int nr;
	struct { uint64_t first, end; } r[SIM_RAM_RANGES];
};
void sim_ram_layout(enum sim_dom_type type, uint64_t nr_pages, struct sim_ram_layout *out);
uint64_t sim_ram_layout_pages(const struct sim_ram_layout *l);   /* RAM pages */
uint64_t sim_ram_layout_end(const struct sim_ram_layout *l);     /* highest RAM gfn + 1 */
/* The gfn of RAM page idx (idx < sim_ram_layout_pages()), in gfn order. */
uint64_t sim_ram_layout_gfn(const struct sim_ram_layout *l, uint64_t idx);
bool sim_ram_layout_has(const struct sim_ram_layout *l, uint64_t gfn);

struct sim_dom_spec {
	char name[64];
	enum sim_dom_type type;
	uint64_t nr_pages;      /* RAM: populated at creation where sim_ram_layout() says */
	uint64_t max_pages;
	uint32_t vcpus;
	bool passthrough;       /* has a pci= device: sharing gives -EXDEV */
	uint8_t uuid[16];
};

/* Flags as in xc_domaininfo_t / XEN_DOMINF_*. */
#define SIM_DOMF_DYING    (1u << 0)
#define SIM_DOMF_HVM      (1u << 1)
#define SIM_DOMF_SHUTDOWN (1u << 2)
#define SIM_DOMF_PAUSED   (1u << 3)
#define SIM_DOMF_BLOCKED  (1u << 4)
#define SIM_DOMF_RUNNING  (1u << 5)
#define SIM_DOMF_CRASHED  (1u << 6)   /* shutdown with reason crash */

#define SIM_PAUSE_BUCKETS 32

struct sim_dominfo {
	uint32_t domid;
	uint32_t flags;          /* SIM_DOMF_* */
	uint64_t tot_pages;      /* private frames the domain owns (shared ones not counted) */
	uint64_t max_pages;
	uint64_t shr_pages;      /* gfns of this domain that map a shared frame */
	uint64_t nr_gfns;        /* size of the p2m (highest gfn + 1) */
	uint64_t nr_holes;       /* gfns below nr_gfns that map nothing */
	uint32_t nr_online_vcpus;
	uint32_t paused_vcpus;   /* vCPUs paused on an unshare ENOMEM */
	/* how long the longest-waiting of them has waited (0: none); Xen
	 * keeps no such time, xensim's list shows it to find frozen guests */
	uint64_t longest_pause_ns;
	uint64_t cpu_time_ns;
	/*
	 * Log-dirty (sim_hv_shadow_op()): whether the domain is in log-dirty
	 * mode, and how many log-dirty write faults its vCPUs took since it
	 * was created -- first writes to a page write-protected by an enable
	 * or a CLEAN, the cost log-dirty mode puts on a guest (Xen counts no
	 * such thing for HAP guests: its fault_count stays 0).
	 */
	uint64_t logdirty_faults;
	uint32_t logdirty;
	uint32_t pad;
	uint8_t uuid[16];
	char name[64];
	/*
	 * vCPU waits on an unshare ENOMEM that have ended since the domain was
	 * created: how many, their total and longest length, and how many
	 * lasted [2^i, 2^(i+1)) microseconds (the first bucket also holds
	 * shorter ones, the last longer ones).  Xen keeps no such record.
	 */
	uint64_t vcpu_pauses;
	uint64_t pause_total_ns;
	uint64_t pause_max_ns;
	uint64_t pause_hist[SIM_PAUSE_BUCKETS];
};

/* dom0 exists from sim_hv_create() on (PV, dom0_pages frames, not sharable). */
int sim_hv_domain_create(struct sim_hv *hv, const struct sim_dom_spec *spec,
			 uint32_t *domid);
/* Drops every reference the domain holds, frees its private frames. */
int sim_hv_domain_destroy(struct sim_hv *hv, uint32_t domid);
int sim_hv_domain_pause(struct sim_hv *hv, uint32_t domid);
int sim_hv_domain_unpause(struct sim_hv *hv, uint32_t domid);
/* Fills up to max entries for domains with id >= first; returns the count. */
int sim_hv_domain_getinfo(struct sim_hv *hv, uint32_t first, unsigned int max,
			  struct sim_dominfo *out);
/*
 * Balloon: give nr frames of a domain back to the free pool (gfns become
 * holes), highest gfns first.  Returns the number given back, or -errno
 * (-ENOMEM: a shared gfn could not be unshared) when none was.
 */
int sim_hv_decrease_reservation(struct sim_hv *hv, uint32_t domid, uint64_t nr);
/*
 * guest_remove_page() of one gfn: it becomes a hole (a domain builder
 * leaving a gfn unpopulated).  0, or -EINVAL not RAM, -ENOMEM (a shared
 * gfn could not be unshared), -ESRCH.
 */
int sim_hv_remove_page(struct sim_hv *hv, uint32_t domid, uint64_t gfn);
/* Host physinfo: total and free frames. */
void sim_hv_physinfo(struct sim_hv *hv, uint64_t *total, uint64_t *free_frames);

/* ---- guest side (used by xensim's vCPU threads and image loaders) ------ */

/*
 * vcpu value for writes that do not come from a guest vCPU (image loaders,
 * the toolstack): they ignore pause state and, on ENOMEM, never pause or
 * crash anything (a foreign request goes on the ring if there is one).
 */
#define SIM_HV_LOADER_VCPU UINT32_MAX

/*
 * A guest write of len bytes at offset within gfn.  If the gfn maps a shared
 * frame, it is unshared first (last sharer: frame becomes private again;
 * otherwise a new frame is allocated and the content copied).  Returns
 *  -ENOMEM   no free frame: with a ring, a request was queued and the vCPU
 *            is paused (call again after sim_hv_wait_resumed()); patched and
 *            no ring: paused and VIRQ_ENOMEM raised; unpatched, no ring: the
 *            domain has been crashed.  (Ring full: nothing queued, not
 *            paused -- Xen's guest simply faults again.)
 *  -EAGAIN   the domain or this vCPU is paused: sim_hv_wait_resumed(), retry.
 *  -EINVAL   gfn is a hole (or the ring page), offset+len > page, bad vcpu;
 *  -ESRCH    no such domain, dying, or shut down (crashed).
 * The oracle is updated with the page's new content on success.
 */
int sim_hv_guest_write(struct sim_hv *hv, uint32_t domid, uint32_t vcpu,
		       uint64_t gfn, size_t offset, const void *buf, size_t len);
int sim_hv_guest_read(struct sim_hv *hv, uint32_t domid, uint64_t gfn, void *page);
/*
 * Blocks a vCPU thread until its domain is resumed, unpaused or destroyed:
 * 0 when the vCPU may run again, -ESRCH when the domain is gone, dying or
 * shut down.
 */
int sim_hv_wait_resumed(struct sim_hv *hv, uint32_t domid, uint32_t vcpu);

/* ---- foreign mappings --------------------------------------------------- */

/*
 * Map gfns of domid for a client identified by owner (one per connection).
 * mfns[i] receives the frame to mmap (or SIM_INVALID_MFN) and err[i] 0 or
 * -EINVAL (hole) / -ENOENT (paged) as privcmd's mmapbatch_v2 reports.  A
 * writable mapping unshares the page first (and may fail with -ENOMEM in
 * err[i]).  Each mapped frame, read-only or writable, holds one extra
 * reference until unmapped, which is what makes nominate fail with -E2BIG.  Returns 0 or -errno for
 * the call as a whole (-ESRCH, -EPERM).
 */
int sim_hv_map(struct sim_hv *hv, uint64_t owner, uint32_t domid,
	       const uint64_t *gfns, unsigned int n, bool writable,
	       uint64_t *mfns, int *err);
int sim_hv_unmap(struct sim_hv *hv, uint64_t owner, const uint64_t *mfns,
		 unsigned int n);
/*
 * XEN_DOMCTL_getpageframeinfo3 of an HVM/PVH domain (x86/domctl.c): types[i]
 * is XEN_DOMCTL_PFINFO_XTAB for a gfn with no page (a hole, or past the
 * p2m's end), else XEN_DOMCTL_PFINFO_NOTAB (a guest's RAM has no page-table
 * type; a shared page neither).  At most 1024 gfns (-E2BIG); -ESRCH.
 */
int sim_hv_pfn_types(struct sim_hv *hv, uint32_t domid, const uint64_t *gfns, unsigned int n,
		     uint64_t *types);
/* Release every mapping of owner (client closed or died). */
void sim_hv_unmap_owner(struct sim_hv *hv, uint64_t owner);

/* ---- memory sharing (XENMEM_sharing_op_* / XEN_DOMCTL_mem_sharing_op) --- */

int sim_hv_memshr_control(struct sim_hv *hv, uint32_t domid, bool enable);
int sim_hv_nominate_gfn(struct sim_hv *hv, uint32_t domid, uint64_t gfn,
			uint64_t *handle);
int sim_hv_share(struct sim_hv *hv, uint32_t sdom, uint64_t sgfn, uint64_t sh,
		 uint32_t cdom, uint64_t cgfn, uint64_t ch);
int sim_hv_add_to_physmap(struct sim_hv *hv, uint32_t sdom, uint64_t sgfn,
			  uint64_t sh, uint32_t cdom, uint64_t cgfn);
int sim_hv_range_share(struct sim_hv *hv, uint32_t sdom, uint32_t cdom,
		       uint64_t first_gfn, uint64_t last_gfn);
/* Number of gfns referencing the shared frame behind (domid, gfn). */
int sim_hv_debug_gfn(struct sim_hv *hv, uint32_t domid, uint64_t gfn);
/* Consistency walk: returns the number of errors found (0), or -EOPNOTSUPP. */
int sim_hv_audit(struct sim_hv *hv);
/* NULL, or why an operation hit a Xen BUG() (hv_share.c): the host is down. */
const char *sim_hv_panic_reason(struct sim_hv *hv);
/*
 * The gfns of domid that map a shared frame, ascending: the number there
 * are (all of them go into *gfns, malloc'ed, NULL when none), or -ESRCH,
 * -ENOMEM.  Simulation-only: what a storm of guest writes aims at.
 */
long sim_hv_shared_gfns(struct sim_hv *hv, uint32_t domid, uint64_t **gfns);
long sim_hv_sharing_freed_pages(struct sim_hv *hv);   /* nr_saved_mfns */
long sim_hv_sharing_used_frames(struct sim_hv *hv);   /* nr_shared_mfns */
/*
 * The gfns of domid nominated most recently (by nominate, range_share or
 * compare_share), newest first, at most min(max, 64); returns how many,
 * or -ESRCH.  For guest writers aiming at the nominate..share window
 * (sim_write_aim); Xen has no such call.
 */
int sim_hv_recent_nominations(struct sim_hv *hv, uint32_t domid, uint64_t *gfns,
			      unsigned int max);
/*
 * What clients leave behind, for leak checks (Xen keeps no such counts;
 * both are walks, O(mappings + shared frames)):
 *  foreign_mappings    frames mapped by clients, summed over clients (a
 *                      frame mapped by two clients counts twice), orphans
 *                      of destroyed domains included
 *  nominated_unshared  shared frames with exactly one sharer: nominated
 *                      but not (or no longer) merged.  A daemon's stable
 *                      side holds some legitimately; they stay after it
 *                      dies until the guest writes them, as in Xen.
 *  nominated_unmerged  of those, the frames that never had a second
 *                      sharer: what a failed merge or a killed daemon
 *                      leaves (the rest are frames whose other sharers
 *                      were unshared by writes)
 *  unshare_enomem      unshares (guest writes, writable maps, balloons)
 *                      that found no free frame since the host started:
 *                      how a test knows its memory pressure really hit
 *  frame_merge_preemptions  times a frame-to-frame merge of the batched op
 *                      dropped the lock half way (hypervisor-patch 0009's
 *                      preemption point, every 64 gfns moved)
 * and, read in the same critical section so that guests writing meanwhile
 * cannot make them disagree, the sharing counters and the sum of every
 * domain's shr_pages (the invariant sum_shr_pages == freed + used).
 */
struct sim_hv_residue {
	uint64_t foreign_mappings;
	uint64_t nominated_unshared, nominated_unmerged;
	uint64_t freed_pages, used_frames, sum_shr_pages;
	uint64_t unshare_enomem;
	uint64_t frame_merge_preemptions;
};
void sim_hv_get_residue(struct sim_hv *hv, struct sim_hv_residue *out);

/*
 * Every shared frame, as Xen's own frame table knows it (Xen has no call
 * that lists them; this is for tests checking which domains share a frame):
 * each frame owned by dom_cow -- merged ones and nominated-but-unmerged ones
 * (one sharer) alike -- with its mfn, its handle and every (domid, gfn) that
 * maps it.  Taken in one critical section, so the view is consistent while
 * guests write.  Frames come by ascending mfn, each followed by its sharers
 * sorted by (domid, gfn).  *out (malloc'd, *len bytes) holds, per frame, a
 * struct sim_hv_frame_rec and then nr_sharers struct sim_hv_sharer.
 * Returns the number of frames, or -ENOMEM.
 */
struct sim_hv_frame_rec {
	uint64_t mfn;
	uint64_t handle;
	uint32_t nr_sharers;
	uint32_t pad;
};
struct sim_hv_sharer {
	uint32_t domid;
	uint32_t pad;
	uint64_t gfn;
};
long sim_hv_shared_frames(struct sim_hv *hv, void **out, size_t *len);

/*
 * The sharing vm_event ring (HVM_PARAM_SHARING_RING_PFN, a special page
 * above guest RAM).  Xen is the front end (request producer): the consumer
 * maps the page writable, does SHARED_RING_INIT/BACK_RING_INIT, answers each
 * request and notifies the port, which the server turns into
 * sim_hv_domain_resume() (Xen's mem_sharing_notification()).
 * ring_enable: -EBUSY already enabled (xenctrl.h says EINVAL; the code
 * says EBUSY), -ENODEV PV guest, -EINVAL dom0, -ESRCH no such domain.
 * ring_disable: -EINVAL when not enabled.  domain_resume: -ENODEV without a
 * ring (patched hypervisor: releases vCPUs paused on ENOMEM instead).
 */
int sim_hv_ring_enable(struct sim_hv *hv, uint32_t domid, uint32_t *port);
int sim_hv_ring_disable(struct sim_hv *hv, uint32_t domid);
int sim_hv_domain_resume(struct sim_hv *hv, uint32_t domid);
/* HVM params: the ring pfn; other valid params read 0; PV guests -EINVAL. */
int sim_hv_get_param(struct sim_hv *hv, uint32_t domid, int param, uint64_t *value);

/*
 * Patched hypervisor only: the batched compare-and-share op
 * (XENMEM_sharing_op_compare_share of hypervisor-patch/, declared in
 * hypervisor-patch/include/xenshare_cmpshr.h).  For each pair, nominate both
 * gfns, compare the frames under the lock, share when equal; pairs[i].result
 * gets XENSHARE_CMPSHR_SHARED / _DIFFERENT or a negative errno.  Returns 0,
 * or -ENOSYS on an unpatched hypervisor, -EINVAL for n > XENSHARE_CMPSHR_MAX_BATCH.
 */
struct xenshare_cmpshr_pair;
int sim_hv_compare_share(struct sim_hv *hv, struct xenshare_cmpshr_pair *pairs,
			 unsigned int n);

/*
 * Events the hypervisor raises toward dom0: an event channel port of the
 * sharing ring of domid, or VIRQ_ENOMEM (domid 0, port 0) on the patched
 * hypervisor.  The server forwards them to bound xenevtchn clients.
 */
typedef void sim_hv_notify_fn(void *arg, uint32_t domid, uint32_t port);
void sim_hv_set_notify(struct sim_hv *hv, sim_hv_notify_fn *fn, void *arg);
/*
 * Patched hypervisor without a ring (XENMEM_sharing_op_enomem_waiters /
 * _enomem_resume): the domains with a vCPU paused on an unshare ENOMEM,
 * and resuming them once memory is free (returns the number of vCPUs
 * resumed).  -ENOSYS on an unpatched hypervisor.
 */
int sim_hv_enomem_waiters(struct sim_hv *hv, uint32_t *domids, unsigned int max);
int sim_hv_enomem_resume(struct sim_hv *hv, uint32_t domid);

/* ---- log-dirty (XEN_DOMCTL_shadow_op, XEN_DMOP_modified_memory) --------- */

/*
 * XEN_DOMCTL_shadow_op as paging_domctl() of Xen 4.17 runs it for a guest
 * with HAP (HVM, PVH) and, on Debian's hypervisor built without shadow
 * paging, for a PV guest (hv_logdirty.c says which error comes when).
 * op and mode are XEN_DOMCTL_SHADOW_OP_* and its mode flags; pages is
 * CLEAN/PEEK's bitmap size in pages, and comes back as the number of pages
 * the bitmap covers; fault_count and dirty_count are CLEAN/PEEK's stats.
 */
struct sim_shadow_op {
	uint32_t op;
	uint32_t mode;
	uint64_t pages;
	uint32_t fault_count;
	uint32_t dirty_count;
};
/*
 * bitmap: NULL for a null dirty_bitmap handle (CLEAN still clears).  Else
 * *bitmap gets a malloc'd buffer (NULL when empty) of *bitmap_len bytes:
 * the first of the ceil(pages / 8) bytes Xen copies out, as many as can
 * hold a set bit (the domain's p2m); every byte after them is zero.
 * Returns 0 or -errno.
 */
int sim_hv_shadow_op(struct sim_hv *hv, uint32_t domid, struct sim_shadow_op *sc,
		     uint8_t **bitmap, size_t *bitmap_len);

/* One extent of XEN_DMOP_modified_memory: struct xen_dm_op_modified_memory_extent. */
struct sim_dm_extent {
	uint32_t nr;
	uint32_t pad;
	uint64_t first_pfn;
};
/*
 * XEN_DMOP_modified_memory (dm.c modified_memory()): mark the pfns of the
 * extents dirty, unsharing shared ones first.  0 (also when the domain is
 * not in log-dirty mode), or -errno: -ESRCH, -EPERM dom0, -EINVAL a PV
 * guest, an empty extent, one ending beyond the domain's highest gfn or a
 * non-zero pad (extents are taken last first, and those taken before the
 * bad one stay marked, as in Xen).
 */
int sim_hv_modified_memory(struct sim_hv *hv, uint32_t domid,
			   const struct sim_dm_extent *extents, unsigned int n);

/* ---- generated memory (scale mode) --------------------------------------- */

/*
 * For hosts far larger than this machine (issue 7's 64 domains and 256 GiB
 * on 24 GiB): a frame can hold *generated* content, a pure function of a
 * 64-bit key, which is not stored anywhere.  It is written into the memfd
 * (materialised) only while the frame is foreign-mapped, and punched out
 * again when the last mapping goes; a guest write or a writable mapping
 * materialises it for good (it becomes an ordinary frame).  Unshare copies
 * the key instead of the bytes, compare_share compares keys first, and the
 * oracle stores the key (a bit per gfn says so), so a generated page costs
 * only its frame-table, p2m and oracle entries until something reads it.
 */

/* The content of generated key (key != 0; distinct keys give distinct pages). */
void sim_hv_gen_fill(void *page, uint64_t key);
/*
 * Gives gfns first_gfn .. first_gfn+n-1 of domid generated content keys[i]
 * (0: a zero page).  The gfns must be private RAM (not shared, not a hole,
 * not the ring page) and not foreign-mapped: -EINVAL / -EBUSY otherwise,
 * -ESRCH no such domain, -ENOMEM.  Meant for domain building (the loader).
 */
int sim_hv_gen_assign(struct sim_hv *hv, uint32_t domid, uint64_t first_gfn,
		      unsigned int n, const uint64_t *keys);
struct sim_hv_gen_stats {
	uint64_t gen_frames;      /* frames whose content is generated */
	uint64_t materialised;    /* of which currently in the memfd (mapped) */
};
void sim_hv_gen_get_stats(struct sim_hv *hv, struct sim_hv_gen_stats *out);

/* ---- oracle ------------------------------------------------------------- */

struct sim_mismatch {
	uint32_t domid;
	uint64_t gfn;
};
/*
 * Walk every populated gfn of every domain through its p2m and compare the
 * frame's content with what the guest last wrote.  Returns the number of
 * mismatches (up to max are stored in out), never negative.
 */
long sim_hv_verify(struct sim_hv *hv, struct sim_mismatch *out, unsigned int max);

#endif /* XENSIM_HV_H */
