/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * statfmt.c - derived totals, notes and the three output formats of
 * xenshare-stat.  Pure: see statfmt.h for the contract.
 *
 * JSON is built with json-c (the same library that parses the daemon's
 * reply), so names with quotes or control characters are escaped correctly
 * and key order is stable (json-c keeps insertion order).  Floating-point
 * values are given to json-c pre-formatted (json_object_new_double_s) so
 * the output has a fixed number of decimals instead of %.17g noise, which
 * keeps the golden files readable and stable across libc versions.
 *
 * Prometheus output follows the text exposition format 0.0.4: one "# HELP"
 * and one "# TYPE" line per metric family, all samples of a family
 * together, label values escaped (\\, \", \n).  Base units (bytes,
 * seconds, ratios 0..1) as the Prometheus naming guide asks; page counts are
 * exported as well because they are what the hypervisor and the man page
 * talk about.
 *
 * The JSON "daemon" object (the reply's daemon and host sections side by
 * side, and "counters"), each domain's daemon numbers and the daemon's
 * Prometheus families come from walking the tables of dom0-daemon/schema.h:
 * a line added there is shown here.  Only the table's summary lines, the
 * totals and the notes name the values their formulas use, all of them
 * lines every reply carries (SHR_REQUIRED).  Lines marked SHR_HV are left
 * to the hypervisor's own reading, which this file shows by name.
 */
#include "statfmt.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dom0-daemon/settings.h"   /* xsd_protocol_name() */
#include "headroom.h"
#include "xenshare_version.h"

#define PAGES_PER_MIB (1048576u / XST_PAGE_SIZE)

static double pages_mib(uint64_t pages)
{
	return (double)pages / PAGES_PER_MIB;
}

const char *xst_daemon_state_name(enum xst_daemon_state st)
{
	switch (st) {
	case XST_DAEMON_UP: return "up";
	case XST_DAEMON_ABSENT: return "absent";
	case XST_DAEMON_REFUSED: return "refused";
	case XST_DAEMON_TIMEOUT: return "timeout";
	case XST_DAEMON_BAD_REPLY: return "bad-reply";
	case XST_DAEMON_ERROR: return "error";
	}
	return "unknown";
}

static bool daemon_up(const struct xst_snapshot *s)
{
	return s->daemon.state == XST_DAEMON_UP;
}

/* shr_pages: the hypervisor's, or the daemon's copy for a domain only it lists */
static uint64_t domain_shr(const struct xst_domain *d)
{
	return d->in_hv ? d->shr_pages : d->dm.shr_pages;
}

/*
 * The host as headroom.h sees it.  The pages on shared frames are
 * saved + frames in use (the hypervisor's invariant), or the sum of
 * shr_pages if a domain raced the reads and it came out larger: a larger
 * count only asks for a larger burst.  Without the daemon nobody keeps a
 * reserve: it counts as 0 (the output says it is unknown).
 */
static void room_of(const struct xst_snapshot *s, const struct xst_totals *t, struct xst_room *r)
{
	uint64_t shared = t->saved_pages + t->used_frames;

	r->free_pages = t->free_pages;
	r->reserve_pages = t->reserve_pages;
	r->shared_pages = t->sum_shr_pages > shared ? t->sum_shr_pages : shared;
	r->freed_pages = t->saved_pages;
	r->burst_percent = s->burst_percent;
}

void xst_totals_compute(const struct xst_snapshot *s, struct xst_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < s->nr_domains; i++) {
		const struct xst_domain *d = &s->domains[i];

		if (!d->in_hv)
			continue;
		t->sum_shr_pages += d->shr_pages;
		if (d->domid != 0)
			t->guest_pages += d->tot_pages + d->shr_pages;
	}
	if (s->hv.ok) {
		t->have_saved = true;
		t->saved_from_hv = true;
		t->saved_pages = s->hv.freed_pages;
		t->used_frames = s->hv.used_frames;
		t->have_free = true;
		t->free_pages = s->hv.free_pages;
	} else if (daemon_up(s)) {
		/* the daemon's copy; -1 where the hypervisor did not answer it either */
		t->have_saved = s->daemon.own.sharing_freed_pages >= 0 &&
				s->daemon.own.sharing_used_frames >= 0;
		if (t->have_saved) {
			t->saved_pages = (uint64_t)s->daemon.own.sharing_freed_pages;
			t->used_frames = (uint64_t)s->daemon.own.sharing_used_frames;
		}
		t->have_free = true;
		t->free_pages = s->daemon.engine.host_free_pages;
		/* without the hypervisor, guest memory comes from the daemon's copy */
		t->guest_pages = 0;
		for (size_t i = 0; i < s->nr_domains; i++)
			if (s->domains[i].in_daemon && s->domains[i].domid != 0)
				t->guest_pages += s->domains[i].tot_pages +
						  s->domains[i].dm.shr_pages;
	}
	if (daemon_up(s))
		t->reserve_pages = s->daemon.engine.reserve_pages;
	if (t->guest_pages)
		t->saved_percent = 100.0 * (double)t->saved_pages / (double)t->guest_pages;
	if (t->used_frames)
		t->sharing_ratio = (double)(t->saved_pages + t->used_frames) /
				   (double)t->used_frames;
	if (t->have_saved && t->have_free) {
		struct xst_room r;

		room_of(s, t, &r);
		t->have_room = true;
		t->at_risk_pages = t->saved_pages;
		t->burst_pages = xst_burst_pages(r.shared_pages, r.freed_pages, r.burst_percent);
		t->room_pages = xst_room_pages(&r);
	}
}

