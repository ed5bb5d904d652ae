/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * estfmt.c - table and JSON output of xenshare-estimate (see estfmt.h).
 * JSON goes through json-c for correct escaping of file and group names.
 */
#include "estfmt.h"

#include <inttypes.h>
#include <string.h>

#include <json-c/json.h>

#define PAGES_PER_MIB 256.0

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void saved_line(FILE *out, const char *what, uint64_t pages, uint64_t total)
{
	fprintf(out, "  %-34s %10" PRIu64 " pages %10.1f MiB %6.2f%%\n", what, pages,
		(double)pages / PAGES_PER_MIB, pct(pages, total));
}

int xse_format_text(FILE *out, const struct xse_guest *guests, size_t n,
		    const struct xse_report *rep)
{
	uint64_t saved = rep->saved_zero + rep->saved_within + rep->saved_across;
	const struct xse_admission *a = &rep->admission;
	int fw = 5, gw = 5;

	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen(guests[i].path), m = (int)strlen(guests[i].group);

		fw = l > fw ? l : fw;
		gw = m > gw ? m : gw;
	}
	fw = fw > 40 ? 40 : fw;
	gw = gw > 20 ? 20 : gw;

	fprintf(out, "%-*s %-*s %10s %10s %10s %10s\n", fw, "IMAGE", gw, "GROUP", "PAGES",
		"ZERO", "DISTINCT", "DUP-WITHIN");
	for (size_t i = 0; i < n; i++) {
		const struct xse_guest *g = &guests[i];
		size_t l = strlen(g->path);
		/* keep the end of long paths: the file name is what tells images apart */
		const char *p = (int)l > fw ? g->path + l - (size_t)fw : g->path;

		fprintf(out, "%-*s %-*.*s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
			fw, p, gw, gw, g->group, g->pages, g->zero_pages, g->distinct_nonzero,
			g->dup_within);
	}
	fprintf(out, "\n%-*s %6s %10s %10s %10s %10s %10s %7s\n", gw, "GROUP", "GUESTS", "PAGES",
		"SAVED-ZERO", "SAVED-IN", "SAVED-X", "SAVED", "SAVED%");
	for (size_t i = 0; i < rep->nr_groups; i++) {
		const struct xse_group *G = &rep->groups[i];

		fprintf(out, "%-*.*s %6u %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
			" %10" PRIu64 " %6.2f%%\n",
			gw, gw, G->name, G->nr_guests, G->pages, G->saved_zero, G->saved_within,
			G->saved_across, xse_group_saved(G), pct(xse_group_saved(G), G->pages));
	}
	fprintf(out, "\nEstimated savings once xenshared has settled (%" PRIu64 " pages, %.1f MiB scanned):\n",
		rep->pages, (double)rep->pages / PAGES_PER_MIB);
	saved_line(out, "zero pages", rep->saved_zero, rep->pages);
	saved_line(out, "duplicates within each guest", rep->saved_within, rep->pages);
	saved_line(out, "duplicates across guests", rep->saved_across, rep->pages);
	saved_line(out, "total (mem_sharing=\"on\")", saved, rep->pages);
	saved_line(out, "zero-only (mem_sharing=\"zero\")", rep->saved_zero, rep->pages);
	fprintf(out, "Pages of different groups are never merged.  Fingerprint collisions "
		"told apart by byte compare: %" PRIu64 ".\n", rep->fp_collisions);
	if (a->asked)
		fprintf(out, "\nOn a host of %.1f GiB, %" PRIu64 " guests like these images fit with "
			"sharing vs %" PRIu64 " without\n(created one after another, the images in "
			"turn, keeping a reserve of %.1f MiB\nagainst a burst of %g%% of the shared "
			"pages).\n",
			(double)a->host_pages / (PAGES_PER_MIB * 1024), a->guests, a->without_sharing,
			(double)a->reserve_pages / PAGES_PER_MIB, a->burst_percent);
	return ferror(out) ? -1 : 0;
}

