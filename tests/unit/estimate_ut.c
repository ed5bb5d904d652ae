/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * estimate_ut.c - unit tests of xenshare-estimate's counting
 * (tools/xenshare-stat/estimate.c) and report (estfmt.c): the split of the
 * savings into zero / within / across per group on hand-built guests whose
 * answer is known, groups never merged, byte compare deciding over
 * fingerprints (with a deliberately colliding fingerprint), padding slots
 * skipped, and the index growing past its first size.
 *
 * The guests are raw images in memory (struct xse_image pointing at a
 * buffer); image.c's file handling has its own test (image_ut.c).
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <json-c/json.h>

#include "tools/xenshare-stat/estfmt.h"
#include "tools/xenshare-stat/estimate.h"
#include "ut_common.h"

#define PG 4096u

/* FNV-1a over the page: a good-enough fingerprint for tests. */
static uint64_t fp_fnv(void *arg, const void *page, bool *is_zero)
{
	(void)arg;
	const uint8_t *p = page;
	uint64_t h = 1469598103934665603ull;
	bool zero = true;

	for (unsigned int i = 0; i < PG; i++) {
		h = (h ^ p[i]) * 1099511628211ull;
		zero &= p[i] == 0;
	}
	*is_zero = zero;
	return h;
}

/* Every page gets the same fingerprint: only the byte compare can tell them apart. */
static uint64_t fp_constant(void *arg, const void *page, bool *is_zero)
{
	(void)arg;
	bool zero = true;

	for (unsigned int i = 0; i < PG; i++)
		zero &= ((const uint8_t *)page)[i] == 0;
	*is_zero = zero;
	return 42;
}

static bool eq(const void *a, const void *b)
{
	return memcmp(a, b, PG) == 0;
}

static const struct xse_fp_ops fnv_ops = { .fp = fp_fnv, .equal = eq };
static const struct xse_fp_ops const_ops = { .fp = fp_constant, .equal = eq };

/*
 * Builds a raw in-memory image whose page i has content label[i]: 0 is a
 * zero page, any other value v a page filled with a pattern unique to v
 * (the same label gives the same bytes in every image).
 */
static void make_image(struct xse_image *img, const unsigned int *label, size_t n)
{
	uint8_t *buf = calloc(n ? n : 1, PG);

	CU_ASSERT_FATAL(buf != NULL);
	for (size_t i = 0; i < n; i++)
		if (label[i]) {
			uint32_t *w = (uint32_t *)(buf + i * PG);

			for (unsigned int k = 0; k < PG / 4; k++)
				w[k] = label[i] * 2654435761u + k;
		}
	memset(img, 0, sizeof(*img));
	img->format = XSE_IMG_RAW;
	img->map = img->pages = buf;
	img->map_len = n * PG;
	img->nr_slots = img->nr_pages = n;
}

static void free_image(struct xse_image *img)
{
	free((void *)img->map);
}

static void guest(struct xse_guest *g, struct xse_image *img, const char *group)
{
	memset(g, 0, sizeof(*g));
	g->path = "mem";
	snprintf(g->group, sizeof(g->group), "%s", group);
	g->img = img;
}

/* The three guests of the known split, estimated: g[0] is A and g[2] is
 * B in group default, g[1] is C in group other (the images in im[]). */
static void split_estimate(struct xse_image im[3], struct xse_guest g[3], struct xse_report *rep)
{
	static const unsigned int A[] = { 0, 0, 1, 1, 2, 3 }, B[] = { 0, 1, 2, 4, 4, 4 },
				  C[] = { 0, 1, 1, 5 };

	make_image(&im[0], A, 6);
	make_image(&im[1], B, 6);
	make_image(&im[2], C, 4);
	guest(&g[0], &im[0], "default");
	guest(&g[1], &im[2], "other");
	guest(&g[2], &im[1], "default");
	CU_ASSERT_EQUAL_FATAL(xse_estimate(g, 3, &fnv_ops, NULL, NULL, rep), 0);
}

static void split_free(struct xse_image im[3], struct xse_report *rep)
{
	xse_report_free(rep);
	for (int i = 0; i < 3; i++)
		free_image(&im[i]);
}

/*
 * Two guests in one group, one in another.  A: 0 0 1 1 2 3; B: 0 1 2 4 4 4;
 * C (other group): 0 1 1 5.
 * default: pages 12, zero 3 -> saved 2; within: A 1 (one 1), B 2 (4 twice)
 * -> 3; distinct A {1,2,3}=3, B {1,2,4}=3, group {1,2,3,4}=4 -> across 2.
 * other: zero 1 -> 0; within 1; across 0.  Totals: 2+3+2 + 0+1+0 = 8.
 */
