/*
 * e2e-spanning - make, on the real patched hypervisor, the plain share that
 * panics an unpatched Xen 4.17 host (hypervisor-patch 0008), and check that
 * it is refused with EDEADLK and changes nothing.
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
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xenctrl.h>
#include <xenforeignmemory.h>

#define GFN UINT64_C(0x100000)  /* above the donors' (absent) RAM */
#define PAGE 4096u

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

int main(int argc, char **argv)
{
	xenforeignmemory_handle *fm = NULL;
	xc_interface *xch = NULL;
	uint32_t a, b, c;
	int ret = 1, n, rc;

	if (argc != 4 || parse_dom(argv[1], &a) || parse_dom(argv[2], &b) ||
	    parse_dom(argv[3], &c) || a == b || b == c || a == c) {
		fprintf(stderr, "usage: e2e-spanning <domid a> <domid b> <domid c> (three empty domains)\n");
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	fm = xenforeignmemory_open(NULL, 0);
	if (!xch || !fm) {
		fprintf(stderr, "e2e-spanning: cannot open libxenctrl/libxenforeignmemory: %s\n",
			strerror(errno));
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
