/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy.h - which domains take part, in which mode and group.
 *
 * Pure functions over what was read from xenstore (values and permissions)
 * and the config, so every rule is unit-tested without a xenstore.  The
 * domain table (domains.c) reads the nodes and calls xsd_policy_resolve().
 *
 * Rules, in order:
 *  1. /local/domain/<domid>/memshare/enabled present: it decides.  It must be
 *     trusted (writable by dom0 only, see xsd_perms_untrusted()) and exactly
 *     "on", "off" or "zero".  memshare/group, when present, must be trusted
 *     and a valid group name; absent means the default_group setting.
 *  2. Otherwise the config's `domain NAME = ...` rules, matched (fnmatch) on
 *     the domain's trusted /local/domain/<domid>/name, first match wins.
 *  3. Otherwise the domain is not scanned.
 * Anything untrusted or malformed makes the domain opted out (mode off) with
 * a reason: a guest can never opt itself in, pick its group, or rename
 * itself into a rule.
 */
#ifndef XSD_POLICY_H
#define XSD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenstore_lib.h>

#include "settings.h"

#define XSD_NODE_MAX_VALUE 256   /* longer values are malformed */

/* One xenstore node as read by the domain table. */
struct xsd_node {
	bool present;
	const char *value;               /* not NUL-terminated necessarily: use len */
	size_t len;
	const struct xs_permissions *perms;
	unsigned int nr_perms;
};

enum xsd_policy_source {
	XSD_SRC_NONE = 0,                /* not opted in anywhere */
	XSD_SRC_XENSTORE,                /* memshare/enabled */
	XSD_SRC_CONFIG,                  /* a domain rule of the config */
	XSD_SRC_REFUSED,                 /* something untrusted or malformed */
};

const char *xsd_policy_source_name(enum xsd_policy_source s);

/*
 * True when a domain other than dom0 may write a node with these
 * permissions (xenstored's rules: the owner, entry 0, may write; entries
 * 1.. grant their domain what they say; entry 0's perms apply to every
 * other domain).  *who is the domain (or UINT32_MAX for "every domain").
 * No permissions at all counts as untrusted.
 */
bool xsd_perms_untrusted(const struct xs_permissions *p, unsigned int n, uint32_t *who);

/*
 * Resolves a domain's policy.  Always fills *out (mode off unless opted in)
 * and *src, and a one-line reason in why.  Returns 0 when the outcome is
 * regular (including "not opted in"), -EPERM when a node was untrusted,
 * -EINVAL when a value was malformed: the caller logs a warning then.
 */
int xsd_policy_resolve(const struct xsd_config *cfg, const struct xsd_node *enabled,
		       const struct xsd_node *group, const struct xsd_node *name,
		       struct shr_domain_policy *out, enum xsd_policy_source *src,
		       char *why, size_t whylen);

/*
 * The held record: /local/domain/<domid>/memshare/held, written by the
 * daemon only (owner dom0, no access for anyone else), "<mode> <group>",
 * then " logdirty" if the daemon has the domain's log-dirty mode on: the
 * engine's struct shr_domain_record (the policy under which the domain's
 * pages that are on shared frames were shared).  It lives as long as the
 * domain's xenstore directory, so a restarted daemon knows which group's
 * frames a domain holds, and that a dirty log left on is its own.
 */
#define XSD_HELD_NODE "memshare/held"
#define XSD_HELD_MAX 96                  /* "zero " + a group name + " logdirty" */

/*
 * Reads a held record: 0 and *out, -ENOENT when absent, -EPERM when another
 * domain may write it (then it proves nothing), -EINVAL when malformed.
 * Anything but 0 means "not known": the engine then unshares the domain
 * before it shares again, the safe side.
 */
int xsd_held_parse(const struct xsd_node *n, struct shr_domain_record *out);
/* The record's value (held mode on or zero). */
void xsd_held_format(const struct shr_domain_record *r, char *buf, size_t len);

#endif /* XSD_POLICY_H */
