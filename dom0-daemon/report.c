/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * report.c - the `stats` answer and the xenstore mirror (see report.h).
 *
 * Mechanism: snapshot_take() gathers the engine's global stats, each
 * domain's engine stats (shr_engine_foreach_domain) and the daemon's own
 * values, among them the hypervisor's sharing counters
 * (xc_sharing_freed_pages / xc_sharing_used_frames, read here through
 * xen.h rather than trusted from the engine, so the numbers can be
 * cross-checked; -1 when the hypervisor did not answer).  The JSON and the
 * mirror are both rendered from it, by walking the tables of schema.h:
 * no statistic is named here, only the version and a domain's identity
 * and policy, which are not statistics.
 *
 * The mirror writes a node only when its value changed since the last
 * write (a cache of the last values, one slot per node in table order),
 * every xenstore_stats_interval seconds, never per page: xenstore is a
 * shared, slow service and every write fires the watches of anyone
 * looking.  Nodes of domains that left are removed.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "logsink.h"
#include "schema.h"
#include "xenshare_version.h"

#define MIRROR_VAL 80
/* a value no real one equals, so that even "" is written once */
#define MIRROR_UNSET "\x01"
/* the global nodes: version, then the mirrored lines of both lists */
#define NR_GLOBAL_NODES (1 + XSD_NR_DAEMON_STATS + XSD_NR_ENGINE_STATS)
/* a domain's nodes: name, mode, group, then its mirrored lines */
#define NR_DOM_IDENTITY 3
#define NR_DOM_NODES (NR_DOM_IDENTITY + XSD_NR_DOMAIN_STATS)

struct mirror_dom {
	uint32_t domid;
	char val[NR_DOM_NODES][MIRROR_VAL];
	bool alive;                   /* seen in this round */
};

struct xsd_report {
	struct xs_handle *xs;
	struct xsd_xen *xen;
	struct shr_engine *engine;
	struct xsd_domains *doms;
	double start;                 /* monotonic seconds */
	double cpu_last, wall_last;   /* last tick's sample */
	double cpu_percent;
	/* mirror cache */
	char global_val[NR_GLOBAL_NODES][MIRROR_VAL];
	struct mirror_dom *mdom;
	size_t nr_mdom, cap_mdom;
	bool mirror_failed;           /* warned once */
	const uint64_t *balloon_pages;
	bool mirrored;                /* something was written since the last clear */
};

struct snapshot {
	struct xsd_stats own;         /* the daemon's values */
	struct shr_stats st;          /* the engine's */
	struct shr_domain_stats *dom;
	size_t nr_dom, cap_dom;
};

static void cache_reset(struct xsd_report *r)
{
	for (size_t i = 0; i < NR_GLOBAL_NODES; i++)
		snprintf(r->global_val[i], MIRROR_VAL, MIRROR_UNSET);
	r->nr_mdom = 0;
}

