/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * engine.h - the libshare engine as the daemon drives it.
 *
 * The daemon (dom0-daemon/) owns configuration, xenstore, domain discovery,
 * policy, signals and the control socket; the engine owns everything that
 * touches guest memory: scan, fingerprint, index, verify+share, the host
 * memory reserve and the accounting.  Data flows one way:
 *
 *   shr_engine_add_domain() -> scan cursor -> fingerprint -> index
 *        -> verify+share (nominate, compare, share; or the batched op)
 *        -> accounting (shr_engine_get_stats)
 *
 * The engine is single-threaded: the daemon calls shr_engine_run() from its
 * main loop with a time budget and sleeps for the delay it returns (rate
 * control), and calls shr_engine_handle_events() when shr_engine_event_fd()
 * is readable (sharing rings, VIRQ_ENOMEM).  Every function returns 0 or a
 * negative errno; only errors that make the engine unusable are returned
 * from shr_engine_run(): everything a guest or the hypervisor can cause
 * (handle invalid, E2BIG, EINVAL, EBUSY, ENOMEM, a domain vanishing) is
 * handled, counted and logged inside.
 */
#ifndef SHR_ENGINE_H
#define SHR_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

enum shr_mode {
	SHR_MODE_OFF = 0,     /* not scanned; existing shares are left to unshare lazily */
	SHR_MODE_ON,          /* every page may be shared within the domain's group */
	SHR_MODE_ZERO,        /* only zero pages are shared (no content side channel) */
};

enum shr_protocol {
	SHR_PROTO_AUTO = 0,   /* batched op when the hypervisor has it, else upstream */
	SHR_PROTO_UPSTREAM,   /* nominate both, map, compare, unmap, share */
	SHR_PROTO_BATCHED,    /* require the batched compare-and-share op */
};

/* Tunables; the daemon's settings table documents and validates them. */
struct shr_params {
	unsigned int batch_pages;      /* gfns mapped per xenforeignmemory_map call */
	unsigned int max_sharers;      /* cap on gfns per shared frame (KSM: 256) */
	double pass_target_s;          /* aim: one full pass over all domains in this time */
	double cpu_cap;                /* max fraction of one CPU the engine may use (0..1] */
	uint64_t reserve_pages;        /* stop sharing while free host pages < reserve */
	double settle_ratio;           /* a pass that adds < ratio * pages_sharing: settled */
	enum shr_protocol protocol;
	bool no_rings;                 /* do not take the domains' sharing rings (tests, or
					  another vm_event consumer owns them); 0 = use them */
	bool no_backoff;               /* volatility handling off: a page whose share broke is
					  merged again on its next look (benchmarks); 0 = on */
};

/* Per-domain policy, from xenstore or the daemon's config. */
struct shr_domain_policy {
	enum shr_mode mode;
	char group[64];                /* pages of different groups are never merged */
};

struct shr_domain_stats {
	uint32_t domid;
	char name[64];
	struct shr_domain_policy policy;
	uint64_t tot_pages;            /* from the hypervisor's domain info */
	uint64_t shr_pages;            /* from the hypervisor's domain info */
	uint64_t pages_sharing;        /* gfns of this domain the engine merged and still believes shared */
	uint64_t pages_volatile;       /* gfns backed off because their shares keep breaking */
	uint64_t unshares;             /* shares of this domain seen broken */
	double unshares_per_s;
	double scan_progress;          /* cursor position / nr_gfns in the current pass */
	struct shr_domain_policy held; /* the policy its shared pages were shared under
					  (group "" when not known) */
	bool evicting;                 /* holds pages shared under another group or mode
					  (or of unknown origin): being unshared, not merged */
};

struct shr_stats {
	/* KSM names where the meaning is the same */
	uint64_t pages_shared;         /* shared frames in use (= xc_sharing_used_frames) */
	uint64_t pages_sharing;        /* pages saved (= xc_sharing_freed_pages) */
	uint64_t pages_unshared;       /* scanned pages with no twin so far */
	uint64_t pages_volatile;
	uint64_t pages_scanned;        /* fingerprints computed since start */
	uint64_t full_scans;
	uint64_t zero_pages_sharing;
	uint64_t share_attempts, share_raced, unshares;
	uint64_t hypercalls, mappings; /* counted at the Xen boundary (for benchmarks) */
	/* host */
	uint64_t host_total_pages, host_free_pages, reserve_pages;
	bool sharing_paused;           /* free pages below the reserve */
	/* progress */
	double pass_time_s;            /* last complete pass */
	double pass_progress;          /* current pass, 0..1 */
	bool settled;
	enum shr_protocol protocol_in_use;  /* UPSTREAM or BATCHED */
	double cpu_s;                  /* CPU time spent in the engine */
	uint64_t index_bytes;          /* memory held by the index and per-page state */
	/* added by the engine (fields only ever appended) */
	uint64_t pages_indexed;        /* gfns the engine keeps state for (index_bytes / this = bytes per page) */
	uint64_t engine_pages_sharing; /* gfns the engine merged and still believes shared */
	uint64_t mapped_pages;         /* pages in all xenforeignmemory_map calls */
	uint64_t pages_at_risk;        /* pages an unshare storm could ask back (= pages_sharing) */
	uint64_t pages_needed;         /* pages the engine asks dom0 to free (balloon): see
					  shr_engine_set_need_memory_fn */
	uint64_t memory_requests;      /* unshare-ENOMEM events (ring requests, VIRQ_ENOMEM) */
	uint64_t share_failed;         /* share attempts refused for another reason (see docs/design.md) */
	uint64_t compare_mismatch;     /* candidates whose full compare failed */
	uint64_t unshares_rewritten;   /* of unshares: the guest rewrote the same bytes
					  (found by asking the hypervisor, see scan.c) */
	uint64_t nominations_released; /* pages found alone on a shared frame (left
					  nominated by a failed merge or a killed daemon)
					  and made private again */
};

