/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * churn_writer.c - bench-churn-writer: rewrites guest pages with content
 * that is the same in every guest, so that the daemon can merge them again
 * after every rewrite: the worst case for a deduplicator (each merge is
 * undone by the next write, a copy-on-write fault each time).
 *
 * Usage: bench-churn-writer --rate PAGES_PER_S --seconds S --pages N
 *                           [--fresh | --unique] [--mark-dirty] DOMID...
 *
 * DOC: Overview
 *
 * xensim's vCPUs write fresh random pages, which never become mergeable
 * again; this writer stands in for a guest that keeps rewriting, say, a
 * buffer with common content.  For each domain it rewrites gfns 0 .. N-1
 * round-robin, BATCH gfns at a time, through one writable
 * xenforeignmemory_map call (the hypervisor unshares each page for the
 * writable mapping, as it would on a guest write), writing into every page
 * a pattern that depends only on the gfn: the write breaks the share and
 * leaves the page identical to its twins in the other guests at once, so
 * the next look of the daemon can merge it again (a guest that keeps
 * re-initialising a buffer).  Content that changed between the daemon's
 * looks at two guests would never be seen as a pair.  Paced to --rate pages per second over all
 * domains.
 *
 * --fresh: the pattern also depends on the round, so every rewrite is new
 * content (still the same in every guest): a page can only be merged again
 * after the daemon has looked at it since the write.
 * --unique: the pattern also depends on the round and the domain, so no
 * two written pages are ever alike: nothing written can be merged, and
 * what the daemon spends on the writes is the cost of finding them.
 * --mark-dirty: after each batch, XEN_DMOP_modified_memory over its gfns,
 * as a device model does after writing into guest memory (QEMU's DMA):
 * writes through a foreign mapping reach the guest's dirty log only that
 * way, so a daemon scanning from the log sees them as it would a vCPU's.  Writes through writable foreign mappings reach xensim's
 * oracle when the mapping goes away, so `xensim verify` still judges them.
 * Stops after --seconds or on SIGTERM/SIGINT, then prints
 * {"pages_written":N,"seconds":S,"rounds":R}.
 * Exit 0, 1 on a Xen error, 2 on bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenforeignmemory.h>

#define PAGE 4096u
#define BATCH 64u

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* domid 0: the page's content is common to all guests; else it is this
 * guest's own (its first words name the gfn, the round and the domain) */
static void fill(uint8_t *page, uint64_t gfn, uint64_t salt, uint64_t domid)
{
	uint64_t *w = (uint64_t *)page;

	for (unsigned int i = 0; i < PAGE / sizeof(*w); i++)
		w[i] = 0x9e3779b97f4a7c15ULL ^ (gfn << 20) ^ (salt << 44) ^ i;
	if (domid) {
		w[0] = gfn;
		w[1] = salt;
		w[2] = domid;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "pages", required_argument, NULL, 'n' },
		{ "fresh", no_argument, NULL, 'F' },
		{ "unique", no_argument, NULL, 'U' },
		{ "mark-dirty", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	double rate = 0, seconds = 0, t0, t;
	unsigned long pages = 0;
	uint32_t domids[64];
	unsigned int nr_dom = 0;
	uint64_t written = 0, round = 0, pos = 0;
	xenforeignmemory_handle *fmem;
	xendevicemodel_handle *dmod = NULL;
	bool fresh = false, unique = false, mark = false;
	char *end = "";
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rate = strtod(optarg, &end); break;
		case 's': seconds = strtod(optarg, &end); break;
		case 'n': pages = strtoul(optarg, &end, 10); break;
		case 'F': fresh = true; continue;
		case 'U': unique = fresh = true; continue;
		case 'D': mark = true; continue;
		default: return 2;
		}
		if (*end) {
			fprintf(stderr, "bench-churn-writer: bad number \"%s\"\n", optarg);
			return 2;
		}
	}
	for (int a = optind; a < argc; a++) {
		unsigned long d = strtoul(argv[a], &end, 10);

		if (*end || end == argv[a] || d == 0 || d >= DOMID_FIRST_RESERVED || nr_dom == 64) {
			fprintf(stderr, "bench-churn-writer: bad domain id \"%s\"\n", argv[a]);
			return 2;
		}
		domids[nr_dom++] = (uint32_t)d;
	}
	if (!(rate > 0) || !(seconds > 0) || !pages || !nr_dom) {
		fprintf(stderr, "usage: bench-churn-writer --rate PAGES_PER_S --seconds S --pages N "
			"[--fresh | --unique] [--mark-dirty] DOMID...\n");
		return 2;
	}
	fmem = xenforeignmemory_open(NULL, 0);
	if (!fmem) {
		fprintf(stderr, "bench-churn-writer: xenforeignmemory_open: %s\n", strerror(errno));
		return 1;
	}
	if (mark && !(dmod = xendevicemodel_open(NULL, 0))) {
		fprintf(stderr, "bench-churn-writer: xendevicemodel_open: %s\n", strerror(errno));
		xenforeignmemory_close(fmem);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	t0 = now_s();
	while (!stop && (t = now_s() - t0) < seconds) {
		xen_pfn_t gfns[BATCH];
		int err[BATCH];
		unsigned int n = pages - pos < BATCH ? (unsigned int)(pages - pos) : BATCH;
		uint8_t *p;

		/* pacing: never ahead of rate * elapsed */
		if ((double)written > rate * t) {
			struct timespec ts = { 0, 2000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		for (unsigned int i = 0; i < n; i++)
			gfns[i] = pos + i;
		for (unsigned int d = 0; d < nr_dom; d++) {
			p = xenforeignmemory_map(fmem, domids[d], PROT_READ | PROT_WRITE, n, gfns, err);
			if (!p) {
				fprintf(stderr, "bench-churn-writer: d%u map of gfn %#lx+%u: %s\n", domids[d],
					(unsigned long)pos, n, strerror(errno));
				xenforeignmemory_close(fmem);
				return 1;
			}
			for (unsigned int i = 0; i < n; i++)
				if (!err[i]) {
					fill(p + (size_t)i * PAGE, gfns[i], fresh ? round + 1 : 0,
					     unique ? domids[d] : 0);
					written++;
				}
			xenforeignmemory_unmap(fmem, p, n);
			if (dmod && xendevicemodel_modified_memory(dmod, (domid_t)domids[d], pos, n)) {
				fprintf(stderr, "bench-churn-writer: d%u modified_memory of gfn %#lx+%u: %s\n",
					domids[d], (unsigned long)pos, n, strerror(errno));
				xenforeignmemory_close(fmem);
				xendevicemodel_close(dmod);
				return 1;
			}
		}
		pos += n;
		if (pos >= pages) {
			pos = 0;
			round++;
		}
	}
	printf("{\"pages_written\":%llu,\"seconds\":%.3f,\"rounds\":%llu}\n",
	       (unsigned long long)written, now_s() - t0, (unsigned long long)round);
	xenforeignmemory_close(fmem);
	if (dmod)
		xendevicemodel_close(dmod);
	return 0;
}