bool xst_admission(const struct xst_snapshot *s, const struct xst_domain *d,
		   uint64_t *with, uint64_t *without)
{
	struct xst_totals t;
	struct xst_profile p, none;
	struct xst_room r;
	bool shares = daemon_up(s) && d->in_daemon && strcmp(d->mode, "off") != 0;

	if (d->domid == 0)
		return false;
	xst_totals_compute(s, &t);
	if (!t.have_room)
		return false;
	room_of(s, &t, &r);
	xst_profile_of(&r, d->tot_pages, domain_shr(d), shares, &p);
	xst_profile_of(&r, d->tot_pages, domain_shr(d), false, &none);
	if (!p.mem_pages)
		return false;
	*with = xst_admit(&r, &p, 1, XST_MAX_DOMAINS - s->nr_domains);
	*without = xst_admit(&r, &none, 1, XST_MAX_DOMAINS - s->nr_domains);
	return true;
}

const struct xst_domain *xst_find_domain(const struct xst_snapshot *s, const char *spec)
{
	char *end;
	unsigned long id = strtoul(spec, &end, 10);
	bool numeric = *spec >= '0' && *spec <= '9' && !*end;

	for (size_t i = 0; i < s->nr_domains; i++)
		if (!strcmp(s->domains[i].name, spec))
			return &s->domains[i];
	for (size_t i = 0; numeric && i < s->nr_domains; i++)
		if (s->domains[i].domid == id)
			return &s->domains[i];
	return NULL;
}

/* ---- notes -------------------------------------------------------------- */

