/*
 * e2e-spanning - on the real patched hypervisor, the shares whose frames
 * back gfns of domains other than the pair's two: the plain share that
 * panics an unpatched Xen 4.17 host (hypervisor-patch 0008) must be refused
 * with EDEADLK and change nothing, and the batched op must merge two such
 * frames one gfn at a time (0009) with every counter exact.
 *
 * DOC: Overview
 *   e2e-spanning <a> <b> <c>
 *
 * share_pages() moves every gfn of the client frame but locks the p2m of
 * its two domains only: when the client frame also backs a gfn of a third
 * domain, upstream hits the mm lock-order BUG.  <a>, <b> and <c> are empty
 * domains made by `e2e-enomem hog-create` (they never run and have no
 * xenstore nodes, so the daemon ignores them and no guest data is at
 * stake).  Each gets one page at the same gfn with the same bytes; then:
 *   1. share(a, b): 0, the frame F backs a's and b's gfn (debug_gfn 2);
 *   2. share(source c, client a): a's frame F also backs b's gfn, b is
 *      neither of the call's domains: must fail with EDEADLK, F still 2;
 *   3. share(source a, client c), the safe direction: 0, F backs 3 gfns.
 * Prints one line and exits 0 when all three hold:
 *   E2E-SPANNING edeadlk sharers=2 reverse=3
 * otherwise a line naming the step that failed and exit 1; exit 2 on bad
 * arguments.  Run it only on a hypervisor with 0008: step 2 panics any
 * other.
 *
 *   e2e-spanning frames <a> <b> <c> <d> <gfn> <na> <nc>
 *
 * The frame-to-frame merge (0009).  Four empty domains as above; at <gfn>
 * (hex) and above, one content nobody else holds:
 *   frame X: <na> gfns of a (<gfn> .. <gfn>+na-1) and b's <gfn>;
 *   frame Y: <nc> gfns of c and d's <gfn>;
 * built with plain shares (each client frame backs only its own gfn).
 * Both frames back a gfn of a domain outside the pair (a, c), so the
 * batched op (xc_memshr_compare_share, found with dlsym in the patched
 * libxenctrl: run it with that library first in LD_LIBRARY_PATH) can merge
 * them only gfn by gfn.  One pair, source a's <gfn>, client c's <gfn>, must
 * return SHARED, and then:
 *   - every gfn of a, b, c and d is on one frame that backs na + nc + 2
 *     gfns (debug_gfn of each) -- with na or nc above 64 the merge crosses
 *     the hypervisor's preemption check;
 *   - every page still holds its bytes (read through read-only mappings
 *     before and after);
 *   - the hypervisor's counters moved by exactly one frame: nr_saved_mfns
 *     (xc_sharing_freed_pages) + 1, nr_shared_mfns (xc_sharing_used_frames)
 *     - 1, and no domain's shr_pages changed.
 * The counters are global: a guest that unshares a page during the call
 * changes them too, and then also its own shr_pages.  A call during which
 * any other domain's shr_pages moved is therefore not judged: the tool
 * reports it as "noisy" (exit 3) and the caller tries again at another gfn.
 * Prints
 *   E2E-SPANNING frames ok gfns=<n> moved=<k> freed=+1 used=-1 us=<t> ...
 * and exits 0, or a line naming what failed and exits 1.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <xenctrl.h>
#include <xenforeignmemory.h>

#include "../../hypervisor-patch/include/xenshare_cmpshr.h"

#define GFN UINT64_C(0x100000)  /* above the donors' (absent) RAM */
#define PAGE 4096u
#define MAX_FRAME_GFNS 4096u    /* na and nc at most */
#define MAX_DOMAINS 64