static double cpu_now(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int xsd_report_alloc(struct xs_handle *xs, struct xsd_xen *xen, struct shr_engine *e,
		     struct xsd_domains *doms, struct xsd_report **out)
{
	struct xsd_report *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->xs = xs;
	r->xen = xen;
	r->engine = e;
	r->doms = doms;
	r->start = r->wall_last = xsd_now_s();
	r->cpu_last = cpu_now();
	cache_reset(r);
	/* a previous instance's mirror (kill -9) is stale: start clean */
	if (xs)
		xs_rm(xs, XBT_NULL, XSD_MIRROR_ROOT);
	*out = r;
	return 0;
}

void xsd_report_free(struct xsd_report *r, bool remove_mirror)
{
	if (!r)
		return;
	if (remove_mirror && r->xs)
		xs_rm(r->xs, XBT_NULL, XSD_MIRROR_ROOT);
	free(r->mdom);
	free(r);
}

void xsd_report_set_balloon_counter(struct xsd_report *r, const uint64_t *pages_requested)
{
	r->balloon_pages = pages_requested;
}

void xsd_report_tick(struct xsd_report *r)
{
	double wall = xsd_now_s(), cpu = cpu_now();

	if (wall - r->wall_last > 0.5) {
		r->cpu_percent = 100.0 * (cpu - r->cpu_last) / (wall - r->wall_last);
		r->cpu_last = cpu;
		r->wall_last = wall;
	}
}

static int collect_dom(const struct shr_domain_stats *s, void *arg)
{
	struct snapshot *sn = arg;

	if (sn->nr_dom == sn->cap_dom) {
		size_t cap = sn->cap_dom ? sn->cap_dom * 2 : 16;
		struct shr_domain_stats *v = realloc(sn->dom, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		sn->dom = v;
		sn->cap_dom = cap;
	}
	sn->dom[sn->nr_dom++] = *s;
	return 0;
}

static void snapshot_take(struct xsd_report *r, struct snapshot *sn)
{
	uint64_t freed, used;

	memset(sn, 0, sizeof(*sn));
	shr_engine_get_stats(r->engine, &sn->st);
	shr_engine_foreach_domain(r->engine, collect_dom, sn);
	sn->own.pid = getpid();
	sn->own.uptime_s = xsd_now_s() - r->start;
	sn->own.cpu_percent = r->cpu_percent;
	sn->own.domains_known = xsd_domains_count(r->doms);
	sn->own.domains_sharing = sn->nr_dom;
	if (xsd_xen_sharing_counters(r->xen, &freed, &used)) {
		sn->own.sharing_freed_pages = sn->own.sharing_used_frames = -1;
	} else {
		sn->own.sharing_freed_pages = (int64_t)freed;
		sn->own.sharing_used_frames = (int64_t)used;
	}
	sn->own.dom0_balloon_pages = r->balloon_pages ? *r->balloon_pages : 0;
}

static void snapshot_release(struct snapshot *sn)
{
	free(sn->dom);
}

static const struct shr_domain_stats *snap_dom(const struct snapshot *sn, uint32_t domid)
{
	size_t i;

	for (i = 0; i < sn->nr_dom; i++)
		if (sn->dom[i].domid == domid)
			return &sn->dom[i];
	return NULL;
}

/* What the engine says of a domain, or zeros for one it does not scan. */
static const struct shr_domain_stats *dom_stats(const struct snapshot *sn,
						const struct xsd_domain *dom)
{
	static const struct shr_domain_stats none;
	const struct shr_domain_stats *ds = dom->in_engine ? snap_dom(sn, dom->domid) : NULL;

	return ds ? ds : &none;
}

void xsd_report_stats_json(struct xsd_report *r, struct xsd_json *j)
{
	static const enum shr_stat_section sections[] = {
		SHR_SEC_DAEMON, SHR_SEC_HOST, SHR_SEC_COUNTERS,
	};
	char note[512];
	struct snapshot sn;
	size_t i;

	snapshot_take(r, &sn);
	xsd_json_obj_begin(j, NULL);
	xsd_json_str(j, "version", XENSHARE_VERSION);
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		xsd_json_obj_begin(j, xsd_stat_section_name(sections[i]));
		xsd_stats_json(j, &xsd_stats_daemon, sections[i], &sn.own);
		xsd_stats_json(j, &xsd_stats_engine, sections[i], &sn.st);
		xsd_json_obj_end(j);
	}

	xsd_json_arr_begin(j, xsd_stat_section_name(SHR_SEC_DOMAIN));
	for (i = 0; i < xsd_domains_count(r->doms); i++) {
		const struct xsd_domain *dom = xsd_domains_at(r->doms, i);

		xsd_json_obj_begin(j, NULL);
		xsd_json_u64(j, "domid", dom->domid);
		xsd_json_str(j, "name", dom->name);
		xsd_json_str(j, "group", dom->policy.group);
		xsd_json_str(j, "mode", xsd_mode_name(dom->policy.mode));
		xsd_json_str(j, "policy_source", xsd_policy_source_name(dom->source));
		xsd_json_str(j, "note", xsd_domain_note(dom, note, sizeof(note)));
		xsd_json_bool(j, "in_engine", dom->in_engine);
		xsd_stats_json(j, &xsd_stats_domain, SHR_SEC_DOMAIN, dom_stats(&sn, dom));
		xsd_json_str(j, "held_group", dom->rec_known ? dom->rec.held.group : "");
		if (dom_stats(&sn, dom)->full_why)
			xsd_json_str(j, "full_why", dom_stats(&sn, dom)->full_why);
		xsd_json_obj_end(j);
	}
	xsd_json_arr_end(j);
	xsd_json_obj_end(j);
	snapshot_release(&sn);
}

/* ---- xenstore mirror ---------------------------------------------------- */

static int write_if_changed(struct xsd_report *r, char *cache, const char *path, const char *val)
{
	if (!strcmp(cache, val))
		return 0;
	if (!xs_write(r->xs, XBT_NULL, path, val, (unsigned int)strlen(val))) {
		int rc = -errno;

		if (!r->mirror_failed)
			xsd_warn("xenstore mirror: writing %s: %s (further failures not logged)",
				 path, strerror(errno));
		r->mirror_failed = true;
		return rc;
	}
	snprintf(cache, MIRROR_VAL, "%s", val);
	return 0;
}

static struct mirror_dom *mirror_dom_get(struct xsd_report *r, uint32_t domid)
{
	size_t i;

	for (i = 0; i < r->nr_mdom; i++)
		if (r->mdom[i].domid == domid)
			return &r->mdom[i];
	if (r->nr_mdom == r->cap_mdom) {
		size_t cap = r->cap_mdom ? r->cap_mdom * 2 : 16;
		struct mirror_dom *v = realloc(r->mdom, cap * sizeof(*v));

		if (!v)
			return NULL;
		r->mdom = v;
		r->cap_mdom = cap;
	}
	memset(&r->mdom[r->nr_mdom], 0, sizeof(r->mdom[0]));
	r->mdom[r->nr_mdom].domid = domid;
	for (i = 0; i < NR_DOM_NODES; i++)
		snprintf(r->mdom[r->nr_mdom].val[i], MIRROR_VAL, MIRROR_UNSET);
	return &r->mdom[r->nr_mdom++];
}

void xsd_report_mirror_clear(struct xsd_report *r)
{
	if (!r->mirrored)
		return;
	xs_rm(r->xs, XBT_NULL, XSD_MIRROR_ROOT);
	cache_reset(r);
	r->mirrored = false;
}

/* Writes the mirrored lines of table t (values at base) under dir, from
 * cache slot *slot on. */
static int mirror_table(struct xsd_report *r, const char *dir, const struct xsd_stat_table *t,
			const void *base, char (*cache)[MIRROR_VAL], size_t *slot)
{
	char path[160], val[MIRROR_VAL];
	int rc = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct xsd_stat *s = &t->v[i];

		if (!(s->flags & SHR_MIRROR))
			continue;
		xsd_stat_text(s, base, val, sizeof(val));
		snprintf(path, sizeof(path), "%s/%s", dir, s->key);
		if (write_if_changed(r, cache[(*slot)++], path, val))
			rc = -EIO;
	}
	return rc;
}