static void note(void (*fn)(const char *, void *), void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(void (*fn)(const char *, void *), void *arg, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fn(buf, arg);
}

/* Beyond the threshold of struct xst_recon: more than 1 MiB and 1%. */
static bool recon_differ(uint64_t a, uint64_t b)
{
	uint64_t diff = a > b ? a - b : b - a, big = a > b ? a : b;

	return diff > XST_RECON_MIN_PAGES && diff > big / 100;
}

static void recon_differences(const struct xst_snapshot *s, bool differ[XST_RECON_NR])
{
	const struct shr_stats *st = &s->daemon.engine;
	uint64_t sum_shr = 0;
	bool both = s->hv.ok && daemon_up(s);

	for (size_t i = 0; i < s->nr_domains; i++)
		if (s->domains[i].in_hv)
			sum_shr += s->domains[i].shr_pages;
	differ[XST_RECON_SAVED] = both && recon_differ(st->pages_sharing, s->hv.freed_pages);
	differ[XST_RECON_FRAMES] = both && recon_differ(st->pages_shared, s->hv.used_frames);
	differ[XST_RECON_SUM] = s->hv.ok &&
				recon_differ(sum_shr, s->hv.freed_pages + s->hv.used_frames);
}

void xst_recon_update(const struct xst_snapshot *s, struct xst_recon *r)
{
	bool differ[XST_RECON_NR];

	recon_differences(s, differ);
	for (int k = 0; k < XST_RECON_NR; k++)
		r->streak[k] = differ[k] ? r->streak[k] + (r->streak[k] < XST_RECON_READS) : 0;
}

bool xst_recon_pending(const struct xst_recon *r)
{
	for (int k = 0; k < XST_RECON_NR; k++)
		if (r->streak[k] && r->streak[k] < XST_RECON_READS)
			return true;
	return false;
}


void xst_note_foreach(const struct xst_snapshot *s,
		      void (*fn)(const char *note, void *arg), void *arg)
{
	const struct xst_daemon *dm = &s->daemon;
	const struct shr_stats *st = &dm->engine;
	uint64_t sum_shr = 0;
	bool lasted[XST_RECON_NR];

	/* the differences of struct xst_recon, noted only once they lasted */
	recon_differences(s, lasted);
	for (int k = 0; k < XST_RECON_NR; k++)
		lasted[k] = lasted[k] && s->recon.streak[k] >= XST_RECON_READS;

	if (!daemon_up(s))
		note(fn, arg, "xenshared is not answering (%s): %s", dm->error,
		     s->hv.ok ? "showing the hypervisor's numbers only"
			      : "no numbers from the daemon either");
	if (!s->hv.ok)
		note(fn, arg, "hypervisor counters unreadable (%s)%s", s->hv.error,
		     daemon_up(s) ? ": showing the daemon's copy of them" : "");
	if (lasted[XST_RECON_SAVED]) {
		if (st->pages_sharing < s->hv.freed_pages)
			note(fn, arg,
			     "the hypervisor counts %" PRIu64 " pages saved, the daemon %" PRIu64
			     ": the difference was shared by another tool (e.g. xen-memshare, "
			     "a range_share clone) or by the daemon after it counted",
			     s->hv.freed_pages, st->pages_sharing);
		else if (st->pages_sharing > s->hv.freed_pages)
			note(fn, arg,
			     "the hypervisor counts %" PRIu64 " pages saved, the daemon %" PRIu64
			     ": guests wrote to (unshared) pages since the daemon counted, "
			     "or shared pages went with a destroyed domain",
			     s->hv.freed_pages, st->pages_sharing);
	}
	if (lasted[XST_RECON_FRAMES])
		note(fn, arg,
		     "the hypervisor counts %" PRIu64 " shared frames in use, the daemon %" PRIu64,
		     s->hv.used_frames, st->pages_shared);
	for (size_t i = 0; i < s->nr_domains; i++) {
		const struct xst_domain *d = &s->domains[i];

		if (!d->in_hv)
			continue;
		sum_shr += d->shr_pages;
		if (d->shr_pages && daemon_up(s) && !d->in_daemon)
			note(fn, arg,
			     "domain %" PRIu32 " (%s) has %" PRIu64
			     " shared pages that xenshared does not manage",
			     d->domid, d->name[0] ? d->name : "?", d->shr_pages);
	}
	if (daemon_up(s)) {
		for (size_t i = 0; i < s->nr_domains; i++) {
			const struct xst_domain *d = &s->domains[i];

			if (d->in_daemon && !d->in_hv && s->hv.ok)
				note(fn, arg,
				     "domain %" PRIu32 " (%s) is known to the daemon but no longer "
				     "to the hypervisor (destroyed)",
				     d->domid, d->name[0] ? d->name : "?");
		}
	}
	if (lasted[XST_RECON_SUM])
		note(fn, arg,
		     "sum of shr_pages (%" PRIu64 ") != freed + used (%" PRIu64
		     ") over %d reads: domains changed between the hypervisor reads",
		     sum_shr, s->hv.freed_pages + s->hv.used_frames, XST_RECON_READS);
}

/* ---- table -------------------------------------------------------------- */

static void note_counter(const char *n, void *arg)
{
	(void)n;
	++*(size_t *)arg;
}

static void note_to_file(const char *n, void *arg)
{
	fprintf((FILE *)arg, "  * %s\n", n);
}

static const char *or_dash(const char *s)
{
	return s && s[0] ? s : "-";
}

/* Whether the table shows the admission line of d (--like, or every guest). */
static bool table_asks(const struct xst_snapshot *s, const struct xst_domain *d)
{
	if (!s->nr_like)
		return true;
	for (size_t i = 0; i < s->nr_like; i++)
		if (xst_find_domain(s, s->like[i]) == d)
			return true;
	return false;
}

static void table_admission(FILE *out, const struct xst_snapshot *s)
{
	bool head = false;

	for (size_t i = 0; i < s->nr_domains; i++) {
		const struct xst_domain *d = &s->domains[i];
		uint64_t with, without;

		if (!table_asks(s, d) || !xst_admission(s, d, &with, &without))
			continue;
		if (!head)
			fprintf(out, "\nFit now, one after another, keeping the reserve against a burst "
				"of %g%%\nof the shared pages:\n", s->burst_percent);
		head = true;
		fprintf(out, "  %" PRIu64 " more like %s (%" PRIu64 " without sharing)\n", with,
			d->name[0] ? d->name : "?", without);
	}
}

int xst_format_table(FILE *out, const struct xst_snapshot *s)
{
	const struct xst_daemon *dm = &s->daemon;
	const struct shr_stats *st = &dm->engine;
	struct xst_totals t;
	int name_w = 4, group_w = 5;
	size_t nr_notes = 0;

	xst_totals_compute(s, &t);

	fprintf(out, "xenshare-stat %s   daemon: ", XENSHARE_VERSION);
	if (daemon_up(s))
		fprintf(out, "up (pid %" PRId64 ", %s, up %.0f s)", dm->own.pid,
			xsd_protocol_name(st->protocol_in_use), dm->own.uptime_s);
	else
		fprintf(out, "DOWN (%s)", xst_daemon_state_name(dm->state));
	fprintf(out, "   hypervisor: %s\n", s->hv.ok ? "ok" : "UNREADABLE");

	if (t.have_saved) {
		fprintf(out, "Saved:   %.1f MiB = %.1f%% of %.1f MiB guest memory (%" PRIu64
			" pages, from the %s)\n",
			pages_mib(t.saved_pages), t.saved_percent, pages_mib(t.guest_pages),
			t.saved_pages, t.saved_from_hv ? "hypervisor" : "daemon");
		fprintf(out, "Frames:  %" PRIu64 " shared frames in use (%.1f MiB), ratio %.2f "
			"guest pages per frame\n",
			t.used_frames, pages_mib(t.used_frames), t.sharing_ratio);
	} else {
		fprintf(out, "Saved:   - (neither the hypervisor nor the daemon could be read)\n");
	}
	if (daemon_up(s) && !st->full_scans)
		/* no pass has ended: there is no pass time to show yet */
		fprintf(out, "Daemon:  CPU %.1f%%   first pass %.0f%%   settled: %s\n",
			dm->own.cpu_percent, 100.0 * st->pass_progress, st->settled ? "yes" : "no");
	else if (daemon_up(s))
		fprintf(out, "Daemon:  CPU %.1f%%   pass time %.1f s   %" PRIu64
			" full passes   pass progress %.0f%%   settled: %s\n",
			dm->own.cpu_percent, st->pass_time_s, st->full_scans,
			100.0 * st->pass_progress, st->settled ? "yes" : "no");
	else
		fprintf(out, "Daemon:  -\n");
	if (t.have_free) {
		fprintf(out, "Host:    free %.1f MiB", pages_mib(t.free_pages));
		if (daemon_up(s))
			fprintf(out, "   reserve %.1f MiB   sharing %s\n",
				pages_mib(t.reserve_pages),
				st->sharing_paused ? "PAUSED (no free memory)" : "active");
		else
			fprintf(out, "   reserve -\n");
	} else {
		fprintf(out, "Host:    -\n");
	}
	if (t.have_room)
		fprintf(out, "Risk:    at risk %.1f MiB   burst %g%% %.1f MiB   room %.1f MiB%s\n",
			pages_mib(t.at_risk_pages), s->burst_percent, pages_mib(t.burst_pages),
			(double)t.room_pages / PAGES_PER_MIB, daemon_up(s) ? "" : " (no reserve)");
	else
		fprintf(out, "Risk:    -\n");

	for (size_t i = 0; i < s->nr_domains; i++) {
		int nl = (int)strlen(s->domains[i].name), gl = (int)strlen(s->domains[i].group);

		if (nl > name_w)
			name_w = nl;
		if (gl > group_w)
			group_w = gl;
	}
	if (name_w > 32)
		name_w = 32;
	if (group_w > 16)
		group_w = 16;

	fprintf(out, "\n%-*s %5s %-*s %-4s %9s %10s %10s %8s %7s %5s\n",
		name_w, "NAME", "DOMID", group_w, "GROUP", "MODE", "MEM(MiB)",
		"SHARED(pg)", "SAVED(MiB)", "VOLATILE", "UNSH/s", "SCAN%");
	for (size_t i = 0; i < s->nr_domains; i++) {
		const struct xst_domain *d = &s->domains[i];
		uint64_t shr = domain_shr(d);
		char shr_s[24], saved[24], vol[24], uns[24], scan[24];

		snprintf(shr_s, sizeof(shr_s), "%" PRIu64, shr);
		if (d->in_daemon) {
			snprintf(saved, sizeof(saved), "%.1f", pages_mib(d->dm.engine_pages_sharing));
			snprintf(vol, sizeof(vol), "%" PRIu64, d->dm.pages_volatile);
			snprintf(uns, sizeof(uns), "%.1f", d->dm.unshares_per_s);
			snprintf(scan, sizeof(scan), "%.0f", 100.0 * d->dm.scan_progress);
		} else {
			strcpy(saved, "-");
			strcpy(vol, "-");
			strcpy(uns, "-");
			strcpy(scan, "-");
		}
		fprintf(out, "%-*.*s %5" PRIu32 " %-*.*s %-4s %9.1f %10s %10s %8s %7s %5s\n",
			name_w, name_w, or_dash(d->name), d->domid, group_w, group_w,
			or_dash(d->group), or_dash(d->mode),
			pages_mib(d->tot_pages + shr), shr_s, saved, vol, uns, scan);
	}

	table_admission(out, s);
	xst_note_foreach(s, note_counter, &nr_notes);
	if (nr_notes) {
		fprintf(out, "\nNotes:\n");
		xst_note_foreach(s, note_to_file, out);
	}
	return ferror(out) ? -1 : 0;
}

/* ---- JSON --------------------------------------------------------------- */

static struct json_object *jdouble(double v, int decimals)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *jstr_or_null(const char *s)
{
	return s && s[0] ? json_object_new_string(s) : NULL;
}

static void jadd(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static void note_to_json(const char *n, void *arg)
{
	json_object_array_add((struct json_object *)arg, json_object_new_string(n));
}

static struct json_object *json_hv(const struct xst_snapshot *s)
{
	struct json_object *o = json_object_new_object();

	jadd(o, "ok", json_object_new_boolean(s->hv.ok));
	if (!s->hv.ok) {
		jadd(o, "error", json_object_new_string(s->hv.error));
		return o;
	}
	jadd(o, "sharing_freed_pages", json_object_new_uint64(s->hv.freed_pages));
	jadd(o, "sharing_used_frames", json_object_new_uint64(s->hv.used_frames));
	jadd(o, "total_pages", json_object_new_uint64(s->hv.total_pages));
	jadd(o, "free_pages", json_object_new_uint64(s->hv.free_pages));
	return o;
}

/* Decimals of a number in the JSON output, by its unit. */
static int json_decimals(enum shr_stat_unit unit)
{
	switch (unit) {
	case SHR_UNIT_RATIO: return 3;
	case SHR_UNIT_SECONDS:
	case SHR_UNIT_PER_S: return 2;
	default: return 1;
	}
}

/* A line's value as JSON, or null when the reply did not carry it. */
static struct json_object *json_stat(const struct xsd_stat *st, const void *base, bool has)
{
	union xsd_stat_value v;

	if (!has)
		return NULL;
	v = xsd_stat_get(st, base);
	switch (st->type) {
	case SHR_STAT_U64: return json_object_new_uint64(v.u64);
	case SHR_STAT_I64: return json_object_new_int64(v.i64);
	case SHR_STAT_BOOL: return json_object_new_boolean(v.b);
	case SHR_STAT_DBL: return jdouble(v.d, json_decimals(st->unit));
	case SHR_STAT_PROTO: return json_object_new_string(xsd_protocol_name(v.proto));
	}
	return NULL;
}

/* Adds to o every line of t in section sec but those the hypervisor's own
 * reading stands for. */
static void json_stats(struct json_object *o, const struct xsd_stat_table *t,
		       enum shr_stat_section sec, const void *base, const bool *has)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].section == sec && !(t->v[i].flags & SHR_HV))
			jadd(o, t->v[i].key, json_stat(&t->v[i], base, has[i]));
}