struct shr_engine;

/* Opens the Xen handles (libxenctrl, libxenforeignmemory, libxenevtchn),
 * draws the fingerprint secret, probes the batched op.  Logs why on error:
 * -ENOENT/-EACCES no privcmd, -ENOSYS hypervisor without sharing, ... */
int shr_engine_alloc(const struct shr_params *params, struct shr_engine **out);
void shr_engine_free(struct shr_engine *e);
/* Applies new tunables (SIGHUP); already-running passes adopt them. */
int shr_engine_set_params(struct shr_engine *e, const struct shr_params *params);

/*
 * Starts (or updates the policy of) a domain; -ESRCH if it does not exist,
 * -EOPNOTSUPP/-ENODEV/-EXDEV if the hypervisor refuses sharing for it.
 *
 * held is the policy under which the domain's pages that are already on
 * shared frames were shared, as the caller recorded it (NULL: unknown, e.g.
 * a daemon's first start, or a record lost).  Tenant isolation: a domain
 * that holds shared pages of another group (or of unknown origin), or
 * shared under mode on while its policy is now zero, is first unshared
 * completely (evicting) and only then merged under its policy.  The same
 * happens when a later call changes its group or mode that way.
 */
int shr_engine_add_domain(struct shr_engine *e, uint32_t domid, const char *name,
			  const struct shr_domain_policy *policy,
			  const struct shr_domain_policy *held);
/*
 * The policy the domain's shared pages are held under, for the caller to
 * record (and give back as `held` after a restart): 0 and *held, or
 * -EBUSY while the domain is evicting (its record must stay the old one),
 * -ESRCH for a domain the engine does not know.  Record it before the
 * next shr_engine_run(): from then on its pages may be shared under it.
 */
int shr_engine_domain_held(struct shr_engine *e, uint32_t domid,
			   struct shr_domain_policy *held);
/* Forgets a domain (destroyed, or opted out); safe mid-pass. */
void shr_engine_remove_domain(struct shr_engine *e, uint32_t domid);

/* Does scan/merge work for at most budget_ns of CPU.  Returns the number of
 * nanoseconds to sleep before the next call (rate control: pass target and
 * CPU cap), or a negative errno if the engine cannot go on. */
int64_t shr_engine_run(struct shr_engine *e, int64_t budget_ns);

/* Hypervisor events (sharing rings, VIRQ_ENOMEM): poll this fd, then call
 * shr_engine_handle_events().  -1 if there is nothing to poll. */
int shr_engine_event_fd(struct shr_engine *e);
int shr_engine_handle_events(struct shr_engine *e);

/*
 * Called when the hypervisor reports that an unshare found no free memory
 * (a sharing-ring request or VIRQ_ENOMEM) and whenever free host memory is
 * below the reserve: pages is how many pages dom0 should make available
 * (the daemon balloons dom0 down through xenstore memory/target).  The same
 * number is in shr_stats.pages_needed.  Sharing stays paused meanwhile.
 */
void shr_engine_set_need_memory_fn(struct shr_engine *e,
				   void (*fn)(void *arg, uint64_t pages), void *arg);

void shr_engine_get_stats(struct shr_engine *e, struct shr_stats *out);
/* Calls fn for each domain the engine knows; stops early if fn returns non-zero. */
int shr_engine_foreach_domain(struct shr_engine *e,
			      int (*fn)(const struct shr_domain_stats *s, void *arg),
			      void *arg);

/* Walks the engine's own state and checks its invariants (index entries
 * point at known domains, counters add up, no mapping left, ...).  Returns
 * the number of violations found (each logged), 0 when consistent. */
int shr_engine_audit(struct shr_engine *e);

/*
 * The frame census: every page the engine believes shared is asked for its
 * frame's handle (debug_gfn, then nominate, which only returns the handle
 * of a page that is already shared), and no frame may hold pages of two
 * sharing groups.  Costs two hypercalls per shared page: for the operator's
 * audit command and tests, not for a periodic check.  Returns the number
 * of frames that span groups (each logged); *unaccounted (may be NULL) is
 * set to the number of frames on which the hypervisor counts more gfns
 * than the engine knows (pages of domains it does not scan, or of another
 * tool): reported, not a violation.  -errno if the census could not run.
 */
int shr_engine_audit_frames(struct shr_engine *e, uint64_t *unaccounted);

#endif /* SHR_ENGINE_H */
