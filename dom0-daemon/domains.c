/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * domains.c - domain discovery and policy (see domains.h).
 *
 * Mechanism:
 *  - Two global watches, @introduceDomain and @releaseDomain, only set a
 *    "rescan" flag; xsd_domains_settle() then reads the full domain list
 *    with xsd_xen_domains() once, however many events came in.  A
 *    rescan also runs periodically (main.c), because a domain can start
 *    dying without any xenstore event.
 *  - The table is an array sorted by domid.  A domain is identified by
 *    (domid, handle): a domid reused for a new domain is a remove + add.
 *  - Each domain gets one watch token "xsd/d/<domid>" on its memshare/
 *    directory and its name node; an event marks it dirty, and settle()
 *    resolves dirty domains again.  Only a changed outcome reaches the
 *    engine, and a changed reason is logged once (a guest hammering its
 *    xenstore nodes cannot flood the log or the engine).
 *  - Nodes are read as permissions, value, permissions: if the permissions
 *    changed in between, the read is retried later (the change fires the
 *    watch again), so a value is never paired with another node's perms.
 *  - Tenant isolation across restarts: each domain's memshare/held node
 *    (policy.h) records the policy its shared pages were shared under; the
 *    engine is given it when the domain is added, and the table writes the
 *    engine's answer back whenever it changes (xsd_domains_sync_held()),
 *    before the engine's next run can share under it.
 *
 * Invariants:
 *  - in_engine is true exactly for the domains the engine was told to add
 *    (and not told to remove); xsd_domains_audit() checks it against the
 *    engine's own list.
 *  - dom0 (domid 0) and dying domains are never in the engine.
 */
#include "domains.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "logsink.h"

#define TOKEN_INTRO "xsd/intro"
#define TOKEN_RELEASE "xsd/release"
#define TOKEN_DOMAIN "xsd/d/"
#define WARN_INTERVAL_S 10.0   /* a guest flipping its own nodes cannot flood the log */

struct xsd_domains {
	struct xs_handle *xs;
	struct xsd_xen *xen;
	struct shr_engine *engine;
	const struct xsd_config *cfg;
	struct xsd_domain *v;               /* sorted by domid */
	size_t n, cap;
	bool rescan_needed;
	bool watching_global;
};

int xsd_domains_alloc(struct xs_handle *xs, struct xsd_xen *xen, struct shr_engine *e,
		      const struct xsd_config *cfg, struct xsd_domains **out)
{
	struct xsd_domains *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->xs = xs;
	d->xen = xen;
	d->engine = e;
	d->cfg = cfg;
	*out = d;
	return 0;
}

static size_t find_index(const struct xsd_domains *d, uint32_t domid, bool *found)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->v[mid].domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < d->n && d->v[lo].domid == domid;
	return lo;
}

const struct xsd_domain *xsd_domains_find(const struct xsd_domains *d, uint32_t domid)
{
	bool found;
	size_t i = find_index(d, domid, &found);

	return found ? &d->v[i] : NULL;
}

size_t xsd_domains_count(const struct xsd_domains *d)
{
	return d->n;
}

const struct xsd_domain *xsd_domains_at(const struct xsd_domains *d, size_t i)
{
	return i < d->n ? &d->v[i] : NULL;
}

static void watch_paths(struct xsd_domains *d, struct xsd_domain *dom, bool on)
{
	char path[64], token[32];
	static const char *const nodes[] = { "memshare", "name" };
	size_t i;

	snprintf(token, sizeof(token), TOKEN_DOMAIN "%" PRIu32, dom->domid);
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "/local/domain/%" PRIu32 "/%s", dom->domid, nodes[i]);
		if (on ? !xs_watch(d->xs, path, token) : !xs_unwatch(d->xs, path, token))
			xsd_warn("d%" PRIu32 " xs_%swatch %s: %s", dom->domid, on ? "" : "un",
				 path, strerror(errno));
	}
	dom->watched = on;
}

