/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * statparse.h - turning the daemon's `stats` reply and the hypervisor's
 * domain list into one xst_snapshot.
 *
 * The reply format is docs/control-protocol.md; its statistics are the
 * lines of the lists of dom0-daemon/schema.h, read by walking their tables.
 * The parser is strict about every value it finds (of the line's type,
 * counts non-negative, fractions within 0..1) and about the presence of
 * the lines marked SHR_REQUIRED; a line the reply lacks otherwise (an older
 * daemon) is recorded as absent, and fields it does not know are ignored,
 * because the protocol allows fields to be added but never removed or
 * changed in meaning.  A reply that breaks the contract is a bad reply (the
 * daemon's state becomes XST_DAEMON_BAD_REPLY with the offending field
 * named), never a table of zeros.
 *
 * Merging: the hypervisor's list is the authority for which domains exist
 * and for tot_pages/shr_pages; the daemon adds policy and its accounting.
 * A domain known to only one side is kept and marked (in_hv / in_daemon).
 * The result is sorted by domid.  Both functions are pure.
 */
#ifndef XST_STATPARSE_H
#define XST_STATPARSE_H

#include <stddef.h>

#include "statfmt.h"

/*
 * Parses one reply line.  On success fills *dm (state UP) and a malloc'd
 * array of domains (*doms, *nr; free() it).  On failure returns -EPROTO and
 * writes a message naming the field into err.
 */
int xst_parse_daemon_reply(const char *text, size_t len, struct xst_daemon *dm,
			   struct xst_domain **doms, size_t *nr,
			   char *err, size_t errlen);

/*
 * Builds s->domains from the hypervisor's domains (name/group/mode may be
 * filled from xenstore) and the daemon's.  Replaces s->domains (malloc'd;
 * release with xst_snapshot_put_domains).  -ENOMEM on failure.
 */
int xst_snapshot_merge(struct xst_snapshot *s,
		       const struct xst_domain *hv_doms, size_t nr_hv,
		       const struct xst_domain *dm_doms, size_t nr_dm);
void xst_snapshot_put_domains(struct xst_snapshot *s);

#endif /* XST_STATPARSE_H */