static struct json_object *jpct(uint64_t part, uint64_t whole)
{
	char buf[32];
	double v = pct(part, whole);

	snprintf(buf, sizeof(buf), "%.2f", v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *jmib(uint64_t pages)
{
	char buf[32];
	double v = (double)pages / PAGES_PER_MIB;

	snprintf(buf, sizeof(buf), "%.1f", v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *jsaved(uint64_t pages, uint64_t whole)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pages", json_object_new_uint64(pages));
	json_object_object_add(o, "mib", jmib(pages));
	json_object_object_add(o, "percent", jpct(pages, whole));
	return o;
}

int xse_format_json(FILE *out, const struct xse_guest *guests, size_t n,
		    const struct xse_report *rep)
{
	struct json_object *root = json_object_new_object(), *arr, *s;
	uint64_t saved = rep->saved_zero + rep->saved_within + rep->saved_across;
	int rc;

	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct xse_guest *g = &guests[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "image", json_object_new_string(g->path));
		json_object_object_add(o, "group", json_object_new_string(g->group));
		json_object_object_add(o, "pages", json_object_new_uint64(g->pages));
		json_object_object_add(o, "zero_pages", json_object_new_uint64(g->zero_pages));
		json_object_object_add(o, "distinct_nonzero", json_object_new_uint64(g->distinct_nonzero));
		json_object_object_add(o, "dup_within", json_object_new_uint64(g->dup_within));
		json_object_object_add(o, "new_contents", json_object_new_uint64(g->new_contents));
		json_object_object_add(o, "shared_added", json_object_new_uint64(g->shared_added));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "guests", arr);
	arr = json_object_new_array();
	for (size_t i = 0; i < rep->nr_groups; i++) {
		const struct xse_group *G = &rep->groups[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "group", json_object_new_string(G->name));
		json_object_object_add(o, "guests", json_object_new_uint64(G->nr_guests));
		json_object_object_add(o, "pages", json_object_new_uint64(G->pages));
		json_object_object_add(o, "zero_pages", json_object_new_uint64(G->zero_pages));
		json_object_object_add(o, "distinct_nonzero", json_object_new_uint64(G->distinct_nonzero));
		json_object_object_add(o, "saved_zero", jsaved(G->saved_zero, G->pages));
		json_object_object_add(o, "saved_within", jsaved(G->saved_within, G->pages));
		json_object_object_add(o, "saved_across", jsaved(G->saved_across, G->pages));
		json_object_object_add(o, "saved", jsaved(xse_group_saved(G), G->pages));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "groups", arr);
	s = json_object_new_object();
	json_object_object_add(s, "pages", json_object_new_uint64(rep->pages));
	json_object_object_add(s, "zero", jsaved(rep->saved_zero, rep->pages));
	json_object_object_add(s, "within", jsaved(rep->saved_within, rep->pages));
	json_object_object_add(s, "across", jsaved(rep->saved_across, rep->pages));
	json_object_object_add(s, "saved", jsaved(saved, rep->pages));
	json_object_object_add(s, "zero_only", jsaved(rep->saved_zero, rep->pages));
	json_object_object_add(s, "fp_collisions", json_object_new_uint64(rep->fp_collisions));
	json_object_object_add(root, "total", s);
	if (rep->admission.asked) {
		const struct xse_admission *a = &rep->admission;
		char buf[32];

		s = json_object_new_object();
		snprintf(buf, sizeof(buf), "%.1f", a->burst_percent);
		json_object_object_add(s, "host_pages", json_object_new_uint64(a->host_pages));
		json_object_object_add(s, "reserve_pages", json_object_new_uint64(a->reserve_pages));
		json_object_object_add(s, "burst_percent", json_object_new_double_s(a->burst_percent, buf));
		json_object_object_add(s, "guests", json_object_new_uint64(a->guests));
		json_object_object_add(s, "without_sharing", json_object_new_uint64(a->without_sharing));
		json_object_object_add(root, "admission", s);
	}
	rc = fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return rc < 0 || ferror(out) ? -1 : 0;
}
