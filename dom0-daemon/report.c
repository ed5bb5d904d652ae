/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * report.c - the `stats` answer and the xenstore mirror (see report.h).
 *
 * Mechanism: snapshot() gathers the engine's global stats, each domain's
 * engine stats (shr_engine_foreach_domain) and the hypervisor's own
 * counters (xc_sharing_freed_pages / xc_sharing_used_frames, read here
 * through xen.h rather than trusted from the engine, so the numbers can be
 * cross-checked).  The JSON and the mirror are both rendered from it.
 *
 * The mirror writes a node only when its value changed since the last
 * write (a cache of the last values), every xenstore_stats_interval
 * seconds, never per page: xenstore is a shared, slow service and every
 * write fires the watches of anyone looking.  Nodes of domains that left
 * are removed.
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

#include "xenshare_version.h"

#include "clock.h"
#include "logsink.h"

#define NR_DOM_KEYS 7

struct mirror_dom {
	uint32_t domid;
	char val[NR_DOM_KEYS][80];
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
	char (*global_val)[80];
	size_t nr_global;
	struct mirror_dom *mdom;
	size_t nr_mdom, cap_mdom;
	bool mirror_failed;           /* warned once */
	const uint64_t *balloon_pages;
	bool mirrored;                /* something was written since the last clear */
};

struct snapshot {
	struct shr_stats st;
	struct shr_domain_stats *dom;
	size_t nr_dom, cap_dom;
	int64_t hv_freed, hv_used;    /* -1: the hypervisor did not answer */
};

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
	free(r->global_val);
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
	if (xsd_xen_sharing_counters(r->xen, &freed, &used)) {
		sn->hv_freed = sn->hv_used = -1;
	} else {
		sn->hv_freed = (int64_t)freed;
		sn->hv_used = (int64_t)used;
	}
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

static void json_hv_counter(struct xsd_json *j, const char *key, int64_t v)
{
	if (v < 0)
		xsd_json_i64(j, key, -1);    /* documented: -1 = the hypervisor did not say */
	else
		xsd_json_i64(j, key, v);
}