int xsd_report_mirror(struct xsd_report *r)
{
	struct snapshot sn;
	char path[128], dir[96];
	size_t i, slot = 0;
	int rc = 0;

	snapshot_take(r, &sn);
	r->mirrored = true;
	if (write_if_changed(r, r->global_val[slot++], XSD_MIRROR_ROOT "/version", XENSHARE_VERSION))
		rc = -EIO;
	if (mirror_table(r, XSD_MIRROR_ROOT, &xsd_stats_daemon, &sn.own, r->global_val, &slot))
		rc = -EIO;
	if (mirror_table(r, XSD_MIRROR_ROOT, &xsd_stats_engine, &sn.st, r->global_val, &slot))
		rc = -EIO;

	for (i = 0; i < r->nr_mdom; i++)
		r->mdom[i].alive = false;
	for (i = 0; i < xsd_domains_count(r->doms); i++) {
		const struct xsd_domain *dom = xsd_domains_at(r->doms, i);
		const char *identity[NR_DOM_IDENTITY][2] = {
			{ "name", dom->name },
			{ "mode", xsd_mode_name(dom->policy.mode) },
			{ "group", dom->policy.group },
		};
		struct mirror_dom *md = mirror_dom_get(r, dom->domid);

		if (!md) {
			rc = -ENOMEM;
			break;
		}
		md->alive = true;
		snprintf(dir, sizeof(dir), XSD_MIRROR_ROOT "/domain/%" PRIu32, dom->domid);
		for (slot = 0; slot < NR_DOM_IDENTITY; slot++) {
			snprintf(path, sizeof(path), "%s/%s", dir, identity[slot][0]);
			if (write_if_changed(r, md->val[slot], path, identity[slot][1]))
				rc = -EIO;
		}
		if (mirror_table(r, dir, &xsd_stats_domain, dom_stats(&sn, dom), md->val, &slot))
			rc = -EIO;
	}
	for (i = 0; i < r->nr_mdom;) {
		if (r->mdom[i].alive) {
			i++;
			continue;
		}
		snprintf(path, sizeof(path), XSD_MIRROR_ROOT "/domain/%" PRIu32, r->mdom[i].domid);
		xs_rm(r->xs, XBT_NULL, path);
		r->mdom[i] = r->mdom[--r->nr_mdom];
	}
	snapshot_release(&sn);
	return rc;
}
