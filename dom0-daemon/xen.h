/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen.h - the daemon's one door to libxenctrl.
 *
 * The engine has its own handles (libshare/xen.h); the daemon needs
 * libxenctrl only to learn which domains exist (and which are dying), to
 * read dom0's size for ballooning, to probe that the hypervisor can share
 * at all, and to read the hypervisor's own sharing counters for the stats.
 * Those calls are here and nowhere else: every function returns 0 (or a
 * count) or a negative errno, libxenctrl's -1 and errno becoming -errno in
 * this file only.  No Xen type crosses this header, so the rest of the
 * daemon includes neither xenctrl.h nor the GNU C it requires.
 */
#ifndef XSD_XEN_H
#define XSD_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Xen's DOMID_FIRST_RESERVED: domain ids from here on are not guests
 * (DOMID_SELF, DOMID_IO, ...); xen.c checks it against Xen's header. */
#define XSD_DOMID_FIRST_RESERVED 0x7ff0u

/* What the daemon uses of xc_domaininfo_t. */
struct xsd_xen_dominfo {
	uint32_t domid;
	uint8_t handle[16];         /* the domain's UUID: a reused domid is a new domain */
	bool dying;
	uint64_t tot_pages;         /* pages the domain owns (shared frames not counted) */
};

struct xsd_xen;

/* Opens libxenctrl (privcmd).  -ENOENT: no /dev/xen/privcmd (not dom0, or
 * the xen modules missing); -EACCES/-EPERM: not root; other -errno. */
int xsd_xen_open(struct xsd_xen **out);
void xsd_xen_close(struct xsd_xen *x);

/*
 * Whether the hypervisor was built with memory sharing: XENMEM_sharing_op
 * is compiled out without CONFIG_MEM_SHARING (-ENOSYS), while the audit op
 * of a build with it answers -EOPNOTSUPP (release) or a count (debug).
 * 0 or -ENOSYS.
 */
int xsd_xen_sharing_probe(struct xsd_xen *x);

/* Every domain, in domid order: a malloc'd array in *out (free() it) of
 * *nr entries.  0 or -errno (then *out is NULL). */
int xsd_xen_domains(struct xsd_xen *x, struct xsd_xen_dominfo **out, size_t *nr);

/* One domain: 0, -ESRCH when it does not exist, other -errno. */
int xsd_xen_domain(struct xsd_xen *x, uint32_t domid, struct xsd_xen_dominfo *out);

/* The hypervisor's sharing counters (xc_sharing_freed_pages: guest pages
 * saved; xc_sharing_used_frames: shared frames in use): 0 or -errno. */
int xsd_xen_sharing_counters(struct xsd_xen *x, uint64_t *freed, uint64_t *used);

#endif /* XSD_XEN_H */
