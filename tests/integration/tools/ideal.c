/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ideal.c - shr-ideal: the best savings sharing could reach on a host,
 * computed independently of the engine.
 *
 * Usage: shr-ideal [--check-sharers] DOMID[:GROUP] ...
 *
 * Maps every gfn of the given domains read-only through libxenforeignmemory
 * (xensim's drop-in library in the tests), and counts, per sharing group,
 * populated pages (the sharing ring page excluded) minus distinct page contents: the number of frames a
 * perfect deduplicator would free.  Contents are bucketed by XXH3-128 (not
 * the engine's keyed 64-bit fingerprint) and then compared byte for byte
 * against one representative per distinct content, so the count is exact.
 * Prints one JSON object: {"pages":N,"distinct":D,"ideal":N-D,"zero":Z,
 * "groups":{"g":{"pages":..,"distinct":..,"ideal":..}}}.
 *
 * --check-sharers also proves that no frame is shared across groups (or
 * between different contents): for every page, the hypervisor's count of
 * gfns on its frame (xc_memshr_debug_gfn) must not exceed the number of
 * byte-identical pages in the page's own group.  Any excess can only come
 * from a gfn of another group (or a different content) on that frame.
 * Adds "sharer_violations":N to the output and exits 3 when N > 0.
 *
 * Exit 0, 1 on a Xen error, 2 on bad arguments, 3 sharer violations.
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xen/hvm/params.h>

#define PAGE 4096u
#define BATCH 1024u

struct page_rec {
	XXH128_hash_t h;
	uint32_t group, domid;
	uint64_t gfn;
	uint8_t zero;
};

static xc_interface *xch;
static xenforeignmemory_handle *fmem;

static int cmp_rec(const void *a, const void *b)
{
	const struct page_rec *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->h.high64 != y->h.high64)
		return x->h.high64 < y->h.high64 ? -1 : 1;
	if (x->h.low64 != y->h.low64)
		return x->h.low64 < y->h.low64 ? -1 : 1;
	if (x->domid != y->domid)
		return x->domid < y->domid ? -1 : 1;
	return x->gfn < y->gfn ? -1 : x->gfn > y->gfn;
}

static int map_pages(uint32_t domid, const xen_pfn_t *gfns, unsigned int n,
		     int *err, uint8_t **out)
{
	void *p = xenforeignmemory_map(fmem, domid, PROT_READ, n, gfns, err);

	if (!p) {
		fprintf(stderr, "shr-ideal: d%u map of %u pages: %s\n", domid, n, strerror(errno));
		return -1;
	}
	*out = p;
	return 0;
}

int main(int argc, char **argv)
{
	static xen_pfn_t gfns[BATCH];
	static int err[BATCH];
	char groups[64][64];
	unsigned int nr_groups = 0;
	struct page_rec *recs = NULL;
	size_t nr = 0, cap = 0;
	uint64_t g_pages[64] = { 0 }, g_distinct[64] = { 0 }, zero = 0, violations = 0;
	bool check_sharers = false;
	int first_arg = 1;

	if (argc > 1 && !strcmp(argv[1], "--check-sharers")) {
		check_sharers = true;
		first_arg = 2;
	}
	if (argc <= first_arg) {
		fprintf(stderr, "usage: shr-ideal [--check-sharers] DOMID[:GROUP] ...\n");
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	fmem = xenforeignmemory_open(NULL, 0);
	if (!xch || !fmem) {
		fprintf(stderr, "shr-ideal: cannot open the Xen libraries: %s\n", strerror(errno));
		return 1;
	}
	for (int a = first_arg; a < argc; a++) {
		char *end, *colon = strchr(argv[a], ':');
		const char *gname = colon ? colon + 1 : "default";
		unsigned long domid = strtoul(argv[a], &end, 10);
		xen_pfn_t max_gpfn;
		uint64_t ring_pfn;
		unsigned int g;

		if (end == argv[a] || (*end && *end != ':') || domid > 0x7fef) {
			fprintf(stderr, "shr-ideal: bad domain '%s'\n", argv[a]);
			return 2;
		}
		for (g = 0; g < nr_groups; g++)
			if (!strcmp(groups[g], gname))
				break;
		if (g == nr_groups) {
			if (nr_groups == 64) {
				fprintf(stderr, "shr-ideal: too many groups\n");
				return 2;
			}
			snprintf(groups[nr_groups++], sizeof(groups[0]), "%s", gname);
		}
		if (xc_domain_maximum_gpfn(xch, (uint32_t)domid, &max_gpfn) < 0) {
			fprintf(stderr, "shr-ideal: d%lu maximum_gpfn: %s\n", domid, strerror(errno));
			return 1;
		}
		/* The sharing ring page is Xen's vm_event page, not guest RAM. */
		if (xc_hvm_param_get(xch, (uint32_t)domid, HVM_PARAM_SHARING_RING_PFN, &ring_pfn) < 0)
			ring_pfn = 0;
		for (uint64_t first = 0; first <= max_gpfn; first += BATCH) {
			unsigned int n = (unsigned int)(max_gpfn + 1 - first < BATCH ?
							max_gpfn + 1 - first : BATCH);
			uint8_t *p;

			for (unsigned int i = 0; i < n; i++)
				gfns[i] = first + i;
			if (map_pages((uint32_t)domid, gfns, n, err, &p))
				return 1;
			for (unsigned int i = 0; i < n; i++) {
				const uint8_t *pg = p + (size_t)i * PAGE;
				bool z = true;

				if (err[i] || (ring_pfn && first + i == ring_pfn))
					continue;
				if (nr == cap) {
					cap = cap ? 2 * cap : 65536;
					recs = realloc(recs, cap * sizeof(*recs));
					if (!recs) {
						fprintf(stderr, "shr-ideal: out of memory\n");
						return 1;
					}
				}
				for (unsigned int k = 0; k < PAGE && z; k++)
					z = pg[k] == 0;
				recs[nr++] = (struct page_rec){
					.h = XXH3_128bits(pg, PAGE), .group = g,
					.domid = (uint32_t)domid, .gfn = first + i, .zero = z,
				};
				zero += z;
			}
			xenforeignmemory_unmap(fmem, p, n);
		}
	}
	qsort(recs, nr, sizeof(*recs), cmp_rec);

	/* Each run of equal (group, hash): compare every member byte for byte
	 * with the run's representatives (one per distinct content). */
	for (size_t i = 0; i < nr;) {
		size_t j = i + 1;
		uint8_t (*reps)[PAGE] = NULL;
		unsigned int nr_reps = 0;

		while (j < nr && recs[j].group == recs[i].group &&
		       recs[j].h.high64 == recs[i].h.high64 && recs[j].h.low64 == recs[i].h.low64)
			j++;
		g_pages[recs[i].group] += j - i;
		if (check_sharers) {
			for (size_t k = i; k < j; k++) {
				int n = xc_memshr_debug_gfn(xch, recs[k].domid, recs[k].gfn);

				if (n > (int)(j - i)) {
					if (violations < 10)
						fprintf(stderr, "shr-ideal: d%u gfn 0x%llx: %d gfns on its "
							"frame, only %zu identical pages in its group\n",
							recs[k].domid, (unsigned long long)recs[k].gfn,
							n, j - i);
					violations++;
				}
			}
		}
		if (j - i == 1) {
			g_distinct[recs[i].group]++;
			i = j;
			continue;
		}
		for (size_t k = i; k < j;) {
			size_t m = k;
			unsigned int n = 0;
			uint8_t *p;

			while (m < j && recs[m].domid == recs[k].domid && n < BATCH)
				gfns[n++] = recs[m++].gfn;
			if (map_pages(recs[k].domid, gfns, n, err, &p))
				return 1;
			for (unsigned int q = 0; q < n; q++) {
				const uint8_t *pg = p + (size_t)q * PAGE;
				unsigned int r;

				if (err[q]) {
					fprintf(stderr, "shr-ideal: d%u gfn 0x%llx vanished\n",
						recs[k].domid, (unsigned long long)gfns[q]);
					return 1;
				}
				for (r = 0; r < nr_reps; r++)
					if (!memcmp(reps[r], pg, PAGE))
						break;
				if (r == nr_reps) {
					reps = realloc(reps, (nr_reps + 1) * sizeof(*reps));
					if (!reps)
						return 1;
					memcpy(reps[nr_reps++], pg, PAGE);
				}
			}
			xenforeignmemory_unmap(fmem, p, n);
			k = m;
		}
		g_distinct[recs[i].group] += nr_reps;
		free(reps);
		i = j;
	}

	uint64_t pages = 0, distinct = 0;

	for (unsigned int g = 0; g < nr_groups; g++) {
		pages += g_pages[g];
		distinct += g_distinct[g];
	}
	printf("{\"pages\":%llu,\"distinct\":%llu,\"ideal\":%llu,\"zero\":%llu,\"groups\":{",
	       (unsigned long long)pages, (unsigned long long)distinct,
	       (unsigned long long)(pages - distinct), (unsigned long long)zero);
	for (unsigned int g = 0; g < nr_groups; g++)
		printf("%s\"%s\":{\"pages\":%llu,\"distinct\":%llu,\"ideal\":%llu}", g ? "," : "",
		       groups[g], (unsigned long long)g_pages[g],
		       (unsigned long long)g_distinct[g],
		       (unsigned long long)(g_pages[g] - g_distinct[g]));
	printf("}");
	if (check_sharers)
		printf(",\"sharer_violations\":%llu", (unsigned long long)violations);
	printf("}\n");
	free(recs);
	xenforeignmemory_close(fmem);
	xc_interface_close(xch);
	return violations ? 3 : 0;
}
