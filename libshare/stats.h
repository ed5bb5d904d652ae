/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stats.h - the engine's statistics, defined once.
 *
 * SHR_STATS(X) lists every field of struct shr_stats with its type, its
 * kind (a counter only grows; a gauge is a reading) and its meaning, and
 * everything that shows the statistics is generated from the list.  KSM's
 * names where the meaning is the same (pages_shared, pages_sharing,
 * pages_unshared, pages_volatile, full_scans), Xen's where it is Xen's
 * count.  Adding a statistic is one line here (and the code that keeps it).
 *
 *   X(name, type, kind, help)   type: U64 BOOL DBL PROTO   kind: COUNTER GAUGE
 */
#ifndef SHR_STATS_H
#define SHR_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "params.h"

#define SHR_STATS(X) \
	X(pages_shared, U64, GAUGE, "shared frames in use (xc_sharing_used_frames)") \
	X(pages_sharing, U64, GAUGE, "guest pages saved (xc_sharing_freed_pages)") \
	X(pages_unshared, U64, GAUGE, "scanned pages with no twin so far") \
	X(pages_volatile, U64, GAUGE, "pages backed off because their shares keep breaking") \
	X(pages_scanned, U64, COUNTER, "fingerprints computed") \
	X(full_scans, U64, COUNTER, "full passes over every scanned domain") \
	X(zero_pages_sharing, U64, GAUGE, "of the pages the engine shared, zero pages") \
	X(share_attempts, U64, COUNTER, "pairs offered to the hypervisor to share") \
	X(share_raced, U64, COUNTER, "shares refused because a guest wrote a page meanwhile") \
	X(share_failed, U64, COUNTER, "shares refused for another reason") \
	X(compare_mismatch, U64, COUNTER, "candidates whose full compare found them different") \
	X(unshares, U64, COUNTER, "shares the engine found broken by a guest's write") \
	X(unshares_rewritten, U64, COUNTER, "of unshares: rewritten with the same bytes (asked of Xen)") \
	X(nominations_released, U64, COUNTER, "pages found alone on a shared frame and made private again") \
	X(logdirty_rounds, U64, COUNTER, "passes of domains scanned from their dirty log") \
	X(logdirty_pages, U64, COUNTER, "pages their dirty logs named") \
	X(logdirty_lost, U64, COUNTER, "dirty logs another user (migration, save) took over") \
	X(hypercalls, U64, COUNTER, "hypercalls made (statistics reads excepted)") \
	X(mappings, U64, COUNTER, "foreign mapping calls made") \
	X(mapped_pages, U64, COUNTER, "pages in those mapping calls") \
	X(host_total_pages, U64, GAUGE, "host memory, pages") \
	X(host_free_pages, U64, GAUGE, "free host memory, pages") \
	X(reserve_pages, U64, GAUGE, "free pages below which no new share is made") \
	X(sharing_paused, BOOL, GAUGE, "no new share is made (below the reserve, or waiting for memory)") \
	X(pages_at_risk, U64, GAUGE, "pages an unshare storm could ask back (= pages_sharing)") \
	X(pages_needed, U64, GAUGE, "pages the engine asks dom0 to free") \
	X(memory_requests, U64, COUNTER, "unshares that found no memory (ring requests, VIRQ_ENOMEM)") \
	X(pass_time_s, DBL, GAUGE, "duration of the last complete pass, seconds") \
	X(pass_progress, DBL, GAUGE, "fraction of the current pass done") \
	X(settled, BOOL, GAUGE, "the last pass merged almost nothing new") \
	X(protocol_in_use, PROTO, GAUGE, "upstream or batched") \
	X(cpu_s, DBL, COUNTER, "CPU time of the engine, seconds") \
	X(index_bytes, U64, GAUGE, "memory held by the index and the per-page state, bytes") \
	X(pages_indexed, U64, GAUGE, "gfns the engine keeps state for") \
	X(engine_pages_sharing, U64, GAUGE, "gfns the engine merged and still believes shared")

#define SHR_STATS_CTYPE_U64 uint64_t
#define SHR_STATS_CTYPE_BOOL bool
#define SHR_STATS_CTYPE_DBL double
#define SHR_STATS_CTYPE_PROTO enum shr_protocol

struct shr_stats {
#define SHR_STATS_FIELD(name, type, kind, help) SHR_STATS_CTYPE_##type name;
	SHR_STATS(SHR_STATS_FIELD)
#undef SHR_STATS_FIELD
};

#endif /* SHR_STATS_H */