/* The daemon's reply: its daemon and host sections flat, its counters in
 * "counters". */
static struct json_object *json_daemon(const struct xst_snapshot *s)
{
	const struct xst_daemon *dm = &s->daemon;
	struct json_object *o = json_object_new_object(), *c;

	jadd(o, "state", json_object_new_string(xst_daemon_state_name(dm->state)));
	if (!daemon_up(s)) {
		jadd(o, "error", json_object_new_string(dm->error));
		return o;
	}
	jadd(o, "version", json_object_new_string(dm->version));
	for (enum shr_stat_section sec = SHR_SEC_DAEMON; sec <= SHR_SEC_HOST; sec++) {
		json_stats(o, &xsd_stats_daemon, sec, &dm->own, dm->own_has);
		json_stats(o, &xsd_stats_engine, sec, &dm->engine, dm->engine_has);
	}
	c = json_object_new_object();
	json_stats(c, &xsd_stats_daemon, SHR_SEC_COUNTERS, &dm->own, dm->own_has);
	json_stats(c, &xsd_stats_engine, SHR_SEC_COUNTERS, &dm->engine, dm->engine_has);
	jadd(o, "counters", c);
	return o;
}

static struct json_object *json_totals(const struct xst_snapshot *s)
{
	struct xst_totals t;
	struct json_object *o = json_object_new_object();