/* One node: permissions, value, permissions again (see the top comment). */
static int read_node(struct xs_handle *xs, const char *path, struct xsd_node *n,
		     char **val, struct xs_permissions **perms)
{
	struct xs_permissions *again;
	unsigned int np, np2, len;
	int rc;

	memset(n, 0, sizeof(*n));
	*val = NULL;
	*perms = xs_get_permissions(xs, XBT_NULL, path, &np);
	if (!*perms)
		return errno == ENOENT ? 0 : -errno;
	*val = xs_read(xs, XBT_NULL, path, &len);
	if (!*val) {
		rc = errno == ENOENT ? 0 : -errno;
		goto fail;
	}
	again = xs_get_permissions(xs, XBT_NULL, path, &np2);
	if (!again || np2 != np || memcmp(again, *perms, np * sizeof(**perms))) {
		rc = !again && errno == ENOENT ? 0 : -EAGAIN;
		free(again);
		goto fail;
	}
	free(again);
	n->present = true;
	n->value = *val;
	n->len = len;
	n->perms = *perms;
	n->nr_perms = np;
	return 0;
fail:
	free(*val);
	free(*perms);
	*val = NULL;
	*perms = NULL;
	return rc;
}

const char *xsd_engine_refusal(int rc)
{
	switch (rc) {
	case -EOPNOTSUPP:
		return "the hypervisor refuses memory sharing on this CPU: Xen 4.17 shares memory "
		       "only on Intel VT-x (VMX) hosts; on AMD SVM the patched hypervisor "
		       "(hypervisor-patch/) allows it with the boot option mem-sharing-svm";
	case -ENODEV:
		return "sharing needs an HVM or PVH guest with hardware-assisted paging (HAP)";
	case -EXDEV:
		return "the domain has passthrough devices; Xen refuses sharing for it";
	case -ENOSYS:
		return "this hypervisor was built without CONFIG_MEM_SHARING; see hypervisor-patch/ "
		       "(docs/hypervisor-patch.md)";
	default:
		return NULL;
	}
}

static bool policy_equal(const struct shr_domain_policy *a, const struct shr_domain_policy *b)
{
	return a->mode == b->mode && !strcmp(a->group, b->group);
}

/* Writes dom's record, owner dom0 and no access for anyone else. */
static void held_write(struct xsd_domains *d, struct xsd_domain *dom,
		       const struct shr_domain_record *rec)
{
	struct xs_permissions none = { .id = 0, .perms = XS_PERM_NONE };
	char path[64], val[XSD_HELD_MAX];

	snprintf(path, sizeof(path), "/local/domain/%" PRIu32 "/" XSD_HELD_NODE, dom->domid);
	xsd_held_format(rec, val, sizeof(val));
	if (!xs_write(d->xs, XBT_NULL, path, val, (unsigned int)strlen(val)) ||
	    !xs_set_permissions(d->xs, XBT_NULL, path, &none, 1)) {
		/* retried at the next sync; a restart before it unshares the
		 * domain once (its record is missing or old): never unsafe */
		xsd_warn("d%" PRIu32 " (%s): cannot record its held policy in %s: %s",
			 dom->domid, dom->name, path, strerror(errno));
		return;
	}
	dom->rec = *rec;
	dom->rec_known = true;
}

static void held_sync(struct xsd_domains *d, struct xsd_domain *dom)
{
	struct shr_domain_record rec;

	if (!dom->in_engine || shr_engine_domain_record(d->engine, dom->domid, &rec))
		return;
	if (!rec.held.group[0])
		return;           /* nothing known to record (evicting what it holds) */
	if (dom->rec_known && policy_equal(&rec.held, &dom->rec.held) &&
	    rec.logdirty == dom->rec.logdirty)
		return;
	held_write(d, dom, &rec);
}

void xsd_domains_sync_held(struct xsd_domains *d)
{
	for (size_t i = 0; i < d->n; i++)
		held_sync(d, &d->v[i]);
}