static int parse_dom(const char *arg, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || v == 0 || v > 0x7fef) {
		fprintf(stderr, "e2e-spanning: bad domain id '%s'\n", arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* One page at GFN with the test's bytes, and sharing enabled. */
static int setup_donor(xc_interface *xch, xenforeignmemory_handle *fm, uint32_t dom)
{
	xen_pfn_t gfn = GFN;
	xc_domaininfo_t info;
	int err = 0;
	void *p;

	if (xc_domain_getinfolist(xch, dom, 1, &info) != 1 || info.domain != dom) {
		fprintf(stderr, "e2e-spanning: no domain %u\n", dom);
		return -1;
	}
	if (xc_domain_setmaxmem(xch, dom, (info.tot_pages + 64) * 4) ||
	    xc_domain_populate_physmap_exact(xch, dom, 1, 0, 0, &gfn) ||
	    xc_memshr_control(xch, dom, 1)) {
		fprintf(stderr, "e2e-spanning: preparing d%u: %s\n", dom, strerror(errno));
		return -1;
	}
	p = xenforeignmemory_map(fm, dom, PROT_READ | PROT_WRITE, 1, &gfn, &err);
	if (!p || err) {
		fprintf(stderr, "e2e-spanning: map d%u gfn %#" PRIx64 ": %s\n", dom, GFN,
			strerror(p ? -err : errno));
		if (p)
			xenforeignmemory_unmap(fm, p, 1);
		return -1;
	}
	for (unsigned int i = 0; i < PAGE; i++)
		((unsigned char *)p)[i] = (unsigned char)(i * 7 + 0x5a);
	/* unmapped before nominate: a mapping is a reference nominate refuses */
	xenforeignmemory_unmap(fm, p, 1);
	return 0;
}

/* Nominates both pages and shares source into client; -1 + errno on error. */
static int share(xc_interface *xch, uint32_t src, uint32_t cli)
{
	uint64_t sh, ch;

	if (xc_memshr_nominate_gfn(xch, src, GFN, &sh) || xc_memshr_nominate_gfn(xch, cli, GFN, &ch))
		return -1;
	return xc_memshr_share_gfns(xch, src, GFN, sh, cli, GFN, ch);
}

/* The byte at offset i of every page of the frames test at base gfn. */
static unsigned char frames_byte(uint64_t base, unsigned int i)
{
	return (unsigned char)(i * 13 + 0x3c + base * 29);
}

/*
 * Gives dom n pages at base.. with the frames test's bytes (or checks them,
 * when check is set: the number of pages that differ, -1 on error).
 */
static int frames_pages(xc_interface *xch, xenforeignmemory_handle *fm, uint32_t dom,
			uint64_t base, unsigned int n, int check)
{
	static xen_pfn_t gfns[MAX_FRAME_GFNS];
	static int errs[MAX_FRAME_GFNS];
	xc_domaininfo_t info;
	unsigned char *p;
	int bad = 0;

	for (unsigned int k = 0; k < n; k++)
		gfns[k] = base + k;
	if (!check) {
		if (xc_domain_getinfolist(xch, dom, 1, &info) != 1 || info.domain != dom) {
			fprintf(stderr, "e2e-spanning: no domain %u\n", dom);
			return -1;
		}
		if (xc_domain_setmaxmem(xch, dom, (info.tot_pages + n + 64) * 4) ||
		    xc_domain_populate_physmap_exact(xch, dom, n, 0, 0, gfns) ||
		    xc_memshr_control(xch, dom, 1)) {
			fprintf(stderr, "e2e-spanning: preparing d%u (%u pages at %#" PRIx64 "): %s\n",
				dom, n, base, strerror(errno));
			return -1;
		}
	}
	p = xenforeignmemory_map(fm, dom, check ? PROT_READ : PROT_READ | PROT_WRITE, n, gfns,
				 errs);
	if (!p) {
		fprintf(stderr, "e2e-spanning: map d%u %u pages at %#" PRIx64 ": %s\n", dom, n, base,
			strerror(errno));
		return -1;
	}
	for (unsigned int k = 0; k < n; k++) {
		unsigned char *pg = p + (size_t)k * PAGE;

		if (errs[k]) {
			bad++;
			continue;
		}
		for (unsigned int i = 0; i < PAGE; i++) {
			if (!check) {
				pg[i] = frames_byte(base, i);
			} else if (pg[i] != frames_byte(base, i)) {
				bad++;
				break;
			}
		}
	}
	/* unmapped before any nominate or merge: a mapping is an extra reference */
	xenforeignmemory_unmap(fm, p, n);
	if (!check && bad) {
		fprintf(stderr, "e2e-spanning: d%u: %d of %u pages at %#" PRIx64 " not mappable\n",
			dom, bad, n, base);
		return -1;
	}
	return bad;
}

/* Shares src's gfn sg into cli's gfn cg with the plain ops; -1 + errno. */
static int share_gfn(xc_interface *xch, uint32_t src, uint64_t sg, uint32_t cli, uint64_t cg)
{
	uint64_t sh, ch;

	if (xc_memshr_nominate_gfn(xch, src, sg, &sh) || xc_memshr_nominate_gfn(xch, cli, cg, &ch))
		return -1;
	return xc_memshr_share_gfns(xch, src, sg, sh, cli, cg, ch);
}

/* One frame: dom's n gfns at base.. and other's gfn base. */
static int build_frame(xc_interface *xch, uint32_t dom, uint32_t other, uint64_t base,
		       unsigned int n)
{
	if (share_gfn(xch, dom, base, other, base)) {
		fprintf(stderr, "e2e-spanning: share d%u/d%u at %#" PRIx64 ": %s\n", dom, other,
			base, strerror(errno));
		return -1;
	}
	for (unsigned int k = 1; k < n; k++) {
		if (share_gfn(xch, dom, base, dom, base + k)) {
			fprintf(stderr, "e2e-spanning: share d%u %#" PRIx64 " into %#" PRIx64 ": %s\n",
				dom, base, base + k, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The hypervisor's counters and every domain's shr_pages, read together. */
struct hv_snap {
	long freed, used;
	int n;
	xc_domaininfo_t info[MAX_DOMAINS];
};

/* The list is taken between two equal readings of the counters (the
 * calls are separate; a guest may unshare meanwhile). */
static int hv_snap(xc_interface *xch, struct hv_snap *s)
{
	for (int tries = 0; tries < 20; tries++) {
		long f2, u2;

		s->freed = xc_sharing_freed_pages(xch);
		s->used = xc_sharing_used_frames(xch);
		s->n = xc_domain_getinfolist(xch, 0, MAX_DOMAINS, s->info);
		f2 = xc_sharing_freed_pages(xch);
		u2 = xc_sharing_used_frames(xch);
		if (s->freed < 0 || s->used < 0 || s->n < 0 || f2 < 0 || u2 < 0) {
			fprintf(stderr, "e2e-spanning: reading the sharing counters: %s\n",
				strerror(errno));
			return -1;
		}
		if (f2 == s->freed && u2 == s->used)
			return 0;
	}
	fprintf(stderr, "e2e-spanning: the sharing counters moved during 20 readings\n");
	return -1;
}

static uint64_t snap_shr(const struct hv_snap *s, uint32_t dom)
{
	for (int i = 0; i < s->n; i++)
		if (s->info[i].domain == dom)
			return s->info[i].shr_pages;
	return UINT64_MAX;
}

/* The domains (other than the four) whose shr_pages differ between a and b. */
static int snap_moved(const struct hv_snap *a, const struct hv_snap *b, const uint32_t *four,
		      char *why, size_t len)
{
	int moved = 0;
	size_t off = 0;

	why[0] = '\0';
	for (int i = 0; i < a->n; i++) {
		uint32_t d = a->info[i].domain;

		if (d == four[0] || d == four[1] || d == four[2] || d == four[3])
			continue;
		if (snap_shr(b, d) != a->info[i].shr_pages) {
			moved++;
			if (off < len)
				off += (size_t)snprintf(why + off, len - off, " d%u:%" PRIu64 "->%" PRIu64,
							d, (uint64_t)a->info[i].shr_pages,
							snap_shr(b, d));
		}
	}
	return moved;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int frames_main(xc_interface *xch, xenforeignmemory_handle *fm, char **argv)
{
	xenshare_cmpshr_fn *cmpshr;
	xenshare_cmpshr_pair_t pair;
	struct hv_snap before, after;
	uint32_t dom[4];
	unsigned long na, nc;
	unsigned long long base;
	unsigned int total;
	char *end, why[256];
	int rc, bad = 0, n;
	double t0, t1;

	for (int i = 0; i < 4; i++)
		if (parse_dom(argv[i], &dom[i]))
			return 2;
	errno = 0;
	base = strtoull(argv[4], &end, 16);
	if (errno || *end || end == argv[4] || base < GFN || base > (1ull << 36)) {
		fprintf(stderr, "e2e-spanning: bad base gfn '%s' (hex, from %#" PRIx64 ")\n",
			argv[4], GFN);
		return 2;
	}
	na = strtoul(argv[5], &end, 10);
	if (*end || end == argv[5] || na < 1 || na > MAX_FRAME_GFNS) {
		fprintf(stderr, "e2e-spanning: bad na '%s' (1..%u)\n", argv[5], MAX_FRAME_GFNS);
		return 2;
	}
	nc = strtoul(argv[6], &end, 10);
	if (*end || end == argv[6] || nc < 1 || nc > MAX_FRAME_GFNS) {
		fprintf(stderr, "e2e-spanning: bad nc '%s' (1..%u)\n", argv[6], MAX_FRAME_GFNS);
		return 2;
	}
	total = (unsigned int)(na + nc + 2);
	cmpshr = (xenshare_cmpshr_fn *)dlsym(RTLD_DEFAULT, XENSHARE_CMPSHR_SYMBOL);
	if (!cmpshr) {
		printf("E2E-SPANNING frames: no %s in this libxenctrl (run with the patched one)\n",
		       XENSHARE_CMPSHR_SYMBOL);
		return 1;
	}
	if (frames_pages(xch, fm, dom[0], base, (unsigned int)na, 0) < 0 ||
	    frames_pages(xch, fm, dom[1], base, 1, 0) < 0 ||
	    frames_pages(xch, fm, dom[2], base, (unsigned int)nc, 0) < 0 ||
	    frames_pages(xch, fm, dom[3], base, 1, 0) < 0)
		return 1;
	if (build_frame(xch, dom[0], dom[1], base, (unsigned int)na) ||
	    build_frame(xch, dom[2], dom[3], base, (unsigned int)nc))
		return 1;
	if ((n = xc_memshr_debug_gfn(xch, dom[0], base)) != (int)na + 1 ||
	    xc_memshr_debug_gfn(xch, dom[2], base) != (int)nc + 1) {
		printf("E2E-SPANNING frames setup: frame X backs %d gfns (want %lu), Y %d (want %lu)\n",
		       n, na + 1, xc_memshr_debug_gfn(xch, dom[2], base), nc + 1);
		return 1;
	}
	pair = (xenshare_cmpshr_pair_t){ .source_gfn = base, .client_gfn = base,
					 .source_domain = (uint16_t)dom[0],
					 .client_domain = (uint16_t)dom[2] };
	if (hv_snap(xch, &before))
		return 1;
	t0 = now_us();
	rc = cmpshr((struct xc_interface_core *)xch, &pair, 1);
	t1 = now_us();
	if (hv_snap(xch, &after))
		return 1;
	if (rc) {
		printf("E2E-SPANNING frames: compare_share failed: %s\n", strerror(errno));
		return 1;
	}
	if (pair.result != XENSHARE_CMPSHR_SHARED) {
		printf("E2E-SPANNING frames: pair (d%u, d%u) at %#llx: result %d (%s), not SHARED "
		       "(0 = SHARED, 2 = SPANNED: no frame-to-frame merge)\n", dom[0], dom[2], base,
		       pair.result, pair.result < 0 ? strerror(-pair.result) : "-");
		return 1;
	}
	if (snap_moved(&before, &after, dom, why, sizeof(why))) {
		printf("E2E-SPANNING frames noisy: other domains' shr_pages moved during the call:%s\n",
		       why);
		return 3;
	}
	/* one frame: each domain's gfns all on a frame of total gfns */
	for (int i = 0; i < 4; i++) {
		unsigned int cnt = i == 0 ? (unsigned int)na : i == 2 ? (unsigned int)nc : 1;

		for (unsigned int k = 0; k < cnt; k++) {
			n = xc_memshr_debug_gfn(xch, dom[i], base + k);
			if (n != (int)total) {
				printf("E2E-SPANNING frames: d%u gfn %#llx on a frame of %d gfns, "
				       "not %u\n", dom[i], base + k, n, total);
				return 1;
			}
		}
	}
	bad += frames_pages(xch, fm, dom[0], base, (unsigned int)na, 1);
	bad += frames_pages(xch, fm, dom[1], base, 1, 1);
	bad += frames_pages(xch, fm, dom[2], base, (unsigned int)nc, 1);
	bad += frames_pages(xch, fm, dom[3], base, 1, 1);
	if (bad) {
		printf("E2E-SPANNING frames: %d pages do not read back their bytes\n", bad);
		return 1;
	}
	for (int i = 0; i < 4; i++) {
		if (snap_shr(&before, dom[i]) != snap_shr(&after, dom[i])) {
			printf("E2E-SPANNING frames: d%u shr_pages %" PRIu64 " -> %" PRIu64 "\n",
			       dom[i], snap_shr(&before, dom[i]), snap_shr(&after, dom[i]));
			return 1;
		}
	}
	if (after.freed != before.freed + 1 || after.used != before.used - 1) {
		printf("E2E-SPANNING frames: counters not moved by one frame: freed %ld -> %ld, "
		       "used %ld -> %ld\n", before.freed, after.freed, before.used, after.used);
		return 1;
	}
	printf("E2E-SPANNING frames ok gfns=%u moved=%lu freed=%ld->%ld used=%ld->%ld "
	       "shr=%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 " unchanged, data intact, us=%.0f\n",
	       total, (na < nc ? na : nc) + 1, before.freed, after.freed, before.used, after.used,
	       snap_shr(&after, dom[0]), snap_shr(&after, dom[1]), snap_shr(&after, dom[2]),
	       snap_shr(&after, dom[3]), t1 - t0);
	return 0;
}

int main(int argc, char **argv)
{
	xenforeignmemory_handle *fm = NULL;
	xc_interface *xch = NULL;
	uint32_t a, b, c;
	int ret = 1, n, rc;
	bool frames = argc == 9 && !strcmp(argv[1], "frames");

	if (!frames && (argc != 4 || parse_dom(argv[1], &a) || parse_dom(argv[2], &b) ||
			parse_dom(argv[3], &c) || a == b || b == c || a == c)) {
		fprintf(stderr, "usage: e2e-spanning <domid a> <domid b> <domid c> (three empty domains)\n"
			"       e2e-spanning frames <a> <b> <c> <d> <gfn> <na> <nc> (four)\n");
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	fm = xenforeignmemory_open(NULL, 0);
	if (!xch || !fm) {
		fprintf(stderr, "e2e-spanning: cannot open libxenctrl/libxenforeignmemory: %s\n",
			strerror(errno));
		goto out;
	}
	if (frames) {
		ret = frames_main(xch, fm, argv + 2);
		goto out;
	}
	if (setup_donor(xch, fm, a) || setup_donor(xch, fm, b) || setup_donor(xch, fm, c))
		goto out;

	if (share(xch, a, b) || (n = xc_memshr_debug_gfn(xch, a, GFN)) != 2) {
		printf("E2E-SPANNING step1 share(d%u, d%u) failed: errno %d, sharers %d\n", a, b,
		       errno, xc_memshr_debug_gfn(xch, a, GFN));
		goto out;
	}
	rc = share(xch, c, a);
	if (rc == 0 || errno != EDEADLK) {
		printf("E2E-SPANNING step2 share(source d%u, client d%u over d%u's frame): %s\n", c, a,
		       b, rc == 0 ? "succeeded" : strerror(errno));
		goto out;
	}
	if ((n = xc_memshr_debug_gfn(xch, a, GFN)) != 2) {
		printf("E2E-SPANNING step2 refused but the frame now backs %d gfns, not 2\n", n);
		goto out;
	}
	if (share(xch, a, c) || (n = xc_memshr_debug_gfn(xch, a, GFN)) != 3) {
		printf("E2E-SPANNING step3 share(source d%u, client d%u) failed: errno %d, sharers %d\n",
		       a, c, errno, xc_memshr_debug_gfn(xch, a, GFN));
		goto out;
	}
	printf("E2E-SPANNING edeadlk sharers=2 reverse=%d\n", n);
	ret = 0;
out:
	if (fm)
		xenforeignmemory_close(fm);
	if (xch)
		xc_interface_close(xch);
	return ret;
}