static void test_known_split(void)
{
	struct xse_image im[3];
	struct xse_guest g[3];
	struct xse_report rep;

	split_estimate(im, g, &rep);
	CU_ASSERT_EQUAL_FATAL(rep.nr_groups, 2);
	CU_ASSERT_STRING_EQUAL(rep.groups[0].name, "default");
	CU_ASSERT_EQUAL(rep.groups[0].nr_guests, 2);
	CU_ASSERT_EQUAL(rep.groups[0].pages, 12);
	CU_ASSERT_EQUAL(rep.groups[0].zero_pages, 3);
	CU_ASSERT_EQUAL(rep.groups[0].saved_zero, 2);
	CU_ASSERT_EQUAL(rep.groups[0].saved_within, 3);
	CU_ASSERT_EQUAL(rep.groups[0].distinct_nonzero, 4);
	CU_ASSERT_EQUAL(rep.groups[0].saved_across, 2);
	CU_ASSERT_EQUAL(rep.groups[1].saved_zero, 0);
	CU_ASSERT_EQUAL(rep.groups[1].saved_within, 1);
	CU_ASSERT_EQUAL(rep.groups[1].saved_across, 0);   /* 1 is also in A and B: other group */
	CU_ASSERT_EQUAL(rep.pages, 16);
	CU_ASSERT_EQUAL(rep.saved_zero + rep.saved_within + rep.saved_across, 8);
	CU_ASSERT_EQUAL(g[0].zero_pages, 2);
	CU_ASSERT_EQUAL(g[0].distinct_nonzero, 3);
	CU_ASSERT_EQUAL(g[0].dup_within, 1);
	CU_ASSERT_EQUAL(g[2].dup_within, 2);
	CU_ASSERT_EQUAL(rep.fp_collisions, 0);
	split_free(im, &rep);
}

/*
 * Each guest's part when it joins the guests before it in its group, and
 * the admission figure built from them.  A: 0 0 1 1 2 3 comes first: new
 * contents zero, 1, 2, 3 (4); on shared frames the two zero pages and the
 * two 1s (4).  C (other group): 0 1 1 5: new zero, 1, 5 (3); shared the two
 * 1s (2).  B: 0 1 2 4 4 4 after A: new only 4 (1); shared its zero page
 * and its 1 joining frames already shared (1 + 1), its 2 with A's 2 until
 * now alone (2), its three 4s (3): 7.  A group's shared pages add up (zero
 * 3, 1 3, 2 2, 4 3 = 11 = 4 + 7), and pages - new contents add up to its
 * savings (2 + 5 = 7).
 * On 20 pages free, no reserve, no burst, guests in turn A C B A C: free
 * 20 -6 +2 = 16, -4 +1 = 13, -6 +5 = 12, -6 +2 = 8, -4 +1 = 5, and B's 6
 * do not fit: 5 guests; without sharing 6 + 4 + 6 and A's 6 do not: 3.
 * Against a burst of every shared page, sharing buys nothing: 3.
 */
static void test_marginals_and_admission(void)
{
	struct xse_image im[3];
	struct xse_guest g[3];
	struct xse_report rep;

	split_estimate(im, g, &rep);
	CU_ASSERT_EQUAL(g[0].new_contents, 4);
	CU_ASSERT_EQUAL(g[0].shared_added, 4);
	CU_ASSERT_EQUAL(g[1].new_contents, 3);
	CU_ASSERT_EQUAL(g[1].shared_added, 2);
	CU_ASSERT_EQUAL(g[2].new_contents, 1);
	CU_ASSERT_EQUAL(g[2].shared_added, 7);
	CU_ASSERT_EQUAL((g[0].pages - g[0].new_contents) + (g[2].pages - g[2].new_contents),
			xse_group_saved(&rep.groups[0]));
	CU_ASSERT_EQUAL_FATAL(xse_admission(g, 3, 20, 0, 0, &rep), 0);
	CU_ASSERT(rep.admission.asked);
	CU_ASSERT_EQUAL(rep.admission.guests, 5);
	CU_ASSERT_EQUAL(rep.admission.without_sharing, 3);
	CU_ASSERT_EQUAL_FATAL(xse_admission(g, 3, 20, 0, 100, &rep), 0);
	CU_ASSERT_EQUAL(rep.admission.guests, 3);
	/* a reserve of 5: the fifth guest (C) would leave 8 - 4 = 4 free */
	CU_ASSERT_EQUAL_FATAL(xse_admission(g, 3, 20, 5, 0, &rep), 0);
	CU_ASSERT_EQUAL(rep.admission.guests, 4);
	split_free(im, &rep);
}

/* With every fingerprint equal, the result is the same: equality is
 * decided by the bytes, and the collisions are counted. */
