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
 */
#include "statfmt.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <json-c/json.h>

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
		t->have_saved = true;
		t->saved_pages = s->daemon.sharing_freed_pages;
		t->used_frames = s->daemon.sharing_used_frames;
		t->have_free = true;
		t->free_pages = s->daemon.free_pages;
		/* without the hypervisor, guest memory comes from the daemon's copy */
		t->guest_pages = 0;
		for (size_t i = 0; i < s->nr_domains; i++)
			if (s->domains[i].in_daemon && s->domains[i].domid != 0)
				t->guest_pages += s->domains[i].tot_pages +
						  s->domains[i].daemon_shr_pages;
	}
	if (daemon_up(s))
		t->reserve_pages = s->daemon.reserve_pages;
	if (t->guest_pages)
		t->saved_percent = 100.0 * (double)t->saved_pages / (double)t->guest_pages;
	if (t->used_frames)
		t->sharing_ratio = (double)(t->saved_pages + t->used_frames) /
				   (double)t->used_frames;
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

void xst_note_foreach(const struct xst_snapshot *s,
		      void (*fn)(const char *note, void *arg), void *arg)
{
	const struct xst_daemon *dm = &s->daemon;
	uint64_t sum_shr = 0;

	if (!daemon_up(s))
		note(fn, arg, "xenshared is not answering (%s): %s", dm->error,
		     s->hv.ok ? "showing the hypervisor's numbers only"
			      : "no numbers from the daemon either");
	if (!s->hv.ok)
		note(fn, arg, "hypervisor counters unreadable (%s)%s", s->hv.error,
		     daemon_up(s) ? ": showing the daemon's copy of them" : "");
	if (s->hv.ok && daemon_up(s)) {
		if (dm->pages_sharing < s->hv.freed_pages)
			note(fn, arg,
			     "the hypervisor counts %" PRIu64 " pages saved, the daemon %" PRIu64
			     ": the difference was shared by another tool (e.g. xen-memshare, "
			     "a range_share clone) or by the daemon after it counted",
			     s->hv.freed_pages, dm->pages_sharing);
		else if (dm->pages_sharing > s->hv.freed_pages)
			note(fn, arg,
			     "the hypervisor counts %" PRIu64 " pages saved, the daemon %" PRIu64
			     ": guests wrote to (unshared) pages since the daemon counted, "
			     "or shared pages went with a destroyed domain",
			     s->hv.freed_pages, dm->pages_sharing);
		if (dm->pages_shared != s->hv.used_frames)
			note(fn, arg,
			     "the hypervisor counts %" PRIu64 " shared frames in use, the daemon %" PRIu64,
			     s->hv.used_frames, dm->pages_shared);
	}
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
	if (s->hv.ok && sum_shr != s->hv.freed_pages + s->hv.used_frames)
		note(fn, arg,
		     "sum of shr_pages (%" PRIu64 ") != freed + used (%" PRIu64
		     "): domains changed between the hypervisor reads",
		     sum_shr, s->hv.freed_pages + s->hv.used_frames);
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

int xst_format_table(FILE *out, const struct xst_snapshot *s)
{
	const struct xst_daemon *dm = &s->daemon;
	struct xst_totals t;
	int name_w = 4, group_w = 5;
	size_t nr_notes = 0;

	xst_totals_compute(s, &t);

	fprintf(out, "xenshare-stat %s   daemon: ", XENSHARE_VERSION);
	if (daemon_up(s))
		fprintf(out, "up (pid %" PRId64 ", %s, up %.0f s)", dm->pid,
			or_dash(dm->protocol), dm->uptime_s);
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
	if (daemon_up(s))
		fprintf(out, "Daemon:  CPU %.1f%%   pass time %.1f s   %" PRIu64
			" full passes   pass progress %.0f%%   settled: %s\n",
			dm->cpu_percent, dm->pass_time_s, dm->full_scans,
			100.0 * dm->pass_progress, dm->settled ? "yes" : "no");
	else
		fprintf(out, "Daemon:  -\n");
	if (t.have_free) {
		fprintf(out, "Host:    free %.1f MiB", pages_mib(t.free_pages));
		if (daemon_up(s))
			fprintf(out, "   reserve %.1f MiB   sharing %s\n",
				pages_mib(t.reserve_pages),
				dm->sharing_paused || t.free_pages < t.reserve_pages
					? "PAUSED (free below reserve)" : "active");
		else
			fprintf(out, "   reserve -\n");
	} else {
		fprintf(out, "Host:    -\n");
	}

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
		uint64_t shr = d->in_hv ? d->shr_pages : d->daemon_shr_pages;
		char shr_s[24], saved[24], vol[24], uns[24], scan[24];

		snprintf(shr_s, sizeof(shr_s), "%" PRIu64, shr);
		if (d->in_daemon) {
			snprintf(saved, sizeof(saved), "%.1f", pages_mib(d->pages_sharing));
			snprintf(vol, sizeof(vol), "%" PRIu64, d->pages_volatile);
			snprintf(uns, sizeof(uns), "%.1f", d->unshares_per_s);
			snprintf(scan, sizeof(scan), "%.0f", 100.0 * d->scan_progress);
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
	jadd(o, "pid", json_object_new_int64(dm->pid));
	jadd(o, "uptime_s", jdouble(dm->uptime_s, 1));
	jadd(o, "cpu_percent", jdouble(dm->cpu_percent, 1));
	jadd(o, "protocol", jstr_or_null(dm->protocol));
	jadd(o, "full_scans", json_object_new_uint64(dm->full_scans));
	jadd(o, "pass_time_s", jdouble(dm->pass_time_s, 2));
	jadd(o, "pass_progress", jdouble(dm->pass_progress, 3));
	jadd(o, "settled", json_object_new_boolean(dm->settled));
	jadd(o, "reserve_pages", json_object_new_uint64(dm->reserve_pages));
	jadd(o, "sharing_paused", json_object_new_boolean(dm->sharing_paused));
	c = json_object_new_object();
	jadd(c, "pages_shared", json_object_new_uint64(dm->pages_shared));
	jadd(c, "pages_sharing", json_object_new_uint64(dm->pages_sharing));
	jadd(c, "pages_unshared", json_object_new_uint64(dm->pages_unshared));
	jadd(c, "pages_volatile", json_object_new_uint64(dm->pages_volatile));
	jadd(c, "pages_scanned", json_object_new_uint64(dm->pages_scanned));
	jadd(c, "zero_pages_sharing", json_object_new_uint64(dm->zero_pages_sharing));
	jadd(c, "share_attempts", json_object_new_uint64(dm->share_attempts));
	jadd(c, "share_raced", json_object_new_uint64(dm->share_raced));
	jadd(c, "unshares", json_object_new_uint64(dm->unshares));
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

static struct json_object *json_domain(const struct xst_domain *d)
{
	struct json_object *o = json_object_new_object();
	uint64_t shr = d->in_hv ? d->shr_pages : d->daemon_shr_pages;

	jadd(o, "domid", json_object_new_int64(d->domid));
	jadd(o, "name", jstr_or_null(d->name));
	jadd(o, "group", jstr_or_null(d->group));
	jadd(o, "mode", jstr_or_null(d->mode));
	jadd(o, "in_hypervisor", json_object_new_boolean(d->in_hv));
	jadd(o, "in_daemon", json_object_new_boolean(d->in_daemon));
	jadd(o, "tot_pages", json_object_new_uint64(d->tot_pages));
	jadd(o, "shr_pages", json_object_new_uint64(shr));
	jadd(o, "memory_mib", jdouble(pages_mib(d->tot_pages + shr), 1));
	if (d->in_daemon) {
		jadd(o, "pages_sharing", json_object_new_uint64(d->pages_sharing));
		jadd(o, "saved_mib", jdouble(pages_mib(d->pages_sharing), 1));
		jadd(o, "pages_volatile", json_object_new_uint64(d->pages_volatile));
		jadd(o, "unshares_per_s", jdouble(d->unshares_per_s, 2));
		jadd(o, "scan_progress", jdouble(d->scan_progress, 3));
	} else {
		jadd(o, "pages_sharing", NULL);
		jadd(o, "saved_mib", NULL);
		jadd(o, "pages_volatile", NULL);
		jadd(o, "unshares_per_s", NULL);
		jadd(o, "scan_progress", NULL);
	}
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
	doms = json_object_new_array();
	for (size_t i = 0; i < s->nr_domains; i++)
		json_object_array_add(doms, json_domain(&s->domains[i]));
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

enum dom_metric { DM_MEMORY, DM_SHARED, DM_SAVED, DM_VOLATILE, DM_UNSHARES, DM_SCAN };

static void prom_domains(FILE *out, const struct xst_snapshot *s, enum dom_metric m)
{
	for (size_t i = 0; i < s->nr_domains; i++) {
		const struct xst_domain *d = &s->domains[i];
		uint64_t shr = d->in_hv ? d->shr_pages : d->daemon_shr_pages;

		if (m >= DM_SAVED && !d->in_daemon)
			continue;
		fputs(m == DM_MEMORY ? "xenshare_domain_memory_bytes" :
		      m == DM_SHARED ? "xenshare_domain_shared_pages" :
		      m == DM_SAVED ? "xenshare_domain_saved_pages" :
		      m == DM_VOLATILE ? "xenshare_domain_volatile_pages" :
		      m == DM_UNSHARES ? "xenshare_domain_unshares_per_second" :
		      "xenshare_domain_scan_progress_ratio", out);
		prom_domain_labels(out, d);
		switch (m) {
		case DM_MEMORY:
			fprintf(out, " %" PRIu64 "\n", (d->tot_pages + shr) * XST_PAGE_SIZE);
			break;
		case DM_SHARED:
			fprintf(out, " %" PRIu64 "\n", shr);
			break;
		case DM_SAVED:
			fprintf(out, " %" PRIu64 "\n", d->pages_sharing);
			break;
		case DM_VOLATILE:
			fprintf(out, " %" PRIu64 "\n", d->pages_volatile);
			break;
		case DM_UNSHARES:
			fprintf(out, " %.3f\n", d->unshares_per_s);
			break;
		case DM_SCAN:
			fprintf(out, " %.4f\n", d->scan_progress);
			break;
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
	if (daemon_up(s)) {
		PROM_U64("xenshare_daemon_saved_pages", "gauge",
			 "Pages saved as the daemon accounts them (pages_sharing); differs from xenshare_saved_pages when another tool shares pages.",
			 dm->pages_sharing);
		PROM_U64("xenshare_daemon_shared_frames", "gauge",
			 "Shared frames in use as the daemon accounts them (pages_shared).", dm->pages_shared);
		PROM_U64("xenshare_zero_pages_sharing", "gauge",
			 "Of the daemon's saved pages, zero pages.", dm->zero_pages_sharing);
		PROM_U64("xenshare_pages_unshared", "gauge",
			 "Scanned pages with no identical twin so far.", dm->pages_unshared);
		PROM_U64("xenshare_pages_volatile", "gauge",
			 "Pages skipped because their content keeps changing.", dm->pages_volatile);
		PROM_U64("xenshare_reserve_bytes", "gauge",
			 "Configured host memory reserve; sharing pauses while free memory is below it.",
			 dm->reserve_pages * XST_PAGE_SIZE);
		PROM_U64("xenshare_sharing_paused", "gauge",
			 "1 while free host memory is below the reserve.", dm->sharing_paused);
		PROM_F("xenshare_daemon_cpu_ratio",
		       "CPU used by xenshared as a fraction of one CPU.", "%.4f", dm->cpu_percent / 100.0);
		PROM_F("xenshare_pass_duration_seconds",
		       "Duration of the last complete pass over all opted-in domains.", "%.3f",
		       dm->pass_time_s);
		PROM_F("xenshare_pass_progress_ratio", "Fraction of the current pass done.", "%.4f",
		       dm->pass_progress);
		PROM_U64("xenshare_settled", "gauge",
			 "1 when the last pass added fewer shares than the settle threshold.", dm->settled);
		PROM_U64("xenshare_full_scans_total", "counter", "Completed passes since the daemon started.",
			 dm->full_scans);
		PROM_U64("xenshare_pages_scanned_total", "counter", "Page fingerprints computed.",
			 dm->pages_scanned);
		PROM_U64("xenshare_share_attempts_total", "counter", "Share operations attempted.",
			 dm->share_attempts);
		PROM_U64("xenshare_share_raced_total", "counter",
			 "Share attempts that lost a race with a guest write (handle invalid).",
			 dm->share_raced);
		PROM_U64("xenshare_unshares_total", "counter",
			 "Shared pages broken by guest writes, as observed by the daemon.", dm->unshares);
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
		prom_domains(out, s, DM_MEMORY);
		prom_family(out, "xenshare_domain_shared_pages", "gauge",
			    "Domain pages backed by shared frames (hypervisor shr_pages).");
		prom_domains(out, s, DM_SHARED);
	}
	if (daemon_up(s) && s->nr_domains) {
		prom_family(out, "xenshare_domain_saved_pages", "gauge",
			    "Pages of this domain the daemon merged into another frame.");
		prom_domains(out, s, DM_SAVED);
		prom_family(out, "xenshare_domain_volatile_pages", "gauge",
			    "Pages of this domain skipped as volatile.");
		prom_domains(out, s, DM_VOLATILE);
		prom_family(out, "xenshare_domain_unshares_per_second", "gauge",
			    "Shares of this domain broken by guest writes per second.");
		prom_domains(out, s, DM_UNSHARES);
		prom_family(out, "xenshare_domain_scan_progress_ratio", "gauge",
			    "Fraction of this domain scanned in the current pass.");
		prom_domains(out, s, DM_SCAN);
	}
	return ferror(out) ? -1 : 0;
}