/* Tells the engine what changed; dom->policy is the new policy afterwards. */
static void apply(struct xsd_domains *d, struct xsd_domain *dom,
		  const struct shr_domain_policy *pol)
{
	bool changed = !policy_equal(&dom->policy, pol);
	int rc;

	dom->policy = *pol;
	if (pol->mode == SHR_MODE_OFF) {
		if (dom->in_engine) {
			shr_engine_remove_domain(d->engine, dom->domid);
			dom->in_engine = false;
		}
		dom->engine_error = 0;
		return;
	}
	if (dom->in_engine && !changed && !strcmp(dom->engine_name, dom->name))
		return;
	if (!dom->in_engine && dom->engine_error && !changed)
		return;                  /* refused before, nothing new to offer */
	rc = shr_engine_add_domain(d->engine, dom->domid, dom->name, pol,
				   dom->rec_known ? &dom->rec : NULL);
	if (rc == 0) {
		dom->in_engine = true;
		dom->engine_error = 0;
		snprintf(dom->engine_name, sizeof(dom->engine_name), "%s", dom->name);
		held_sync(d, dom);
		return;
	}
	if (dom->in_engine) {
		/* the update was refused: the engine dropped or kept it; make sure */
		shr_engine_remove_domain(d->engine, dom->domid);
		dom->in_engine = false;
	}
	dom->engine_error = rc;
	if (rc == -ESRCH) {
		d->rescan_needed = true;     /* it is going away: the rescan removes it */
		return;
	}
	xsd_warn("d%" PRIu32 " (%s) add to engine: %s", dom->domid, dom->name,
		 xsd_engine_refusal(rc) ? xsd_engine_refusal(rc) : strerror(-rc));
}

const char *xsd_domain_note(const struct xsd_domain *dom, char *buf, size_t len)
{
	if (!dom->engine_error)
		return dom->why;
	snprintf(buf, len, "%s; refused by the hypervisor (%s)%s%s", dom->why,
		 strerror(-dom->engine_error), xsd_engine_refusal(dom->engine_error) ? ": " : "",
		 xsd_engine_refusal(dom->engine_error) ? xsd_engine_refusal(dom->engine_error) : "");
	return buf;
}

static void resolve(struct xsd_domains *d, struct xsd_domain *dom)
{
	struct xsd_node enabled, group, name, held;
	struct xs_permissions *p[4] = { NULL, NULL, NULL, NULL };
	char *val[4] = { NULL, NULL, NULL, NULL }, path[4][64], why[sizeof(dom->why)];
	struct shr_domain_policy pol;
	enum xsd_policy_source src;
	int rc = 0, r, i;

	dom->dirty = false;
	snprintf(path[0], sizeof(path[0]), "/local/domain/%" PRIu32 "/memshare/enabled", dom->domid);
	snprintf(path[1], sizeof(path[1]), "/local/domain/%" PRIu32 "/memshare/group", dom->domid);
	snprintf(path[2], sizeof(path[2]), "/local/domain/%" PRIu32 "/name", dom->domid);
	snprintf(path[3], sizeof(path[3]), "/local/domain/%" PRIu32 "/" XSD_HELD_NODE, dom->domid);
	r = read_node(d->xs, path[0], &enabled, &val[0], &p[0]);
	if (!r)
		r = read_node(d->xs, path[1], &group, &val[1], &p[1]);
	if (!r)
		r = read_node(d->xs, path[2], &name, &val[2], &p[2]);
	if (!r)
		r = read_node(d->xs, path[3], &held, &val[3], &p[3]);
	if (r == -EAGAIN) {
		/* permissions changed mid-read; the change fires the watch again */
		memset(&pol, 0, sizeof(pol));
		pol.mode = SHR_MODE_OFF;
		src = XSD_SRC_REFUSED;
		snprintf(why, sizeof(why), "memshare nodes changed while being read; reading again");
		dom->dirty = true;
	} else if (r) {
		memset(&pol, 0, sizeof(pol));
		pol.mode = SHR_MODE_OFF;
		src = XSD_SRC_REFUSED;
		snprintf(why, sizeof(why), "cannot read its xenstore nodes (%s): domain not shared",
			 strerror(-r));
		rc = r;
	} else {
		if (name.present)
			xsd_printable(dom->name, sizeof(dom->name), name.value, name.len);
		rc = xsd_policy_resolve(d->cfg, &enabled, &group, &name, &pol, &src, why, sizeof(why));
		dom->rec_known = xsd_held_parse(&held, &dom->rec) == 0;
	}
	for (i = 0; i < 4; i++) {
		free(val[i]);
		free(p[i]);
	}
	if (strcmp(why, dom->why)) {
		double now = xsd_now_s();

		if (rc && now - dom->last_warn_s >= WARN_INTERVAL_S) {
			xsd_warn("d%" PRIu32 " (%s): %s", dom->domid, dom->name, why);
			dom->last_warn_s = now;
		} else {
			xsd_log(rc ? 7 : 6, "d%" PRIu32 " (%s): %s", dom->domid, dom->name, why);
		}
		snprintf(dom->why, sizeof(dom->why), "%s", why);
	}
	dom->source = src;
	apply(d, dom, &pol);
}

