/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stats.h - the engine's statistics, defined once.
 *
 * SHR_STATS(X) lists every field of struct shr_stats and
 * SHR_DOMAIN_STATS(X) every statistic of struct shr_domain_stats
 * (engine.h), one line each, and everything that shows them is generated
 * from the lists: the structs here, the control socket's `stats` object
 * and the xenstore mirror (dom0-daemon/schema.c, report.c), xenshare-stat's
 * parser and its JSON and Prometheus output, and the tables of
 * docs/control-protocol.md and the man pages (xenshared --print-stats).
 * KSM's names where the meaning is the same (pages_shared, pages_sharing,
 * pages_unshared, pages_volatile, full_scans), Xen's where it is Xen's
 * count.  Adding a statistic is one line here (and the code that keeps
 * it); docs/design.md, "Accounting", says how to choose the columns.
 *
 *   X(name, type, kind, unit, section, key, flags, prom, help)
 *
 * name     the struct field
 * type     U64 I64 BOOL DBL PROTO (enum shr_protocol): SHR_STATS_CTYPE_*
 * kind     COUNTER (only grows) or GAUGE (a reading)
 * unit     PAGES COUNT BYTES SECONDS RATIO (0..1) PERCENT PER_S PID NONE
 * section  the object of the `stats` reply that holds it: DAEMON, HOST,
 *          COUNTERS; DOMAIN in the per-domain list (each of "domains")
 * key      its name there and its xenstore mirror node (the field's name
 *          unless the reply's name was taken first: engine_pages_sharing
 *          of a domain is "pages_sharing", as the reply always said)
 * flags    SHR_MIRROR: also a node of the xenstore mirror.
 *          SHR_HV: the hypervisor's own count, relayed; xenshare-stat reads
 *          the hypervisor itself and falls back on this copy.
 *          SHR_REQUIRED: in every reply since the first; a reader may
 *          refuse a reply without it (xenshare-stat does).  A statistic
 *          added later is not, so a newer reader still reads an older daemon.
 * prom     its xenshare-stat --prometheus metric, "" for none.  A COUNTER's
 *          ends in _total; PAGES are exported as bytes when the name ends
 *          in _bytes, a PERCENT as a fraction when it ends in _ratio.
 * help     what it means (docs, Prometheus HELP): words, no markup
 */
#ifndef SHR_STATS_H
#define SHR_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "params.h"

