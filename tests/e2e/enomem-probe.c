/*
 * e2e-enomem - the hypervisor side of the e2e's unshare-ENOMEM phase
 * (tests/e2e/phase-enomem.sh, docs/e2e.md "Unshare ENOMEM").
 *
 * DOC: Overview
 * The phase must leave the host with (almost) no free frame, so that a
 * guest's write to a shared page finds none, and then watch the patched
 * hypervisor pause the vCPU (hypervisor-patch 0004) until the daemon makes
 * memory available and resumes it.
 *
 *   e2e-enomem free              E2E-ENOMEM free_pages=<n> total_pages=<n>
 *                                outstanding_pages=<n>   (xc_physinfo)
 *   e2e-enomem hog-create        creates an empty HVM/HAP domain that never
 *                                runs (no vCPU context, no kernel, left
 *                                paused as Xen creates it) with a 16 MiB
 *                                paging pool; prints E2E-ENOMEM hog-domid=<id>
 *                                (xl's kernel loader is not involved: in
 *                                one run xl failed to decompress the kernel)
 *   e2e-enomem destroy <dom>     xc_domain_destroy
 *   e2e-enomem hog <dom> <leave> gives domain <dom> (the hog) every free host page but
 *                                <leave>: raises its max_pages and
 *                                populates gfns above 4 GiB for it
 *                                (2 MiB extents first, then 4 KiB ones),
 *                                so the count is exact, not xl's MiB.
 *   e2e-enomem waiters           the domains with a vCPU paused on an
 *                                unshare ENOMEM: E2E-ENOMEM waiters=<n>
 *                                domains=<id,...> (xc_memshr_enomem_waiters
 *                                of the patched libxenctrl, found with
 *                                dlsym: Debian's headers do not declare it;
 *                                run with the patched library first in
 *                                LD_LIBRARY_PATH, as the daemon is)
 *
 * The hog has no RAM of its own; the populated gfns lie above 4 GiB, it
 * never runs, and destroying it frees them.
 * Free pages are read again between extents: the sharer and the guests
 * keep moving the count, and the hog never takes more than free - leave.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>

#define HOG_GFN_BASE UINT64_C(0x100000)  /* 4 GiB: above the hog's RAM */
#define SUPER_ORDER 9u                   /* 2 MiB extents */
#define BATCH 64u                        /* extents per populate call */

static int read_free(xc_interface *xch, uint64_t *free_pages)
{
	xc_physinfo_t pi = { 0 };

	if (xc_physinfo(xch, &pi)) {
		fprintf(stderr, "e2e-enomem: xc_physinfo: %s\n", strerror(errno));
		return -1;
	}
	*free_pages = pi.free_pages;
	return 0;
}

static int cmd_free(xc_interface *xch)
{
	xc_physinfo_t pi = { 0 };

	if (xc_physinfo(xch, &pi)) {
		fprintf(stderr, "e2e-enomem: xc_physinfo: %s\n", strerror(errno));
		return 1;
	}
	printf("E2E-ENOMEM free_pages=%" PRIu64 " total_pages=%" PRIu64 " outstanding_pages=%" PRIu64 "\n",
	       (uint64_t)pi.free_pages, (uint64_t)pi.total_pages, (uint64_t)pi.outstanding_pages);
	return 0;
}

static int parse_u(const char *arg, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || *out > max) {
		fprintf(stderr, "e2e-enomem: bad number '%s'\n", arg);
		return -1;
	}
	return 0;
}

/*
 * Populate up to n extents of 2^order pages for dom from *next_gfn on;
 * returns how many Xen gave (it stops at the first it cannot allocate).
 */
static long populate(xc_interface *xch, uint32_t dom, unsigned int n, unsigned int order,
		     uint64_t *next_gfn)
{
	xen_pfn_t gfns[BATCH];
	int done;

	for (unsigned int i = 0; i < n; i++)
		gfns[i] = *next_gfn + ((uint64_t)i << order);
	done = xc_domain_populate_physmap(xch, dom, n, order, 0, gfns);
	if (done < 0)
		return -errno;
	*next_gfn += (uint64_t)done << order;
	return done;
}