static void test_collisions_do_not_merge(void)
{
	static const unsigned int A[] = { 0, 0, 1, 1, 2, 3 }, B[] = { 0, 1, 2, 4, 4, 4 };
	struct xse_image ia, ib;
	struct xse_guest g[2];
	struct xse_report rep;

	make_image(&ia, A, 6);
	make_image(&ib, B, 6);
	guest(&g[0], &ia, "default");
	guest(&g[1], &ib, "default");
	CU_ASSERT_EQUAL_FATAL(xse_estimate(g, 2, &const_ops, NULL, NULL, &rep), 0);
	CU_ASSERT_EQUAL(rep.saved_zero, 2);
	CU_ASSERT_EQUAL(rep.saved_within, 3);
	CU_ASSERT_EQUAL(rep.saved_across, 2);
	CU_ASSERT_EQUAL(rep.groups[0].distinct_nonzero, 4);
	CU_ASSERT(rep.fp_collisions > 0);
	xse_report_free(&rep);
	free_image(&ia);
	free_image(&ib);
}

/* dump-core padding slots (pfn ~0) are not guest pages and are not counted. */
static void test_padding_skipped(void)
{
	static const unsigned int A[] = { 7, 7, 0, 0 };
	uint64_t pfns[4] = { 0, 1, ~0ull, ~0ull };
	struct xse_image ia;
	struct xse_guest g;
	struct xse_report rep;

	make_image(&ia, A, 4);
	ia.format = XSE_IMG_DUMPCORE;
	ia.pfns = (const uint8_t *)pfns;
	ia.pfn_stride = 8;
	ia.nr_pages = 2;
	guest(&g, &ia, "default");
	CU_ASSERT_EQUAL_FATAL(xse_estimate(&g, 1, &fnv_ops, NULL, NULL, &rep), 0);
	CU_ASSERT_EQUAL(g.pages, 2);
	CU_ASSERT_EQUAL(g.zero_pages, 0);
	CU_ASSERT_EQUAL(g.dup_within, 1);
	CU_ASSERT_EQUAL(rep.pages, 2);
	xse_report_free(&rep);
	free_image(&ia);
}

static uint64_t last_done, last_total;
static unsigned int nr_progress;

static void progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	last_done = done;
	last_total = total;
	nr_progress++;
}

/* 200000 distinct pages force the index (65536 slots at first) to grow
 * several times without losing an entry; progress ends at the total. */
static void test_index_growth(void)
{
	const size_t n = 200000;
	unsigned int *label = malloc(n * sizeof(*label));
	struct xse_image ia;
	struct xse_guest g;
	struct xse_report rep;

	CU_ASSERT_FATAL(label != NULL);
	for (size_t i = 0; i < n; i++)
		label[i] = (unsigned int)(i % 150000) + 1;   /* 50000 repeats */
	make_image(&ia, label, n);
	guest(&g, &ia, "default");
	CU_ASSERT_EQUAL_FATAL(xse_estimate(&g, 1, &fnv_ops, progress, NULL, &rep), 0);
	CU_ASSERT_EQUAL(g.distinct_nonzero, 150000);
	CU_ASSERT_EQUAL(g.dup_within, 50000);
	CU_ASSERT_EQUAL(rep.saved_within, 50000);
	CU_ASSERT_EQUAL(last_done, n);
	CU_ASSERT_EQUAL(last_total, n);
	CU_ASSERT(nr_progress >= n / 4096);
	xse_report_free(&rep);
	free_image(&ia);
	free(label);
}

/* The JSON report parses and carries the same numbers; the text report
 * names every group and the total. */
static void test_report_formats(void)
{
	static const unsigned int A[] = { 0, 0, 1, 1, 2, 3 }, B[] = { 0, 1, 2, 4, 4, 4 };
	struct xse_image ia, ib;
	struct xse_guest g[2];
	struct xse_report rep;
	struct json_object *root, *t, *v;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	make_image(&ia, A, 6);
	make_image(&ib, B, 6);
	guest(&g[0], &ia, "g\"1");
	guest(&g[1], &ib, "default");
	CU_ASSERT_EQUAL_FATAL(xse_estimate(g, 2, &fnv_ops, NULL, NULL, &rep), 0);
	m = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(xse_format_json(m, g, 2, &rep), 0);
	fclose(m);
	root = json_tokener_parse(buf);
	CU_ASSERT_FATAL(root != NULL);
	CU_ASSERT_FATAL(json_object_object_get_ex(root, "total", &t));
	CU_ASSERT(json_object_object_get_ex(t, "saved", &v));
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_object_get(v, "pages")),
			(int64_t)(rep.saved_zero + rep.saved_within + rep.saved_across));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(json_object_object_get(root, "groups"), 0), "group")), "g\"1");
	json_object_put(root);
	free(buf);
	buf = NULL;
	m = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(xse_format_text(m, g, 2, &rep), 0);
	fclose(m);
	CU_ASSERT(strstr(buf, "g\"1") != NULL);
	CU_ASSERT(strstr(buf, "total (mem_sharing=\"on\")") != NULL);
	free(buf);
	xse_report_free(&rep);
	free_image(&ia);
	free_image(&ib);
}

UT_MAIN("estimate", NULL, NULL,
	UT(test_known_split),
	UT(test_marginals_and_admission),
	UT(test_collisions_do_not_merge),
	UT(test_padding_skipped),
	UT(test_index_growth),
	UT(test_report_formats))