#define SHR_STATS(X) \
	X(full_scans, U64, COUNTER, COUNT, DAEMON, "full_scans", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_full_scans_total", "complete passes over every scanned domain") \
	X(pass_time_s, DBL, GAUGE, SECONDS, DAEMON, "pass_time_s", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_pass_duration_seconds", "duration of the last complete pass") \
	X(pass_progress, DBL, GAUGE, RATIO, DAEMON, "pass_progress", SHR_REQUIRED, \
	  "xenshare_pass_progress_ratio", "fraction of the current pass done") \
	X(settled, BOOL, GAUGE, NONE, DAEMON, "settled", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_settled", "the last pass merged fewer new pages than settle_threshold asks") \
	X(protocol_in_use, PROTO, GAUGE, NONE, DAEMON, "protocol", SHR_MIRROR | SHR_REQUIRED, \
	  "", "upstream (nominate, compare, share) or batched (one hypercall per batch)") \
	X(cpu_s, DBL, COUNTER, SECONDS, DAEMON, "engine_cpu_s", 0, \
	  "xenshare_engine_cpu_seconds_total", "CPU time spent in the engine since start") \
	X(index_bytes, U64, GAUGE, BYTES, DAEMON, "index_bytes", 0, \
	  "xenshare_index_bytes", "memory held by the index and the per-page state") \
	X(pages_indexed, U64, GAUGE, PAGES, DAEMON, "pages_indexed", 0, \
	  "xenshare_pages_indexed", "guest pages that state covers (index_bytes / pages_indexed: bytes per page)") \
	X(host_total_pages, U64, GAUGE, PAGES, HOST, "total_pages", SHR_HV | SHR_REQUIRED, \
	  "", "host memory (xc_physinfo)") \
	X(host_free_pages, U64, GAUGE, PAGES, HOST, "free_pages", SHR_MIRROR | SHR_HV | SHR_REQUIRED, \
	  "", "free host memory (xc_physinfo)") \
	X(reserve_pages, U64, GAUGE, PAGES, HOST, "reserve_pages", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_reserve_bytes", "the reserve setting: no new share is made while free host memory is below it") \
	X(sharing_paused, BOOL, GAUGE, NONE, HOST, "sharing_paused", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_sharing_paused", "no new share is made (free memory below the reserve, or a guest waiting for memory)") \
	X(pages_at_risk, U64, GAUGE, PAGES, HOST, "pages_at_risk", 0, \
	  "xenshare_pages_at_risk", "pages an unshare storm could ask back (= pages_sharing)") \
	X(pages_needed, U64, GAUGE, PAGES, HOST, "pages_needed", 0, \
	  "xenshare_pages_needed", "pages the engine asks dom0 to give back (see dom0_balloon)") \
	X(memory_requests, U64, COUNTER, COUNT, HOST, "memory_requests", 0, \
	  "xenshare_memory_requests_total", "unshares that found no free memory (sharing ring requests, VIRQ_ENOMEM)") \
	X(pages_shared, U64, GAUGE, PAGES, COUNTERS, "pages_shared", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_daemon_shared_frames", "shared frames in use (KSM: pages_shared), xc_sharing_used_frames as the engine last read it") \
	X(pages_sharing, U64, GAUGE, PAGES, COUNTERS, "pages_sharing", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_daemon_saved_pages", "guest pages saved (KSM: pages_sharing), xc_sharing_freed_pages as the engine last read it") \
	X(pages_unshared, U64, GAUGE, PAGES, COUNTERS, "pages_unshared", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_pages_unshared", "scanned pages with no identical twin so far (KSM: pages_unshared)") \
	X(pages_volatile, U64, GAUGE, PAGES, COUNTERS, "pages_volatile", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_pages_volatile", "pages backed off because their shares keep breaking (KSM: pages_volatile)") \
	X(pages_scanned, U64, COUNTER, PAGES, COUNTERS, "pages_scanned", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_pages_scanned_total", "fingerprints computed") \
	X(zero_pages_sharing, U64, GAUGE, PAGES, COUNTERS, "zero_pages_sharing", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_zero_pages_sharing", "of the pages the engine shared, zero pages") \
	X(engine_pages_sharing, U64, GAUGE, PAGES, COUNTERS, "engine_pages_sharing", 0, \
	  "xenshare_engine_pages_sharing", "gfns the engine merged and still believes shared: its own count, beside the hypervisor's pages_sharing") \
	X(share_attempts, U64, COUNTER, COUNT, COUNTERS, "share_attempts", SHR_REQUIRED, \
	  "xenshare_share_attempts_total", "pairs offered to the hypervisor to share") \
	X(share_raced, U64, COUNTER, COUNT, COUNTERS, "share_raced", SHR_REQUIRED, \
	  "xenshare_share_raced_total", "shares refused because a guest wrote one of the pages meanwhile (a handle died; retried later)") \
	X(share_failed, U64, COUNTER, COUNT, COUNTERS, "share_failed", 0, \
	  "xenshare_share_failed_total", "shares refused for another reason") \
	X(compare_mismatch, U64, COUNTER, COUNT, COUNTERS, "compare_mismatch", 0, \
	  "xenshare_compare_mismatch_total", "candidates whose full compare found them different") \
	X(frame_merges, U64, COUNTER, COUNT, COUNTERS, "frame_merges", 0, \
	  "xenshare_frame_merges_total", "second frames of one content merged into the first by the hypervisor (both already shared with other domains)") \
	X(unshares, U64, COUNTER, COUNT, COUNTERS, "unshares", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_unshares_total", "shares the engine found broken by a guest's write") \
	X(unshares_rewritten, U64, COUNTER, COUNT, COUNTERS, "unshares_rewritten", SHR_MIRROR, \
	  "xenshare_unshares_rewritten_total", "of unshares: rewritten with the same bytes (asked of Xen)") \
	X(nominations_released, U64, COUNTER, COUNT, COUNTERS, "nominations_released", 0, \
	  "xenshare_nominations_released_total", "pages found alone on a shared frame (left nominated by a failed merge or a killed daemon) and made private again") \
	X(logdirty_rounds, U64, COUNTER, COUNT, COUNTERS, "logdirty_rounds", 0, \
	  "xenshare_logdirty_rounds_total", "passes of domains scanned from their dirty log") \
	X(logdirty_pages, U64, COUNTER, COUNT, COUNTERS, "logdirty_pages", 0, \
	  "xenshare_logdirty_pages_total", "pages the dirty logs named as written or unshared") \
	X(logdirty_lost, U64, COUNTER, COUNT, COUNTERS, "logdirty_lost", 0, \
	  "xenshare_logdirty_lost_total", "dirty logs another user (a live migration, a save) took over") \
	X(hypercalls, U64, COUNTER, COUNT, COUNTERS, "hypercalls", 0, \
	  "xenshare_hypercalls_total", "hypercalls the engine made (statistics reads excepted)") \
	X(mappings, U64, COUNTER, COUNT, COUNTERS, "mappings", 0, \
	  "xenshare_mappings_total", "foreign mapping calls the engine made") \
	X(mapped_pages, U64, COUNTER, PAGES, COUNTERS, "mapped_pages", 0, \
	  "xenshare_mapped_pages_total", "pages in those mapping calls")

/* One domain's statistics (struct shr_domain_stats; its identity and policy
 * are not statistics and are declared there). */
#define SHR_DOMAIN_STATS(X) \
	X(tot_pages, U64, GAUGE, PAGES, DOMAIN, "tot_pages", SHR_HV | SHR_REQUIRED, \
	  "", "pages the domain owns privately (the hypervisor's tot_pages)") \
	X(shr_pages, U64, GAUGE, PAGES, DOMAIN, "shr_pages", SHR_HV | SHR_REQUIRED, \
	  "", "pages of the domain backed by shared frames (the hypervisor's shr_pages)") \
	X(engine_pages_sharing, U64, GAUGE, PAGES, DOMAIN, "pages_sharing", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_domain_saved_pages", "gfns of this domain the engine merged and still believes shared") \
	X(pages_volatile, U64, GAUGE, PAGES, DOMAIN, "pages_volatile", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_domain_volatile_pages", "gfns of this domain backed off because their shares keep breaking") \
	X(unshares, U64, COUNTER, COUNT, DOMAIN, "unshares", SHR_MIRROR, \
	  "xenshare_domain_unshares_total", "shares of this domain seen broken by its writes") \
	X(unshares_per_s, DBL, GAUGE, PER_S, DOMAIN, "unshares_per_s", SHR_REQUIRED, \
	  "xenshare_domain_unshares_per_second", "unshares of this domain per second, over the last second or more") \
	X(scan_progress, DBL, GAUGE, RATIO, DOMAIN, "scan_progress", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_domain_scan_progress_ratio", "fraction of this domain scanned in the current pass") \
	X(evicting, BOOL, GAUGE, NONE, DOMAIN, "evicting", 0, \
	  "xenshare_domain_evicting", "being unshared before it shares again: it holds pages shared under another group or mode, or of unknown origin") \
	X(logdirty, BOOL, GAUGE, NONE, DOMAIN, "logdirty", 0, \
	  "xenshare_domain_logdirty", "scanned from its dirty log (full passes otherwise; the domain's full_why says why)")

/* The columns' vocabulary: SHR_STAT_<type>, SHR_STAT_<kind>,
 * SHR_UNIT_<unit>, SHR_SEC_<section>, and the flags. */
enum shr_stat_type { SHR_STAT_U64, SHR_STAT_I64, SHR_STAT_BOOL, SHR_STAT_DBL, SHR_STAT_PROTO };
enum shr_stat_kind { SHR_STAT_COUNTER, SHR_STAT_GAUGE };
enum shr_stat_unit {
	SHR_UNIT_NONE, SHR_UNIT_PAGES, SHR_UNIT_COUNT, SHR_UNIT_BYTES, SHR_UNIT_SECONDS,
	SHR_UNIT_RATIO, SHR_UNIT_PERCENT, SHR_UNIT_PER_S, SHR_UNIT_PID,
};
enum shr_stat_section { SHR_SEC_DAEMON, SHR_SEC_HOST, SHR_SEC_COUNTERS, SHR_SEC_DOMAIN };
enum { SHR_MIRROR = 1u << 0, SHR_HV = 1u << 1, SHR_REQUIRED = 1u << 2 };

#define SHR_STATS_CTYPE_U64 uint64_t
#define SHR_STATS_CTYPE_I64 int64_t
#define SHR_STATS_CTYPE_BOOL bool
#define SHR_STATS_CTYPE_DBL double
#define SHR_STATS_CTYPE_PROTO enum shr_protocol

/* A list's line as a struct member (also used by engine.h and the daemon). */
#define SHR_STATS_MEMBER(name, type, ...) SHR_STATS_CTYPE_##type name;

struct shr_stats {
	SHR_STATS(SHR_STATS_MEMBER)
};

#endif /* SHR_STATS_H */
