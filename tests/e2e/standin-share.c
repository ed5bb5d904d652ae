/*
 * standin-share - STAND-IN for xenshared, used by the e2e harness only until
 * the project's daemon ($O/bin/xenshared) is built.  NOT the product.
 *
 * DOC: Overview
 * One pass of content-based sharing over the given domains, through the real
 * libxenctrl and libxenforeignmemory, to prove the harness and the
 * hypervisor (sharing enabled, guests alive, counters moving) independently
 * of the daemon:
 *
 *   1. xc_memshr_control(dom, 1) for every domain (EOPNOTSUPP: the
 *      hypervisor refuses sharing on this CPU; ENOSYS: built without it);
 *   2. map every gfn read-only in batches, hash it (XXH3), unmap;
 *   3. sort by hash; in each group of equal hashes take the first gfn that
 *      nominates as the source, copy its content once *after* nominating
 *      it, then for every other gfn: nominate, map read-only, compare with
 *      the copy, unmap, share.
 *
 * Invariant (from the Xen brief): nominate both, then compare, then share.
 * A write after nomination invalidates the handle, so the share fails
 * (errno 9/10) instead of merging different pages; comparing before
 * nominating would not be safe.  No page stays mapped while it is
 * nominated (a mapping is an extra reference: E2BIG).
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <xenctrl.h>
#include <xenforeignmemory.h>

#define PAGE 4096u
#define MAP_BATCH 512u
#define MAX_DOMS 8

struct page_ref {
	uint64_t hash;
	uint32_t dom;
	uint64_t gfn;
};

struct share_tally {
	unsigned long scanned, unmappable, groups, pairs, shared, raced, differ;
	unsigned long nom_fail, nom_e2big, nom_einval, share_fail;
};

static int cmp_ref(const void *a, const void *b)
{
	const struct page_ref *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->dom != y->dom)
		return x->dom < y->dom ? -1 : 1;
	return x->gfn < y->gfn ? -1 : x->gfn > y->gfn;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Hash every mappable gfn of dom into refs; returns the count or -errno. */
static long scan_domain(xenforeignmemory_handle *fmem, uint32_t dom, uint64_t max_gfn,
			struct page_ref *refs, struct share_tally *t)
{
	xen_pfn_t arr[MAP_BATCH];
	int err[MAP_BATCH];
	long n = 0;

	for (uint64_t base = 0; base <= max_gfn; base += MAP_BATCH) {
		size_t cnt = max_gfn - base + 1 < MAP_BATCH ? max_gfn - base + 1 : MAP_BATCH;
		unsigned char *va;

		for (size_t i = 0; i < cnt; i++)
			arr[i] = base + i;
		va = xenforeignmemory_map(fmem, dom, PROT_READ, cnt, arr, err);
		if (!va) {
			fprintf(stderr, "standin-share: map dom%u gfn %" PRIu64 "+%zu: %s\n", dom,
				base, cnt, strerror(errno));
			t->unmappable += cnt;
			continue;
		}
		for (size_t i = 0; i < cnt; i++) {
			if (err[i]) {
				t->unmappable++;
				continue;
			}
			refs[n].hash = XXH3_64bits(va + i * PAGE, PAGE);
			refs[n].dom = dom;
			refs[n].gfn = base + i;
			n++;
		}
		xenforeignmemory_unmap(fmem, va, cnt);
	}
	t->scanned += n;
	return n;
}

/* Copy one gfn's content into buf through a short-lived read-only mapping. */
static int read_gfn(xenforeignmemory_handle *fmem, uint32_t dom, uint64_t gfn, void *buf)
{
	xen_pfn_t pfn = gfn;
	int err = 0;
	void *va = xenforeignmemory_map(fmem, dom, PROT_READ, 1, &pfn, &err);

	if (!va)
		return -errno;
	if (err) {
		xenforeignmemory_unmap(fmem, va, 1);
		return err < 0 ? err : -err;
	}
	memcpy(buf, va, PAGE);
	xenforeignmemory_unmap(fmem, va, 1);
	return 0;
}

static int nominate(xc_interface *xch, const struct page_ref *r, uint64_t *handle,
		    struct share_tally *t)
{
	if (xc_memshr_nominate_gfn(xch, r->dom, r->gfn, handle) == 0)
		return 0;
	t->nom_fail++;
	if (errno == E2BIG)
		t->nom_e2big++;
	else if (errno == EINVAL)
		t->nom_einval++;
	return -errno;
}

