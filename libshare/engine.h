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

#include "params.h"
#include "stats.h"

/* One domain as shr_engine_foreach_domain() shows it: who it is, and its
 * statistics, one member per line of SHR_DOMAIN_STATS (stats.h). */
struct shr_domain_stats {
	uint32_t domid;
	char name[64];
	struct shr_domain_policy policy;
	struct shr_domain_policy held; /* the policy its shared pages were shared under
					  (group "" when not known) */
	const char *full_why;          /* why full passes when scan_mode asks for the dirty
					  log (NULL: not asked, or scanned from it) */
	SHR_DOMAIN_STATS(SHR_STATS_MEMBER)
};


struct shr_engine;

/* Opens the Xen handles (libxenctrl, libxenforeignmemory, libxenevtchn),
 * draws the fingerprint secret, probes the batched op.  Logs why on error:
 * -ENOENT/-EACCES no privcmd, -ENOSYS hypervisor without sharing, ... */
int shr_engine_alloc(const struct shr_params *params, struct shr_engine **out);
void shr_engine_free(struct shr_engine *e);
/* Applies new tunables (SIGHUP); already-running passes adopt them. */
int shr_engine_set_params(struct shr_engine *e, const struct shr_params *params);

/* What the caller keeps of a domain across daemon restarts (the daemon: its
 * memshare/held node), and gives back when it adds the domain again. */
struct shr_domain_record {
	struct shr_domain_policy held; /* the policy its pages on shared frames were shared
					  under; group "" when not known */
	bool logdirty;                 /* the engine had the domain's log-dirty mode on */
};

/*
 * Starts (or updates the policy of) a domain; -ESRCH if it does not exist,
 * -EOPNOTSUPP/-ENODEV/-EXDEV if the hypervisor refuses sharing for it.
 *
 * rec is what the caller recorded of the domain (NULL: nothing, e.g. a
 * daemon's first start).  Tenant isolation: a domain that holds shared
 * pages of another group (or of unknown origin), or shared under mode on
 * while its policy is now zero, is first unshared completely (evicting)
 * and only then merged under its policy.  The same happens when a later
 * call changes its group or mode that way.  rec->logdirty lets the engine
 * take back a dirty log it left on (docs/design.md, "Dirty-log scanning").
 */
int shr_engine_add_domain(struct shr_engine *e, uint32_t domid, const char *name,
			  const struct shr_domain_policy *policy,
			  const struct shr_domain_record *rec);
/*
 * The domain's record as it stands, for the caller to keep (and give back
 * after a restart); while a domain is evicting, its held policy is still
 * the old one.  0, or -ESRCH for a domain the engine does not know.  Keep
 * it before the next shr_engine_run(): from then on pages may be shared
 * under it.
 */
int shr_engine_domain_record(struct shr_engine *e, uint32_t domid,
			     struct shr_domain_record *rec);
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