static void remove_at(struct xsd_domains *d, size_t i, const char *what)
{
	struct xsd_domain *dom = &d->v[i];

	xsd_info("d%" PRIu32 " (%s) %s", dom->domid, dom->name, what);
	if (dom->in_engine)
		shr_engine_remove_domain(d->engine, dom->domid);
	if (dom->watched)
		watch_paths(d, dom, false);
	memmove(&d->v[i], &d->v[i + 1], (d->n - i - 1) * sizeof(d->v[0]));
	d->n--;
}

static int add_at(struct xsd_domains *d, size_t i, const struct xsd_xen_dominfo *info)
{
	struct xsd_domain *dom;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct xsd_domain *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	memmove(&d->v[i + 1], &d->v[i], (d->n - i) * sizeof(d->v[0]));
	d->n++;
	dom = &d->v[i];
	memset(dom, 0, sizeof(*dom));
	dom->domid = info->domid;
	memcpy(dom->handle, info->handle, sizeof(dom->handle));
	dom->policy.mode = SHR_MODE_OFF;
	dom->last_warn_s = -WARN_INTERVAL_S;
	xsd_info("d%" PRIu32 " appeared", dom->domid);
	watch_paths(d, dom, true);
	resolve(d, dom);
	return 0;
}

int xsd_domains_rescan(struct xsd_domains *d)
{
	struct xsd_xen_dominfo *info = NULL;
	size_t n = 0, i, k;
	int rc;

	d->rescan_needed = false;
	rc = xsd_xen_domains(d->xen, &info, &n);
	if (rc) {
		xsd_warn("reading the domain list: %s (not refreshed)", strerror(-rc));
		d->rescan_needed = true;
		goto out;
	}
	/* drop what is gone, dying, or a different domain under a reused domid */
	for (i = 0; i < d->n;) {
		struct xsd_domain *dom = &d->v[i];
		const struct xsd_xen_dominfo *hit = NULL;
		size_t lo = 0, hi = n;

		/* the list is in domid order */
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (info[mid].domid < dom->domid)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n && info[lo].domid == dom->domid)
			hit = &info[lo];
		if (!hit)
			remove_at(d, i, "is gone");
		else if (hit->dying)
			remove_at(d, i, "is dying");
		else if (memcmp(hit->handle, dom->handle, sizeof(dom->handle)))
			remove_at(d, i, "was replaced by a new domain with the same domid");
		else
			i++;
	}
	for (k = 0; k < n; k++) {
		bool found;
		size_t at;

		if (info[k].domid == 0 || info[k].domid >= XSD_DOMID_FIRST_RESERVED || info[k].dying)
			continue;
		at = find_index(d, info[k].domid, &found);
		if (found)
			continue;
		rc = add_at(d, at, &info[k]);
		if (rc) {
			xsd_err("d%" PRIu32 ": out of memory adding it to the domain table", info[k].domid);
			break;
		}
	}
out:
	free(info);
	return rc;
}

int xsd_domains_start(struct xsd_domains *d)
{
	if (!xs_watch(d->xs, "@introduceDomain", TOKEN_INTRO) ||
	    !xs_watch(d->xs, "@releaseDomain", TOKEN_RELEASE)) {
		int rc = -errno;

		xsd_err("xenstore: cannot watch @introduceDomain/@releaseDomain: %s", strerror(errno));
		return rc;
	}
	d->watching_global = true;
	/* A failed first read of the domain list (libxenctrl out of buffers, a
	 * busy hypervisor) is tried again by the periodic rescan: the daemon
	 * starts all the same. */
	if (xsd_domains_rescan(d))
		d->rescan_needed = true;
	return 0;
}

