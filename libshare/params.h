/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * params.h - what the caller decides: the engine's tunables and a domain's
 * policy.  Shared by every level of the engine (engine.h is the API).
 */
#ifndef SHR_PARAMS_H
#define SHR_PARAMS_H

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

enum shr_scan_mode {
	SHR_SCAN_AUTO = 0,    /* from the dirty log where the hypervisor gives it, else full */
	SHR_SCAN_DIRTY,       /* the same, and say so loudly when a domain cannot */
	SHR_SCAN_FULL,        /* every page every pass */
};

/* Seconds between two log rounds of a domain scanned from its dirty log
 * (scan.c): how long a write waits to be looked at, whatever the pass
 * target; a quiet domain's round costs one CLEAN and a walk of its bitmaps. */
#define SHR_LOG_ROUND_S 1.0

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
	enum shr_scan_mode scan_mode;  /* which pages a pass looks at (scan.c) */
	double sweep_period_s;         /* dirty-log scanning: every page is still looked at
					  once in this time (the safety net) */
};

/* Per-domain policy, from xenstore or the daemon's config. */
struct shr_domain_policy {
	enum shr_mode mode;
	char group[64];                /* pages of different groups are never merged */
};

#endif /* SHR_PARAMS_H */