/* Share the members of one equal-hash group onto its first sharable page. */
static void share_group(xc_interface *xch, xenforeignmemory_handle *fmem, struct page_ref *g,
			size_t n, struct share_tally *t)
{
	static unsigned char src_buf[PAGE], cli_buf[PAGE];
	size_t s = 0;
	uint64_t sh = 0;

	t->groups++;
	for (; s < n; s++) {
		if (nominate(xch, &g[s], &sh, t) == 0 && read_gfn(fmem, g[s].dom, g[s].gfn, src_buf) == 0)
			break;
	}
	for (size_t c = s + 1; c < n; c++) {
		uint64_t ch;

		t->pairs++;
		if (nominate(xch, &g[c], &ch, t))
			continue;
		if (read_gfn(fmem, g[c].dom, g[c].gfn, cli_buf) || memcmp(src_buf, cli_buf, PAGE)) {
			t->differ++;
			continue;
		}
		if (xc_memshr_share_gfns(xch, g[s].dom, g[s].gfn, sh, g[c].dom, g[c].gfn, ch) == 0) {
			t->shared++;
			continue;
		}
		/* 10: source handle invalid (source written), 9: client written. */
		if (errno == 9 || errno == 10) {
			t->raced++;
			if (errno == 10 && (nominate(xch, &g[s], &sh, t) ||
					    read_gfn(fmem, g[s].dom, g[s].gfn, src_buf)))
				return;
			continue;
		}
		t->share_fail++;
		if (t->share_fail <= 5)
			fprintf(stderr, "standin-share: share dom%u:%" PRIu64 " <- dom%u:%" PRIu64 ": %s\n",
				g[s].dom, g[s].gfn, g[c].dom, g[c].gfn, strerror(errno));
	}
}

int main(int argc, char **argv)
{
	xc_interface *xch;
	xenforeignmemory_handle *fmem;
	struct share_tally t = { 0 };
	uint32_t doms[MAX_DOMS];
	uint64_t maxg[MAX_DOMS], total = 0;
	struct page_ref *refs;
	long n = 0;
	int ndoms = argc - 1, rc = 0;
	double t0 = now_s(), t_scan;

	if (ndoms < 1 || ndoms > MAX_DOMS) {
		fprintf(stderr, "Usage: standin-share <domid>... (1..%d domains)\n", MAX_DOMS);
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	fmem = xenforeignmemory_open(NULL, 0);
	if (!xch || !fmem) {
		fprintf(stderr, "standin-share: cannot open libxenctrl/libxenforeignmemory: %s\n",
			strerror(errno));
		return 1;
	}
	for (int i = 0; i < ndoms; i++) {
		char *end;
		xen_pfn_t mg = 0;
		unsigned long d;

		errno = 0;
		d = strtoul(argv[i + 1], &end, 10);
		if (errno || *end || end == argv[i + 1] || d == 0 || d >= 0x7ff0) {
			fprintf(stderr, "standin-share: bad domain id '%s'\n", argv[i + 1]);
			return 2;
		}
		doms[i] = (uint32_t)d;
		if (xc_memshr_control(xch, doms[i], 1)) {
			printf("STANDIN-SHARE control dom%u failed: errno=%d (%s)\n", doms[i], errno,
			       strerror(errno));
			return 3;
		}
		if (xc_domain_maximum_gpfn(xch, doms[i], &mg) < 0) {
			fprintf(stderr, "standin-share: max gpfn of dom%u: %s\n", doms[i], strerror(errno));
			return 1;
		}
		maxg[i] = mg;
		total += mg + 1;
	}
	refs = calloc(total, sizeof(*refs));
	if (!refs) {
		fprintf(stderr, "standin-share: out of memory for %" PRIu64 " pages\n", total);
		return 1;
	}
	for (int i = 0; i < ndoms; i++) {
		long got = scan_domain(fmem, doms[i], maxg[i], refs + n, &t);

		if (got < 0) {
			rc = 1;
			goto out;
		}
		n += got;
	}
	t_scan = now_s() - t0;
	qsort(refs, (size_t)n, sizeof(*refs), cmp_ref);
	for (long i = 0; i < n;) {
		long j = i + 1;

		while (j < n && refs[j].hash == refs[i].hash)
			j++;
		if (j - i > 1)
			share_group(xch, fmem, refs + i, (size_t)(j - i), &t);
		i = j;
	}
	printf("STANDIN-SHARE scanned=%lu unmappable=%lu groups=%lu pairs=%lu shared=%lu raced=%lu "
	       "differ=%lu nominate_fail=%lu e2big=%lu einval=%lu share_fail=%lu scan_s=%.1f total_s=%.1f\n",
	       t.scanned, t.unmappable, t.groups, t.pairs, t.shared, t.raced, t.differ, t.nom_fail,
	       t.nom_e2big, t.nom_einval, t.share_fail, t_scan, now_s() - t0);
out:
	free(refs);
	xenforeignmemory_close(fmem);
	xc_interface_close(xch);
	return rc;
}