	xst_totals_compute(s, &t);
	if (!t.have_saved) {
		jadd(o, "saved_pages", NULL);
		return o;
	}
	jadd(o, "saved_pages", json_object_new_uint64(t.saved_pages));
	jadd(o, "saved_mib", jdouble(pages_mib(t.saved_pages), 1));
	jadd(o, "saved_source", json_object_new_string(t.saved_from_hv ? "hypervisor" : "daemon"));
	jadd(o, "guest_pages", json_object_new_uint64(t.guest_pages));
	jadd(o, "saved_percent", jdouble(t.saved_percent, 2));
	jadd(o, "used_frames", json_object_new_uint64(t.used_frames));
	jadd(o, "sum_shr_pages", json_object_new_uint64(t.sum_shr_pages));
	jadd(o, "sharing_ratio", jdouble(t.sharing_ratio, 3));
	jadd(o, "free_pages", json_object_new_uint64(t.free_pages));
	jadd(o, "reserve_pages", daemon_up(s) ? json_object_new_uint64(t.reserve_pages) : NULL);
	return o;
}

static struct json_object *json_headroom(const struct xst_snapshot *s)
{
	struct xst_totals t;
	struct json_object *o = json_object_new_object();

	xst_totals_compute(s, &t);
	if (!t.have_room) {
		jadd(o, "at_risk_pages", NULL);
		return o;
	}
	jadd(o, "freed_pages", json_object_new_uint64(t.saved_pages));
	jadd(o, "at_risk_pages", json_object_new_uint64(t.at_risk_pages));
	jadd(o, "free_pages", json_object_new_uint64(t.free_pages));
	jadd(o, "reserve_pages", daemon_up(s) ? json_object_new_uint64(t.reserve_pages) : NULL);
	jadd(o, "burst_percent", jdouble(s->burst_percent, 1));
	jadd(o, "burst_pages", json_object_new_uint64(t.burst_pages));
	jadd(o, "room_pages", json_object_new_int64(t.room_pages));
	return o;
}

