/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ksm_guest.c - bench-ksm-guest: one guest's memory, copied into
 * MADV_MERGEABLE memory, for Linux KSM to deduplicate.
 *
 * Usage: bench-ksm-guest DOMID READY_FILE
 *
 * DOC: Overview
 *
 * The KSM half of ksm.bench.sh must work on exactly the pages the
 * xenshare half works on.  Rather than generating them a second way, this
 * helper reads them from the running (simulated) host the way shr-ideal
 * does: it maps every gfn of DOMID read-only through libxenforeignmemory
 * (xensim's drop-in library, LD_LIBRARY_PATH) in batches and copies each
 * populated page, zero pages included, into one private anonymous
 * mapping of the guest's size; gfns the host cannot map (holes) and the
 * sharing ring page (Xen's, not guest RAM; shr-ideal skips it too) stay
 * untouched, hence not present, so KSM never sees them.  The mapping is
 * madvise()d MADV_MERGEABLE (KSM scans it) and MADV_NOHUGEPAGE (KSM
 * merges 4 KiB pages; a huge page would first have to be split by ksmd,
 * work the xenshare side does not have to do either).
 *
 * When the copy is complete it writes "PAGES\n" (the number of pages
 * copied) to READY_FILE (through a temporary file and rename, so a reader
 * never sees half a line) and sleeps until a signal ends it, holding the
 * memory.  Exit 0 on SIGTERM/SIGINT, 1 on a Xen or memory error, 2 on bad
 * arguments.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xen/hvm/params.h>

#define PAGE 4096u
#define BATCH 1024u

static int write_ready(const char *path, uint64_t pages)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%llu\n", (unsigned long long)pages);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	static xen_pfn_t gfns[BATCH];
	static int err[BATCH];
	xenforeignmemory_handle *fmem;
	uint64_t ring_pfn = 0, copied = 0;
	unsigned long domid;
	xen_pfn_t max_gpfn;
	xc_interface *xch;
	uint8_t *mem;
	size_t len;
	sigset_t set;
	char *end;
	int sig;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-ksm-guest DOMID READY_FILE\n");
		return 2;
	}
	domid = strtoul(argv[1], &end, 10);
	if (end == argv[1] || *end || domid == 0 || domid > 0x7fef) {
		fprintf(stderr, "bench-ksm-guest: bad domain '%s'\n", argv[1]);
		return 2;
	}
	/* SIGTERM is taken by sigwait() below, never while copying half a page */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	xch = xc_interface_open(NULL, NULL, 0);
	fmem = xenforeignmemory_open(NULL, 0);
	if (!xch || !fmem) {
		fprintf(stderr, "bench-ksm-guest: cannot open the Xen libraries: %s\n",
			strerror(errno));
		return 1;
	}
	if (xc_domain_maximum_gpfn(xch, (uint32_t)domid, &max_gpfn) < 0) {
		fprintf(stderr, "bench-ksm-guest: d%lu maximum_gpfn: %s\n", domid, strerror(errno));
		return 1;
	}
	if (xc_hvm_param_get(xch, (uint32_t)domid, HVM_PARAM_SHARING_RING_PFN, &ring_pfn) < 0)
		ring_pfn = 0;
	len = (size_t)(max_gpfn + 1) * PAGE;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "bench-ksm-guest: d%lu: cannot allocate %zu bytes: %s\n", domid,
			len, strerror(errno));
		return 1;
	}
	if (madvise(mem, len, MADV_NOHUGEPAGE) || madvise(mem, len, MADV_MERGEABLE)) {
		fprintf(stderr, "bench-ksm-guest: madvise MADV_MERGEABLE: %s (kernel without KSM?)\n",
			strerror(errno));
		return 1;
	}
	for (uint64_t first = 0; first <= max_gpfn; first += BATCH) {
		unsigned int n = (unsigned int)(max_gpfn + 1 - first < BATCH ?
						max_gpfn + 1 - first : BATCH);
		const uint8_t *p;

		for (unsigned int i = 0; i < n; i++)
			gfns[i] = first + i;
		p = xenforeignmemory_map(fmem, (uint32_t)domid, PROT_READ, n, gfns, err);
		if (!p) {
			fprintf(stderr, "bench-ksm-guest: d%lu map of %u pages at gfn %#llx: %s\n",
				domid, n, (unsigned long long)first, strerror(errno));
			return 1;
		}
		for (unsigned int i = 0; i < n; i++) {
			if (err[i] || (ring_pfn && first + i == ring_pfn))
				continue;
			memcpy(mem + (first + i) * PAGE, p + (size_t)i * PAGE, PAGE);
			copied++;
		}
		xenforeignmemory_unmap(fmem, (void *)p, n);
	}
	xenforeignmemory_close(fmem);
	xc_interface_close(xch);
	if (write_ready(argv[2], copied)) {
		fprintf(stderr, "bench-ksm-guest: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (sigwait(&set, &sig))
		return 1;
	munmap(mem, len);
	return 0;
}