void xsd_report_stats_json(struct xsd_report *r, struct xsd_json *j)
{
	char note[512];
	struct snapshot sn;
	size_t i;

	snapshot_take(r, &sn);
	xsd_json_obj_begin(j, NULL);
	xsd_json_str(j, "version", XENSHARE_VERSION);

	xsd_json_obj_begin(j, "daemon");
	xsd_json_i64(j, "pid", getpid());
	xsd_json_double(j, "uptime_s", xsd_now_s() - r->start);
	xsd_json_double(j, "cpu_percent", r->cpu_percent);
	xsd_json_str(j, "protocol", xsd_protocol_name(sn.st.protocol_in_use));
	xsd_json_u64(j, "full_scans", sn.st.full_scans);
	xsd_json_double(j, "pass_time_s", sn.st.pass_time_s);
	xsd_json_double(j, "pass_progress", sn.st.pass_progress);
	xsd_json_bool(j, "settled", sn.st.settled);
	xsd_json_double(j, "engine_cpu_s", sn.st.cpu_s);
	xsd_json_u64(j, "index_bytes", sn.st.index_bytes);
	xsd_json_u64(j, "pages_indexed", sn.st.pages_indexed);
	xsd_json_u64(j, "domains_known", xsd_domains_count(r->doms));
	xsd_json_u64(j, "domains_sharing", sn.nr_dom);
	xsd_json_obj_end(j);

	xsd_json_obj_begin(j, "host");
	xsd_json_u64(j, "total_pages", sn.st.host_total_pages);
	xsd_json_u64(j, "free_pages", sn.st.host_free_pages);
	xsd_json_u64(j, "reserve_pages", sn.st.reserve_pages);
	xsd_json_u64(j, "pages_at_risk", sn.st.pages_at_risk);
	xsd_json_bool(j, "sharing_paused", sn.st.sharing_paused);
	json_hv_counter(j, "sharing_freed_pages", sn.hv_freed);
	json_hv_counter(j, "sharing_used_frames", sn.hv_used);
	xsd_json_u64(j, "pages_needed", sn.st.pages_needed);
	xsd_json_u64(j, "memory_requests", sn.st.memory_requests);
	xsd_json_u64(j, "dom0_balloon_pages", r->balloon_pages ? *r->balloon_pages : 0);
	xsd_json_obj_end(j);

	xsd_json_obj_begin(j, "counters");
	xsd_json_u64(j, "pages_shared", sn.st.pages_shared);
	xsd_json_u64(j, "pages_sharing", sn.st.pages_sharing);
	xsd_json_u64(j, "pages_unshared", sn.st.pages_unshared);
	xsd_json_u64(j, "pages_volatile", sn.st.pages_volatile);
	xsd_json_u64(j, "pages_scanned", sn.st.pages_scanned);
	xsd_json_u64(j, "zero_pages_sharing", sn.st.zero_pages_sharing);
	xsd_json_u64(j, "share_attempts", sn.st.share_attempts);
	xsd_json_u64(j, "share_raced", sn.st.share_raced);
	xsd_json_u64(j, "share_failed", sn.st.share_failed);
	xsd_json_u64(j, "compare_mismatch", sn.st.compare_mismatch);
	xsd_json_u64(j, "unshares", sn.st.unshares);
	xsd_json_u64(j, "unshares_rewritten", sn.st.unshares_rewritten);
	xsd_json_u64(j, "nominations_released", sn.st.nominations_released);
	xsd_json_u64(j, "hypercalls", sn.st.hypercalls);
	xsd_json_u64(j, "mappings", sn.st.mappings);
	xsd_json_obj_end(j);

	xsd_json_arr_begin(j, "domains");
	for (i = 0; i < xsd_domains_count(r->doms); i++) {
		const struct xsd_domain *dom = xsd_domains_at(r->doms, i);
		const struct shr_domain_stats *ds = dom->in_engine ? snap_dom(&sn, dom->domid) : NULL;

		xsd_json_obj_begin(j, NULL);
		xsd_json_u64(j, "domid", dom->domid);
		xsd_json_str(j, "name", dom->name);
		xsd_json_str(j, "group", dom->policy.group);
		xsd_json_str(j, "mode", xsd_mode_name(dom->policy.mode));
		xsd_json_str(j, "policy_source", xsd_policy_source_name(dom->source));
		xsd_json_str(j, "note", xsd_domain_note(dom, note, sizeof(note)));
		xsd_json_bool(j, "in_engine", dom->in_engine);
		xsd_json_u64(j, "tot_pages", ds ? ds->tot_pages : 0);
		xsd_json_u64(j, "shr_pages", ds ? ds->shr_pages : 0);
		xsd_json_u64(j, "pages_sharing", ds ? ds->engine_pages_sharing : 0);
		xsd_json_u64(j, "pages_volatile", ds ? ds->pages_volatile : 0);
		xsd_json_u64(j, "unshares", ds ? ds->unshares : 0);
		xsd_json_double(j, "unshares_per_s", ds ? ds->unshares_per_s : 0);
		xsd_json_double(j, "scan_progress", ds ? ds->scan_progress : 0);
		xsd_json_bool(j, "evicting", ds ? ds->evicting : false);
		xsd_json_str(j, "held_group", dom->held_known ? dom->held.group : "");
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
	snprintf(cache, 80, "%s", val);
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
	/* a value no real one equals, so that even "" is written once */
	for (i = 0; i < NR_DOM_KEYS; i++)
		r->mdom[r->nr_mdom].val[i][0] = '\x01';
	return &r->mdom[r->nr_mdom++];
}

void xsd_report_mirror_clear(struct xsd_report *r)
{
	if (!r->mirrored)
		return;
	xs_rm(r->xs, XBT_NULL, XSD_MIRROR_ROOT);
	free(r->global_val);
	r->global_val = NULL;
	r->nr_global = 0;
	r->nr_mdom = 0;
	r->mirrored = false;
}

int xsd_report_mirror(struct xsd_report *r)
{
	struct snapshot sn;
	char path[128], val[80];
	size_t i, k, g = 0;
	int rc = 0;
	struct { const char *key; char val[80]; } glob[24];

	snapshot_take(r, &sn);
	r->mirrored = true;
#define G(k, fmt, ...) do { glob[g].key = (k); snprintf(glob[g].val, sizeof(glob[g].val), fmt, __VA_ARGS__); g++; } while (0)
	G("version", "%s", XENSHARE_VERSION);
	G("pid", "%d", (int)getpid());
	G("protocol", "%s", xsd_protocol_name(sn.st.protocol_in_use));
	G("pages_shared", "%" PRIu64, sn.st.pages_shared);
	G("pages_sharing", "%" PRIu64, sn.st.pages_sharing);
	G("pages_unshared", "%" PRIu64, sn.st.pages_unshared);
	G("pages_volatile", "%" PRIu64, sn.st.pages_volatile);
	G("pages_scanned", "%" PRIu64, sn.st.pages_scanned);
	G("zero_pages_sharing", "%" PRIu64, sn.st.zero_pages_sharing);
	G("unshares", "%" PRIu64, sn.st.unshares);
	G("unshares_rewritten", "%" PRIu64, sn.st.unshares_rewritten);
	G("full_scans", "%" PRIu64, sn.st.full_scans);
	G("pass_time_s", "%.1f", sn.st.pass_time_s);
	G("settled", "%d", sn.st.settled ? 1 : 0);
	G("sharing_paused", "%d", sn.st.sharing_paused ? 1 : 0);
	G("free_pages", "%" PRIu64, sn.st.host_free_pages);
	G("reserve_pages", "%" PRIu64, sn.st.reserve_pages);
	G("sharing_freed_pages", "%" PRId64, sn.hv_freed);
	G("sharing_used_frames", "%" PRId64, sn.hv_used);
	G("cpu_percent", "%.1f", r->cpu_percent);
#undef G
	if (!r->global_val) {
		r->global_val = calloc(g, sizeof(*r->global_val));
		if (!r->global_val) {
			rc = -ENOMEM;
			goto out;
		}
		r->nr_global = g;
	}
	for (i = 0; i < g && i < r->nr_global; i++) {
		snprintf(path, sizeof(path), XSD_MIRROR_ROOT "/%s", glob[i].key);
		if (write_if_changed(r, r->global_val[i], path, glob[i].val))
			rc = -EIO;
	}

	for (i = 0; i < r->nr_mdom; i++)
		r->mdom[i].alive = false;
	for (i = 0; i < xsd_domains_count(r->doms); i++) {
		const struct xsd_domain *dom = xsd_domains_at(r->doms, i);
		const struct shr_domain_stats *ds = dom->in_engine ? snap_dom(&sn, dom->domid) : NULL;
		static const char *const keys[NR_DOM_KEYS] = {
			"name", "mode", "group", "pages_sharing", "pages_volatile", "unshares", "scan_progress",
		};
		struct mirror_dom *md = mirror_dom_get(r, dom->domid);

		if (!md) {
			rc = -ENOMEM;
			break;
		}
		md->alive = true;
		for (k = 0; k < NR_DOM_KEYS; k++) {
			switch (k) {
			case 0: snprintf(val, sizeof(val), "%s", dom->name); break;
			case 1: snprintf(val, sizeof(val), "%s", xsd_mode_name(dom->policy.mode)); break;
			case 2: snprintf(val, sizeof(val), "%s", dom->policy.group); break;
			case 3: snprintf(val, sizeof(val), "%" PRIu64, ds ? ds->engine_pages_sharing : 0); break;
			case 4: snprintf(val, sizeof(val), "%" PRIu64, ds ? ds->pages_volatile : 0); break;
			case 5: snprintf(val, sizeof(val), "%" PRIu64, ds ? ds->unshares : 0); break;
			default: snprintf(val, sizeof(val), "%.3f", ds ? ds->scan_progress : 0); break;
			}
			snprintf(path, sizeof(path), XSD_MIRROR_ROOT "/domain/%" PRIu32 "/%s",
				 dom->domid, keys[k]);
			if (write_if_changed(r, md->val[k], path, val))
				rc = -EIO;
		}
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
out:
	snapshot_release(&sn);
	return rc;
}