static struct json_object *json_admit(const struct xst_snapshot *s, const struct xst_domain *d)
{
	struct json_object *o;
	uint64_t with, without;

	if (!xst_admission(s, d, &with, &without))
		return NULL;
	o = json_object_new_object();
	jadd(o, "guests", json_object_new_uint64(with));
	jadd(o, "without_sharing", json_object_new_uint64(without));
	return o;
}

static struct json_object *json_domain(const struct xst_snapshot *s, const struct xst_domain *d)
{
	static const bool none[XSD_NR_DOMAIN_STATS];
	struct json_object *o = json_object_new_object();
	uint64_t shr = domain_shr(d);

	jadd(o, "domid", json_object_new_int64(d->domid));
	jadd(o, "name", jstr_or_null(d->name));
	jadd(o, "group", jstr_or_null(d->group));
	jadd(o, "mode", jstr_or_null(d->mode));
	jadd(o, "in_hypervisor", json_object_new_boolean(d->in_hv));
	jadd(o, "in_daemon", json_object_new_boolean(d->in_daemon));
	jadd(o, "tot_pages", json_object_new_uint64(d->tot_pages));
	jadd(o, "shr_pages", json_object_new_uint64(shr));
	jadd(o, "memory_mib", jdouble(pages_mib(d->tot_pages + shr), 1));
	json_stats(o, &xsd_stats_domain, SHR_SEC_DOMAIN, &d->dm, d->in_daemon ? d->dm_has : none);
	/* engine_pages_sharing is in every reply (SHR_REQUIRED) */
	jadd(o, "saved_mib", d->in_daemon ? jdouble(pages_mib(d->dm.engine_pages_sharing), 1) : NULL);
	jadd(o, "admit", json_admit(s, d));
	return o;
}

