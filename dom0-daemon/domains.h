/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * domains.h - the daemon's domain table: which domains exist, which take
 * part, and keeping the engine told.
 *
 * The table learns domains from xenstore's @introduceDomain and
 * @releaseDomain watches plus the hypervisor's domain list (which also says which
 * are dying), watches each domain's memshare/ and name nodes, resolves its
 * policy (policy.h) and calls shr_engine_add_domain()/remove_domain() when
 * the outcome changes.  Domains appear, pause, die and vanish at any moment:
 * every xenstore or hypervisor answer may already be stale, so each step
 * tolerates "gone" and the next rescan settles the table.
 */
#ifndef XSD_DOMAINS_H
#define XSD_DOMAINS_H

#include <stdbool.h>
#include <stdint.h>

#include <xenstore.h>

#include "libshare/engine.h"
#include "policy.h"
#include "settings.h"
#include "xen.h"

/* What the table knows of one domain (read-only for the table's users). */
struct xsd_domain {
	uint32_t domid;
	uint8_t handle[16];                  /* UUID: a reused domid is a new domain */
	char name[XSD_NAME_MAX + 1];         /* printable copy of the name node, "" if none */
	struct shr_domain_policy policy;     /* what was resolved (mode off when not taking part) */
	enum xsd_policy_source source;
	char why[192];                       /* the policy's resolution, for logs and the control socket */
	bool in_engine;                      /* added to the engine and not removed since */
	char engine_name[XSD_NAME_MAX + 1];  /* the name the engine was given (xl rename) */
	int engine_error;                    /* last refusal by the engine (-EOPNOTSUPP, ...), 0 if none */
	struct shr_domain_record rec;        /* its memshare/held record, when rec_known */
	bool rec_known;
	bool dirty;                          /* nodes changed: resolve again */
	double last_warn_s;                  /* rate limit of warnings a guest can trigger */
	bool watched;
};

struct xsd_domains;

int xsd_domains_alloc(struct xs_handle *xs, struct xsd_xen *xen, struct shr_engine *e,
		      const struct xsd_config *cfg, struct xsd_domains **out);
/* Unwatches everything and removes every domain from the engine. */
void xsd_domains_free(struct xsd_domains *d);

/* Registers the @introduceDomain/@releaseDomain watches and does a first scan. */
int xsd_domains_start(struct xsd_domains *d);
/* Feeds one xenstore watch event; returns false if the token is not ours. */
bool xsd_domains_watch_event(struct xsd_domains *d, const char *path, const char *token);
/* Applies what the events asked for: rescan, then resolve dirty domains. */
void xsd_domains_settle(struct xsd_domains *d);
/* Re-reads the domain list (also called periodically as a safety net). */
int xsd_domains_rescan(struct xsd_domains *d);
/*
 * Records, for every domain in the engine whose record changed (it was
 * added, finished unsharing what it held of another group, or its dirty
 * log was taken or given up), shr_engine_domain_record() in its
 * memshare/held node.  Called
 * after every shr_engine_run() and after the table changes, so a restarted
 * daemon gives the engine what the domain holds.
 */
void xsd_domains_sync_held(struct xsd_domains *d);
/* New config (reload): every domain's policy is resolved again. */
void xsd_domains_set_config(struct xsd_domains *d, const struct xsd_config *cfg);

size_t xsd_domains_count(const struct xsd_domains *d);
const struct xsd_domain *xsd_domains_at(const struct xsd_domains *d, size_t i);
const struct xsd_domain *xsd_domains_find(const struct xsd_domains *d, uint32_t domid);

/* What an errno from the hypervisor's sharing set-up means for an operator
 * (EOPNOTSUPP, ENODEV, EXDEV, ENOSYS), or NULL for other errors. */
const char *xsd_engine_refusal(int rc);

/* Why the domain is (not) shared: the policy's reason, plus the hypervisor's
 * refusal if there was one (written into buf when needed). */
const char *xsd_domain_note(const struct xsd_domain *dom, char *buf, size_t len);

/*
 * Cross-checks the table against the engine: every domain the table put in
 * the engine is known to it with the same policy, and the engine knows no
 * other domain.  Returns the number of violations (each logged).
 */
int xsd_domains_audit(struct xsd_domains *d);

#endif /* XSD_DOMAINS_H */