bool xsd_domains_watch_event(struct xsd_domains *d, const char *path, const char *token)
{
	(void)path;
	char *end;
	unsigned long domid;
	bool found;
	size_t i;

	if (!strcmp(token, TOKEN_INTRO) || !strcmp(token, TOKEN_RELEASE)) {
		d->rescan_needed = true;
		return true;
	}
	if (strncmp(token, TOKEN_DOMAIN, strlen(TOKEN_DOMAIN)))
		return false;
	errno = 0;
	domid = strtoul(token + strlen(TOKEN_DOMAIN), &end, 10);
	if (errno || *end || domid > UINT32_MAX)
		return false;
	i = find_index(d, (uint32_t)domid, &found);
	if (found)
		d->v[i].dirty = true;
	return true;
}

void xsd_domains_settle(struct xsd_domains *d)
{
	size_t i;

	if (d->rescan_needed)
		xsd_domains_rescan(d);
	for (i = 0; i < d->n; i++)
		if (d->v[i].dirty)
			resolve(d, &d->v[i]);
}

void xsd_domains_set_config(struct xsd_domains *d, const struct xsd_config *cfg)
{
	size_t i;

	d->cfg = cfg;
	for (i = 0; i < d->n; i++) {
		d->v[i].engine_error = 0;    /* a reload is also the way to retry refusals */
		resolve(d, &d->v[i]);
	}
}

void xsd_domains_free(struct xsd_domains *d)
{
	if (!d)
		return;
	while (d->n)
		remove_at(d, d->n - 1, "released (daemon stopping)");
	if (d->watching_global) {
		xs_unwatch(d->xs, "@introduceDomain", TOKEN_INTRO);
		xs_unwatch(d->xs, "@releaseDomain", TOKEN_RELEASE);
	}
	free(d->v);
	free(d);
}

struct audit_ctx {
	struct xsd_domains *d;
	bool *seen;
	int violations;
};

static int audit_one(const struct shr_domain_stats *s, void *arg)
{
	struct audit_ctx *a = arg;
	bool found;
	size_t i = find_index(a->d, s->domid, &found);
	const struct xsd_domain *dom;

	if (!found) {
		xsd_err("audit: the engine knows d%" PRIu32 ", the domain table does not", s->domid);
		a->violations++;
		return 0;
	}
	dom = &a->d->v[i];
	a->seen[i] = true;
	if (!dom->in_engine) {
		xsd_err("audit: the engine knows d%" PRIu32 ", which the table never added or removed",
			s->domid);
		a->violations++;
	} else if (!policy_equal(&dom->policy, &s->policy)) {
		xsd_err("audit: d%" PRIu32 " policy differs: table %s/%s, engine %s/%s", s->domid,
			xsd_mode_name(dom->policy.mode), dom->policy.group,
			xsd_mode_name(s->policy.mode), s->policy.group);
		a->violations++;
	}
	return 0;
}

int xsd_domains_audit(struct xsd_domains *d)
{
	struct audit_ctx a = { .d = d };
	size_t i;

	a.seen = calloc(d->n ? d->n : 1, sizeof(*a.seen));
	if (!a.seen) {
		xsd_err("audit: out of memory");
		return 1;
	}
	shr_engine_foreach_domain(d->engine, audit_one, &a);
	for (i = 0; i < d->n; i++) {
		if (d->v[i].domid == 0) {
			xsd_err("audit: dom0 is in the domain table");
			a.violations++;
		}
		if (d->v[i].in_engine && !a.seen[i]) {
			xsd_err("audit: d%" PRIu32 " was added to the engine, which does not know it",
				d->v[i].domid);
			a.violations++;
		}
		if (i && d->v[i - 1].domid >= d->v[i].domid) {
			xsd_err("audit: domain table not sorted at d%" PRIu32, d->v[i].domid);
			a.violations++;
		}
	}
	free(a.seen);
	return a.violations;
}