int xst_format_json(FILE *out, const struct xst_snapshot *s)
{
	struct json_object *root = json_object_new_object(), *doms, *notes;
	int rc;

	if (!root)
		return -1;
	jadd(root, "version", json_object_new_string(XENSHARE_VERSION));
	jadd(root, "hypervisor", json_hv(s));
	jadd(root, "daemon", json_daemon(s));
	jadd(root, "totals", json_totals(s));
	jadd(root, "headroom", json_headroom(s));
	doms = json_object_new_array();
	for (size_t i = 0; i < s->nr_domains; i++)
		json_object_array_add(doms, json_domain(s, &s->domains[i]));
	jadd(root, "domains", doms);
	notes = json_object_new_array();
	xst_note_foreach(s, note_to_json, notes);
	jadd(root, "notes", notes);
	rc = fprintf(out, "%s\n",
		     json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return rc < 0 || ferror(out) ? -1 : 0;
}

/* ---- Prometheus --------------------------------------------------------- */

static void prom_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_label_value(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void prom_domain_labels(FILE *out, const struct xst_domain *d)
{
	fputs("{domain=\"", out);
	prom_label_value(out, d->name);
	fprintf(out, "\",domid=\"%" PRIu32 "\"}", d->domid);
}

/* One sample's value of line st, converted to its metric's unit. */
static void prom_value(FILE *out, const struct xsd_stat *st, const void *base)
{
	union xsd_stat_value v = xsd_stat_get(st, base);
	double scale = xsd_stat_prom_scale(st);

	switch (st->type) {
	case SHR_STAT_U64:
		if (scale >= 1)
			fprintf(out, " %" PRIu64 "\n", v.u64 * (uint64_t)scale);
		else
			fprintf(out, " %.4f\n", (double)v.u64 * scale);
		break;
	case SHR_STAT_I64:
		if (scale >= 1)
			fprintf(out, " %" PRId64 "\n", v.i64 * (int64_t)scale);
		else
			fprintf(out, " %.4f\n", (double)v.i64 * scale);
		break;
	case SHR_STAT_BOOL:
		fprintf(out, " %d\n", v.b ? 1 : 0);
		break;
	case SHR_STAT_DBL:
		/* a fraction with 4 decimals, anything else with 3 */
		fprintf(out, " %.*f\n", strstr(st->prom, "_ratio") ? 4 : 3, v.d * scale);
		break;
	case SHR_STAT_PROTO:
		break;   /* a name: never a metric (schema_ut) */
	}
}

/* The family of line st; its help as a sentence, escaped as HELP wants. */
static void prom_help(FILE *out, const struct xsd_stat *st)
{
	const char *h = st->help;

	fprintf(out, "# HELP %s ", st->prom);
	if (*h >= 'a' && *h <= 'z')
		fputc(*h++ - 'a' + 'A', out);
	for (; *h; h++) {
		if (*h == '\\')
			fputs("\\\\", out);
		else if (*h == '\n')
			fputs("\\n", out);
		else
			fputc(*h, out);
	}
	fprintf(out, ".\n# TYPE %s %s\n", st->prom, st->kind == SHR_STAT_COUNTER ? "counter" : "gauge");
}

/* The daemon's global values of table t that have a metric. */
static void prom_daemon(FILE *out, const struct xsd_stat_table *t, const void *base, const bool *has)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!t->v[i].prom[0] || !has[i])
			continue;
		prom_help(out, &t->v[i]);
		fputs(t->v[i].prom, out);
		prom_value(out, &t->v[i], base);
	}
}

/* One family per domain line with a metric, a sample per domain that has it. */
static void prom_domains(FILE *out, const struct xst_snapshot *s)
{
	for (size_t k = 0; k < xsd_stats_domain.n; k++) {
		const struct xsd_stat *st = &xsd_stats_domain.v[k];
		bool any = false;

		if (!st->prom[0])
			continue;
		for (size_t i = 0; i < s->nr_domains; i++) {
			const struct xst_domain *d = &s->domains[i];

			if (!d->in_daemon || !d->dm_has[k])
				continue;
			if (!any)
				prom_help(out, st);
			any = true;
			fputs(st->prom, out);
			prom_domain_labels(out, d);
			prom_value(out, st, &d->dm);
		}
	}
}

/* The admission figure of each guest, with and without sharing. */
static void prom_admission(FILE *out, const struct xst_snapshot *s)
{
	static const char *const names[2] = {
		"xenshare_domain_admissible_guests",
		"xenshare_domain_admissible_guests_without_sharing",
	};
	static const char *const helps[2] = {
		"More guests like this domain that fit now, one after another, keeping the reserve against the burst.",
		"The same if the new guests shared nothing.",
	};

	for (int k = 0; k < 2; k++) {
		bool any = false;

		for (size_t i = 0; i < s->nr_domains; i++) {
			uint64_t v[2];

			if (!xst_admission(s, &s->domains[i], &v[0], &v[1]))
				continue;
			if (!any)
				prom_family(out, names[k], "gauge", helps[k]);
			any = true;
			fputs(names[k], out);
			prom_domain_labels(out, &s->domains[i]);
			fprintf(out, " %" PRIu64 "\n", v[k]);
		}
	}
}

#define PROM_U64(name, type, help, val) do { \
	prom_family(out, name, type, help); \
	fprintf(out, "%s %" PRIu64 "\n", name, (uint64_t)(val)); \
} while (0)
#define PROM_F(name, help, fmt, val) do { \
	prom_family(out, name, "gauge", help); \
	fprintf(out, "%s " fmt "\n", name, (double)(val)); \
} while (0)