static int cmd_hog(xc_interface *xch, const char *dom_s, const char *leave_s)
{
	unsigned long dom, leave;
	uint64_t free_pages, next = HOG_GFN_BASE, taken = 0, free0;
	unsigned int order = SUPER_ORDER;
	xc_domaininfo_t info;
	long done;

	if (parse_u(dom_s, 0x7fef, &dom) || parse_u(leave_s, 1ul << 30, &leave))
		return 2;
	if (xc_domain_getinfolist(xch, (uint32_t)dom, 1, &info) != 1 || info.domain != dom) {
		fprintf(stderr, "e2e-enomem: no domain %lu\n", dom);
		return 1;
	}
	if (read_free(xch, &free0))
		return 1;
	/* Room for everything there is, whatever the sharer frees meanwhile. */
	if (xc_domain_setmaxmem(xch, (uint32_t)dom, (info.tot_pages + free0 + 65536) * 4)) {
		fprintf(stderr, "e2e-enomem: xc_domain_setmaxmem(d%lu): %s\n", dom, strerror(errno));
		return 1;
	}
	for (;;) {
		uint64_t want, n;

		if (read_free(xch, &free_pages))
			return 1;
		if (free_pages <= leave)
			break;
		want = free_pages - leave;
		if (order && want < (UINT64_C(1) << order))
			order = 0;
		n = want >> order;
		if (n > BATCH)
			n = BATCH;
		done = populate(xch, (uint32_t)dom, (unsigned int)n, order, &next);
		if (done < 0) {
			fprintf(stderr, "e2e-enomem: populate d%lu %" PRIu64 " x order %u at gfn %#" PRIx64
				": %s\n", dom, n, order, next, strerror((int)-done));
			return 1;
		}
		taken += (uint64_t)done << order;
		if ((uint64_t)done < n) {
			if (!order)
				break; /* something else took the rest meanwhile */
			/* no 2 MiB run left (fragmented): go on in 4 KiB pages
			 * (gfns stay past the last extent) */
			order = 0;
		}
	}
	if (read_free(xch, &free_pages))
		return 1;
	printf("E2E-ENOMEM hog dom=%lu taken_pages=%" PRIu64 " free_before=%" PRIu64
	       " free_after=%" PRIu64 " leave=%lu\n", dom, taken, free0, free_pages, leave);
	return 0;
}

static int cmd_hog_create(xc_interface *xch)
{
	struct xen_domctl_createdomain cfg;
	uint32_t dom = 0;
	unsigned int mb = 16;

	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
	cfg.max_vcpus = 1;
	cfg.max_evtchn_port = 1023;
	cfg.max_grant_frames = -1;
	cfg.max_maptrack_frames = -1;
	cfg.grant_opts = XEN_DOMCTL_GRANT_version(1);
	cfg.arch.emulation_flags = XEN_X86_EMU_LAPIC; /* as a PVH guest */
	if (xc_domain_create(xch, &dom, &cfg)) {
		fprintf(stderr, "e2e-enomem: xc_domain_create: %s\n", strerror(errno));
		return 1;
	}
	/* p2m pages for the populated gfns (4 KiB ones need one per 2 MiB);
	 * the paging-pool domctl (XSA-409), since XEN_DOMCTL_SHADOW_OP_SET_
	 * ALLOCATION refuses a domain without vCPUs (EINVAL) */
	if (xc_set_paging_mempool_size(xch, dom, (uint64_t)mb << 20)) {
		fprintf(stderr, "e2e-enomem: paging pool of d%u: %s\n", dom, strerror(errno));
		xc_domain_destroy(xch, dom);
		return 1;
	}
	printf("E2E-ENOMEM hog-domid=%u\n", dom);
	return 0;
}

static int cmd_destroy(xc_interface *xch, const char *dom_s)
{
	unsigned long dom;

	if (parse_u(dom_s, 0x7fef, &dom) || dom == 0)
		return 2;
	if (xc_domain_destroy(xch, (uint32_t)dom)) {
		fprintf(stderr, "e2e-enomem: xc_domain_destroy(d%lu): %s\n", dom, strerror(errno));
		return 1;
	}
	printf("E2E-ENOMEM destroyed=%lu\n", dom);
	return 0;
}

typedef int enomem_waiters_fn(xc_interface *, uint16_t *, unsigned int *);

static int cmd_waiters(xc_interface *xch)
{
	enomem_waiters_fn *fn = (enomem_waiters_fn *)dlsym(RTLD_DEFAULT, "xc_memshr_enomem_waiters");
	uint16_t ids[64];
	unsigned int nr = 64;

	if (!fn) {
		printf("E2E-ENOMEM waiters=unsupported (this libxenctrl has no xc_memshr_enomem_waiters)\n");
		return 1;
	}
	if (fn(xch, ids, &nr)) {
		printf("E2E-ENOMEM waiters=error errno=%d (%s)\n", errno, strerror(errno));
		return 1;
	}
	printf("E2E-ENOMEM waiters=%u domains=", nr);
	for (unsigned int i = 0; i < nr && i < 64; i++)
		printf("%s%u", i ? "," : "", ids[i]);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	xc_interface *xch;
	int rc;

	if (!((argc == 2 && (!strcmp(argv[1], "free") || !strcmp(argv[1], "waiters") ||
			     !strcmp(argv[1], "hog-create"))) ||
	      (argc == 3 && !strcmp(argv[1], "destroy")) ||
	      (argc == 4 && !strcmp(argv[1], "hog")))) {
		fprintf(stderr, "Usage: e2e-enomem free | waiters | hog-create | destroy <domid> |"
			" hog <domid> <leave_pages>\n");
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		fprintf(stderr, "e2e-enomem: xc_interface_open: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "free"))
		rc = cmd_free(xch);
	else if (!strcmp(argv[1], "waiters"))
		rc = cmd_waiters(xch);
	else if (!strcmp(argv[1], "hog-create"))
		rc = cmd_hog_create(xch);
	else if (!strcmp(argv[1], "destroy"))
		rc = cmd_destroy(xch, argv[2]);
	else
		rc = cmd_hog(xch, argv[2], argv[3]);
	xc_interface_close(xch);
	return rc;
}
