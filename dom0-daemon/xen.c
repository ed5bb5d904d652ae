/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen.c - the daemon's libxenctrl calls (see xen.h).
 *
 * The only daemon file that includes xenctrl.h, and so the only one built
 * as GNU C: Debian's Xen headers use anonymous unions and refuse strict
 * C11.  libxenctrl reports failure as -1 (or NULL) with errno; each call
 * here turns that into -errno at once (neg_errno()), an errno of 0 after a
 * failure (a library path that forgot to set it) becoming -EIO so that a
 * failure is never read as success.
 *
 * Invariants: xc_domain_getinfolist() answers the domains from a given
 * domid upwards, in domid order, so asking for one domain returns the
 * next existing one when it is gone: xsd_xen_domain() checks the domid
 * and says -ESRCH.  The full list is read in batches, each starting after
 * the last domid of the previous one, until a batch comes back short.
 */
#include "xen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

#define GETINFO_BATCH 256u

_Static_assert(XSD_DOMID_FIRST_RESERVED == DOMID_FIRST_RESERVED,
	       "XSD_DOMID_FIRST_RESERVED is Xen's DOMID_FIRST_RESERVED");
_Static_assert(sizeof(((struct xsd_xen_dominfo *)0)->handle) == sizeof(xen_domain_handle_t),
	       "a domain handle is Xen's 16-byte UUID");

struct xsd_xen {
	xc_interface *xch;
};

/* The one place -1/errno becomes -errno. */
static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static void dominfo_from(struct xsd_xen_dominfo *out, const xc_domaininfo_t *in)
{
	memset(out, 0, sizeof(*out));
	out->domid = in->domain;
	memcpy(out->handle, in->handle, sizeof(out->handle));
	out->dying = (in->flags & XEN_DOMINF_dying) != 0;
	out->tot_pages = in->tot_pages;
}

int xsd_xen_open(struct xsd_xen **out)
{
	struct xsd_xen *x;
	int rc;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	errno = 0;
	x->xch = xc_interface_open(NULL, NULL, 0);
	if (!x->xch) {
		rc = neg_errno();
		free(x);
		return rc;
	}
	*out = x;
	return 0;
}

void xsd_xen_close(struct xsd_xen *x)
{
	if (!x)
		return;
	xc_interface_close(x->xch);
	free(x);
}

int xsd_xen_sharing_probe(struct xsd_xen *x)
{
	errno = 0;
	if (xc_memshr_audit(x->xch) < 0 && neg_errno() == -ENOSYS)
		return -ENOSYS;
	return 0;
}

int xsd_xen_domains(struct xsd_xen *x, struct xsd_xen_dominfo **out, size_t *nr)
{
	xc_domaininfo_t *info = NULL, *grown;
	struct xsd_xen_dominfo *list = NULL;
	size_t n = 0, cap = 0, i;
	uint32_t first = 0;
	int r, rc = 0;

	*out = NULL;
	*nr = 0;
	for (;;) {
		if (n + GETINFO_BATCH > cap) {
			cap = cap ? cap * 2 : GETINFO_BATCH;
			grown = realloc(info, cap * sizeof(*info));
			if (!grown) {
				rc = -ENOMEM;
				goto out;
			}
			info = grown;
		}
		errno = 0;
		r = xc_domain_getinfolist(x->xch, first, GETINFO_BATCH, info + n);
		if (r < 0) {
			rc = neg_errno();
			goto out;
		}
		if ((unsigned int)r > GETINFO_BATCH) {
			rc = -EPROTO;    /* more than asked for: a broken library */
			goto out;
		}
		n += (size_t)r;
		if ((unsigned int)r < GETINFO_BATCH)
			break;
		first = info[n - 1].domain + 1;
	}
	list = calloc(n ? n : 1, sizeof(*list));
	if (!list) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		dominfo_from(&list[i], &info[i]);
	*out = list;
	*nr = n;
out:
	free(info);
	return rc;
}

int xsd_xen_domain(struct xsd_xen *x, uint32_t domid, struct xsd_xen_dominfo *out)
{
	xc_domaininfo_t info;
	int r;

	errno = 0;
	r = xc_domain_getinfolist(x->xch, domid, 1, &info);
	if (r < 0)
		return neg_errno();
	if (r != 1 || info.domain != domid)
		return -ESRCH;
	dominfo_from(out, &info);
	return 0;
}

int xsd_xen_sharing_counters(struct xsd_xen *x, uint64_t *freed, uint64_t *used)
{
	long f, u;

	errno = 0;
	f = xc_sharing_freed_pages(x->xch);
	if (f < 0)
		return neg_errno();
	errno = 0;
	u = xc_sharing_used_frames(x->xch);
	if (u < 0)
		return neg_errno();
	*freed = (uint64_t)f;
	*used = (uint64_t)u;
	return 0;
}