int xst_format_prometheus(FILE *out, const struct xst_snapshot *s)
{
	const struct xst_daemon *dm = &s->daemon;
	struct xst_totals t;

	xst_totals_compute(s, &t);
	PROM_U64("xenshare_hypervisor_up", "gauge",
		 "1 if the hypervisor's sharing counters could be read through libxenctrl.",
		 s->hv.ok);
	PROM_U64("xenshare_daemon_up", "gauge",
		 "1 if xenshared answered on its control socket.", daemon_up(s));
	if (s->hv.ok) {
		PROM_U64("xenshare_saved_pages", "gauge",
			 "Guest pages saved: xc_sharing_freed_pages = sum(shr_pages) - shared frames in use.",
			 s->hv.freed_pages);
		PROM_U64("xenshare_saved_bytes", "gauge",
			 "Memory saved by sharing (xenshare_saved_pages * 4096).",
			 s->hv.freed_pages * XST_PAGE_SIZE);
		PROM_U64("xenshare_shared_frames", "gauge",
			 "Shared frames in use: xc_sharing_used_frames.", s->hv.used_frames);
		PROM_U64("xenshare_guest_memory_bytes", "gauge",
			 "Guest memory: sum over domU of (tot_pages + shr_pages) * 4096.",
			 t.guest_pages * XST_PAGE_SIZE);
		PROM_F("xenshare_sharing_ratio",
		       "Guest pages backed per shared frame: (saved + frames) / frames; 0 when nothing is shared.",
		       "%.4f", t.sharing_ratio);
		PROM_U64("xenshare_host_total_bytes", "gauge", "Host memory (xc_physinfo total_pages * 4096).",
			 s->hv.total_pages * XST_PAGE_SIZE);
		PROM_U64("xenshare_host_free_bytes", "gauge", "Free host memory (xc_physinfo free_pages * 4096).",
			 s->hv.free_pages * XST_PAGE_SIZE);
	}
	if (t.have_room) {
		PROM_U64("xenshare_at_risk_bytes", "gauge",
			 "Memory the guests could take back by writing every shared page: the saved memory.",
			 t.at_risk_pages * XST_PAGE_SIZE);
		PROM_F("xenshare_burst_ratio",
		       "Fraction of the shared pages the admission figure keeps the reserve against (--burst).",
		       "%.4f", s->burst_percent / 100.0);
		PROM_U64("xenshare_burst_bytes", "gauge",
			 "Memory a burst of that fraction of the shared pages needs, worst case.",
			 t.burst_pages * XST_PAGE_SIZE);
		prom_family(out, "xenshare_room_bytes", "gauge",
			    "Free memory beyond the reserve and the burst; negative when short.");
		fprintf(out, "xenshare_room_bytes %" PRId64 "\n", t.room_pages * (int64_t)XST_PAGE_SIZE);
	}
	if (daemon_up(s)) {
		prom_daemon(out, &xsd_stats_daemon, &dm->own, dm->own_has);
		prom_daemon(out, &xsd_stats_engine, &dm->engine, dm->engine_has);
	}
	if (s->nr_domains) {
		prom_family(out, "xenshare_domain_info", "gauge",
			    "Sharing policy of a domain (value always 1).");
		for (size_t i = 0; i < s->nr_domains; i++) {
			const struct xst_domain *d = &s->domains[i];

			fputs("xenshare_domain_info{domain=\"", out);
			prom_label_value(out, d->name);
			fprintf(out, "\",domid=\"%" PRIu32 "\",group=\"", d->domid);
			prom_label_value(out, d->group);
			fputs("\",mode=\"", out);
			prom_label_value(out, d->mode);
			fputs("\"} 1\n", out);
		}
		prom_family(out, "xenshare_domain_memory_bytes", "gauge",
			    "Domain memory: (tot_pages + shr_pages) * 4096.");
		for (size_t i = 0; i < s->nr_domains; i++) {
			fputs("xenshare_domain_memory_bytes", out);
			prom_domain_labels(out, &s->domains[i]);
			fprintf(out, " %" PRIu64 "\n",
				(s->domains[i].tot_pages + domain_shr(&s->domains[i])) * XST_PAGE_SIZE);
		}
		prom_family(out, "xenshare_domain_shared_pages", "gauge",
			    "Domain pages backed by shared frames (hypervisor shr_pages).");
		for (size_t i = 0; i < s->nr_domains; i++) {
			fputs("xenshare_domain_shared_pages", out);
			prom_domain_labels(out, &s->domains[i]);
			fprintf(out, " %" PRIu64 "\n", domain_shr(&s->domains[i]));
		}
		prom_admission(out, s);
	}
	if (daemon_up(s))
		prom_domains(out, s);
	return ferror(out) ? -1 : 0;
}
