/*
 * e2e-probe - read the hypervisor's sharing state from inside dom0.
 *
 * DOC: Overview
 * The e2e harness needs the hypervisor's own numbers, independent of the
 * daemon, to judge it: xc_sharing_freed_pages (frames saved),
 * xc_sharing_used_frames (shared frames in use), every domain's
 * shr_pages/tot_pages, and the state of a domain's sharing ring.  `xl info`
 * rounds the counters to MiB; this prints pages.
 *
 *   e2e-probe stats           E2E-PROBE freed=<n> used=<n>
 *                             E2E-PROBE dom=<id> tot=<n> shr=<n>   (each domain)
 *   e2e-probe control <dom>   xc_memshr_control(dom, enable): prints
 *                             "E2E-PROBE control=ok" or control=<errno name>
 *   e2e-probe state           one line per domain: E2E-PROBE dom=<id>
 *                             state=<flags> reason=<shutdown code> cpu_ns=<n>
 *                             tot=<n> shr=<n>  (the evidence when a guest is
 *                             lost: crashed, shut down, dying, or alive but
 *                             silent -- cpu_ns tells spinning from blocked)
 *   e2e-probe shr-trace <dom> <seconds> <rise>
 *                             reads the domain's shr_pages every 20 ms, and
 *                             every 1 ms from the arming to the zero (a
 *                             group move's eviction, dom0-init.sh).  SIGUSR1
 *                             arms it: the caller sends it once the daemon
 *                             says the domain is evicting.  Prints
 *                             E2E-PROBE shr-trace dom=<id> start=<n>
 *                             arm_ms=<t> rises_before_arm=<k> min=<n>
 *                             rises_before_zero=<k> gained_before_zero=<n>
 *                             zero_ms=<t> rose_ms=<t> end=<n> samples=<n>
 *                             (-1: never; the zero and the rises before it
 *                             are counted from the arming on).  A rise is a
 *                             reading above the one before it: something
 *                             shared a page of the domain; the first 16
 *                             rises are printed as they come, armed or not:
 *                             E2E-PROBE shr-rise t_ms=<t> from=<n> to=<n>
 *                             armed=<0|1>.  Returns once shr_pages is back
 *                             at <rise> after the zero, or after <seconds>.
 *   e2e-probe ring <dom>      the domain's sharing vm_event ring, read from
 *                             its page (mapped read-only) and Xen:
 *                             E2E-PROBE ring dom=<id> pfn=<gfn> enabled=<yes|no>
 *                             req_prod=<n> rsp_prod=<n> unanswered=<n>.
 *                             "enabled" asks Xen to enable the ring: EBUSY
 *                             means a helper's ring is enabled; if the call
 *                             succeeds, no ring was enabled, and it is
 *                             disabled again at once (exit 1).
 *   e2e-probe no-ring <dom>   sets the domain's HVM_PARAM_SHARING_RING_PFN to
 *                             0, as a toolstack that gives a guest no sharing
 *                             ring page leaves it (only before a ring is
 *                             enabled: an enabled ring keeps its page)
 *   e2e-probe shared <dom> <gfn>[,<gfn>...]   (gfns in hex)
 *                             how many of those gfns are on a frame shared
 *                             with at least one other gfn (debug_gfn >= 2):
 *                             E2E-PROBE shared dom=<id> asked=<n> shared=<k>
 *   e2e-probe dump <dom> <file> <pages>
 *                             copies up to <pages> of the domain's pages
 *                             (gfn 0 upwards, holes skipped) into <file>
 *                             through read-only mappings of 1024 gfns, for
 *                             bench-xxh3's raw hash rate over guest pages:
 *                             E2E-PROBE dump dom=<id> pages=<n>
 *   e2e-probe mapcost <dom> <pages>
 *                             where dom0's CPU goes when it reads a guest's
 *                             pages through privcmd as the daemon does: the
 *                             first <pages> present gfns (and as many holes,
 *                             gfns from 0x40000 up) mapped read-only in
 *                             batches of 1, 16, 64, 256 and 1024 gfns, each
 *                             way timed in the process's CPU time (user and
 *                             kernel: the hypercalls count) and wall time:
 *                               map    xenforeignmemory_map + _unmap only
 *                               hash   the same plus XXH3 over every page
 *                                      (the daemon's loop)
 *                               fixed  xenforeignmemory_map2 into one window
 *                                      reused with MAP_FIXED (the old batch
 *                                      is dropped by the next mmap), + XXH3
 *                               holes  map + unmap of hole gfns only
 *                               local  XXH3 over the same pages copied into
 *                                      dom0 (no mapping: the raw rate)
 *                             one line per way and batch size:
 *                             E2E-PROBE mapcost way=<w> batch=<b> pages=<n>
 *                             calls=<c> cpu_us=<t> wall_us=<t>
 *                             us_per_page=<t>; then, per way, the per-call
 *                             and per-page costs fitted over the batch
 *                             sizes (least squares of CPU time per call
 *                             against the batch size):
 *                             E2E-PROBE mapcost-fit way=<w> per_call_us=<a>
 *                             per_page_us=<b>
 *
 * Invariant checked by `stats` (from mem_sharing.c): the sum of shr_pages
 * over all domains equals freed + used; a violation exits 3 (judged only on
 * a reading during which the counters did not move).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenforeignmemory.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include <xen/hvm/params.h>
#include <xen/vm_event.h>

#define MAX_DOMAINS 64

static int probe_stats(xc_interface *xch)
{
	xc_domaininfo_t info[MAX_DOMAINS];
	long freed = -1, used = -1;
	uint64_t shr_sum = 0;
	int n = -1, tries;

	/*
	 * The counters and the domain list are separate hypercalls and a sharer
	 * may be working meanwhile: take the list between two equal readings
	 * of the counters, so the invariant is judged on one consistent state.
	 */
	for (tries = 0; tries < 20; tries++) {
		long f2, u2;

		freed = xc_sharing_freed_pages(xch);
		used = xc_sharing_used_frames(xch);
		n = xc_domain_getinfolist(xch, 0, MAX_DOMAINS, info);
		f2 = xc_sharing_freed_pages(xch);
		u2 = xc_sharing_used_frames(xch);
		if (freed < 0 || used < 0 || f2 < 0 || u2 < 0) {
			fprintf(stderr, "e2e-probe: sharing counters: %s\n", strerror(errno));
			return 1;
		}
		if (n < 0) {
			fprintf(stderr, "e2e-probe: xc_domain_getinfolist: %s\n", strerror(errno));
			return 1;
		}
		if (f2 == freed && u2 == used)
			break;
	}
	printf("E2E-PROBE freed=%ld used=%ld\n", freed, used);
	for (int i = 0; i < n; i++) {
		printf("E2E-PROBE dom=%u tot=%" PRIu64 " shr=%" PRIu64 "\n", info[i].domain,
		       (uint64_t)info[i].tot_pages, (uint64_t)info[i].shr_pages);
		shr_sum += info[i].shr_pages;
	}
	if (tries == 20) {
		printf("E2E-PROBE invariant=unsettled (counters moved during every reading)\n");
		return 0;
	}
	if (shr_sum != (uint64_t)(freed + used)) {
		printf("E2E-PROBE invariant=BROKEN sum_shr=%" PRIu64 " freed+used=%ld\n", shr_sum,
		       freed + used);
		return 3;
	}
	printf("E2E-PROBE invariant=ok sum_shr=%" PRIu64 "\n", shr_sum);
	return 0;
}

/* Xen's shutdown codes (public/sched.h SHUTDOWN_*), by value. */
static const char *shutdown_name(unsigned int code)
{
	static const char *const names[] = { "poweroff", "reboot", "suspend", "crash",
					     "watchdog", "soft_reset" };

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : "unknown";
}

static int probe_state(xc_interface *xch)
{
	xc_domaininfo_t info[MAX_DOMAINS];
	int n = xc_domain_getinfolist(xch, 0, MAX_DOMAINS, info);

	if (n < 0) {
		fprintf(stderr, "e2e-probe: xc_domain_getinfolist: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		uint32_t f = info[i].flags;
		unsigned int code = (f >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
		char state[8];
		size_t k = 0;

		/* Same letters as `xl list`: r b p s c d. */
		state[k++] = f & XEN_DOMINF_running ? 'r' : '-';
		state[k++] = f & XEN_DOMINF_blocked ? 'b' : '-';
		state[k++] = f & XEN_DOMINF_paused ? 'p' : '-';
		state[k++] = (f & XEN_DOMINF_shutdown) && code != SHUTDOWN_crash ? 's' : '-';
		state[k++] = (f & XEN_DOMINF_shutdown) && code == SHUTDOWN_crash ? 'c' : '-';
		state[k++] = f & XEN_DOMINF_dying ? 'd' : '-';
		state[k] = '\0';
		printf("E2E-PROBE dom=%u state=%s reason=%s cpu_ns=%" PRIu64 " tot=%" PRIu64
		       " shr=%" PRIu64 "\n",
		       info[i].domain, state,
		       f & XEN_DOMINF_shutdown ? shutdown_name(code) : "none",
		       (uint64_t)info[i].cpu_time, (uint64_t)info[i].tot_pages,
		       (uint64_t)info[i].shr_pages);
	}
	return 0;
}

static int parse_ulong(const char *arg, unsigned long max, const char *what, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || *out > max) {
		fprintf(stderr, "e2e-probe: bad %s '%s'\n", what, arg);
		return -1;
	}
	return 0;
}

static int parse_dom(const char *arg, uint32_t *out)
{
	unsigned long v;

	if (parse_ulong(arg, 0x7fef, "domain id", &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One domain's shr_pages; -1 when it is gone or unreadable. */
static int64_t dom_shr(xc_interface *xch, uint32_t dom)
{
	xc_domaininfo_t info;

	if (xc_domain_getinfolist(xch, dom, 1, &info) != 1 || info.domain != dom)
		return -1;
	return (int64_t)info.shr_pages;
}

static volatile sig_atomic_t trace_armed;

static void trace_arm(int sig)
{
	(void)sig;
	trace_armed = 1;
}

/*
 * The eviction of a domain moved to another group, seen by the hypervisor:
 * from the moment the daemon reports it evicting (the arming), its
 * shr_pages must fall to 0 without rising on the way (nothing of it is
 * shared while it evicts), then rise again (it shares in its new group).
 * Before the arming it may still merge legitimately, in its old group.
 */
static int probe_shr_trace(xc_interface *xch, char **argv)
{
	struct sigaction sa = { .sa_handler = trace_arm };
	unsigned long secs, rise;
	int64_t t0, now, start, prev, cur = 0, min = -1, end, arm_ms = -1, zero_ms = -1, rose_ms = -1;
	int64_t gained = 0;
	unsigned long samples = 0, rises = 0, rises_before_arm = 0, printed_rises = 0;
	uint32_t dom;

	if (parse_dom(argv[0], &dom) || parse_ulong(argv[1], 3600, "seconds", &secs) ||
	    parse_ulong(argv[2], 1ul << 30, "rise", &rise))
		return 2;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL)) {
		fprintf(stderr, "e2e-probe: shr-trace: sigaction: %s\n", strerror(errno));
		return 1;
	}
	t0 = now_ms();
	start = prev = end = dom_shr(xch, dom);
	if (start < 0) {
		fprintf(stderr, "e2e-probe: shr-trace: no domain %u\n", dom);
		return 1;
	}
	do {
		bool first_armed = false;

		/* between the arming and the zero, every millisecond: the zero
		 * may last only from the daemon's last unshare to its first
		 * share in the new group (one batch mapped and hashed) */
		usleep(trace_armed && zero_ms < 0 ? 1000 : 20000);
		now = now_ms();
		/* a reading taken after the signal counts as armed */
		if (trace_armed && arm_ms < 0) {
			arm_ms = now - t0;
			first_armed = true;
		}
		cur = dom_shr(xch, dom);
		if (cur < 0) {
			fprintf(stderr, "e2e-probe: shr-trace: domain %u gone after %" PRId64 " ms\n",
				dom, now - t0);
			break;
		}
		samples++;
		end = cur;
		if (cur > prev && zero_ms < 0 && printed_rises < 16) {
			printed_rises++;
			printf("E2E-PROBE shr-rise t_ms=%" PRId64 " from=%" PRId64 " to=%" PRId64
			       " armed=%d\n", now - t0, prev, cur, arm_ms >= 0);
		}
		if (arm_ms < 0) {
			rises_before_arm += cur > prev;
		} else if (zero_ms < 0) {
			if (first_armed || cur < min)
				min = cur;
			if (!first_armed && cur > prev) {
				rises++;
				gained += cur - prev;
			}
			if (cur == 0)
				zero_ms = now - t0;
		} else if (rose_ms < 0 && cur > 0) {
			rose_ms = now - t0;
		}
		prev = cur;
	} while (now - t0 < (int64_t)secs * 1000 && !(zero_ms >= 0 && cur >= (int64_t)rise));
	printf("E2E-PROBE shr-trace dom=%u start=%" PRId64 " arm_ms=%" PRId64 " rises_before_arm=%lu"
	       " min=%" PRId64 " rises_before_zero=%lu gained_before_zero=%" PRId64
	       " zero_ms=%" PRId64 " rose_ms=%" PRId64 " end=%" PRId64 " samples=%lu\n",
	       dom, start, arm_ms, rises_before_arm, min, rises, gained, zero_ms, rose_ms, end,
	       samples);
	return 0;
}

/*
 * The sharing ring as the stop protocol leaves it (docs/design.md, "The
 * stop protocol"): still enabled, and the requests no helper answered still
 * on it (req_prod ahead of rsp_prod).
 */
static int probe_ring(xc_interface *xch, const char *arg)
{
	xenforeignmemory_handle *fm;
	const vm_event_sring_t *sring;
	xen_pfn_t gfn;
	uint64_t pfn = 0;
	uint32_t dom, port;
	RING_IDX req, rsp;
	const char *enabled;
	int err = 0, rc = 0;

	if (parse_dom(arg, &dom))
		return 2;
	if (xc_hvm_param_get(xch, dom, HVM_PARAM_SHARING_RING_PFN, &pfn)) {
		fprintf(stderr, "e2e-probe: ring: d%u HVM_PARAM_SHARING_RING_PFN: %s\n", dom,
			strerror(errno));
		return 1;
	}
	if (!pfn) {
		printf("E2E-PROBE ring dom=%u pfn=0 enabled=no\n", dom);
		return 1;
	}
	if (!xc_memshr_ring_enable(xch, dom, &port)) {
		/* nobody's ring: undo our own enable at once */
		enabled = "no";
		rc = 1;
		if (xc_memshr_ring_disable(xch, dom))
			fprintf(stderr, "e2e-probe: ring: d%u disabling the ring it enabled: %s\n", dom,
				strerror(errno));
	} else if (errno == EBUSY) {
		enabled = "yes";
	} else {
		fprintf(stderr, "e2e-probe: ring: d%u xc_memshr_ring_enable: %s\n", dom,
			strerror(errno));
		enabled = "unknown";
		rc = 1;
	}
	fm = xenforeignmemory_open(NULL, 0);
	if (!fm) {
		fprintf(stderr, "e2e-probe: xenforeignmemory_open: %s\n", strerror(errno));
		return 1;
	}
	gfn = (xen_pfn_t)pfn;
	sring = xenforeignmemory_map(fm, dom, PROT_READ, 1, &gfn, &err);
	if (!sring || err) {
		fprintf(stderr, "e2e-probe: ring: d%u mapping gfn 0x%" PRIx64 ": %s\n", dom, pfn,
			strerror(sring ? -err : errno));
		if (sring)
			xenforeignmemory_unmap(fm, (void *)sring, 1);
		xenforeignmemory_close(fm);
		return 1;
	}
	req = sring->req_prod;
	rsp = sring->rsp_prod;
	xenforeignmemory_unmap(fm, (void *)sring, 1);
	xenforeignmemory_close(fm);
	printf("E2E-PROBE ring dom=%u pfn=0x%" PRIx64 " enabled=%s req_prod=%u rsp_prod=%u"
	       " unanswered=%u\n", dom, pfn, enabled, req, rsp, req - rsp);
	return rc;
}

static int probe_no_ring(xc_interface *xch, const char *arg)
{
	uint64_t pfn = 0;
	uint32_t dom;

	if (parse_dom(arg, &dom))
		return 2;
	if (xc_hvm_param_get(xch, dom, HVM_PARAM_SHARING_RING_PFN, &pfn) ||
	    xc_hvm_param_set(xch, dom, HVM_PARAM_SHARING_RING_PFN, 0)) {
		fprintf(stderr, "e2e-probe: no-ring: d%u HVM_PARAM_SHARING_RING_PFN: %s\n", dom,
			strerror(errno));
		return 1;
	}
	printf("E2E-PROBE no-ring dom=%u was_pfn=0x%" PRIx64 "\n", dom, pfn);
	return 0;
}

static int probe_shared(xc_interface *xch, const char *domarg, const char *list)
{
	unsigned long asked = 0, shared = 0;
	const char *p = list;
	uint32_t dom;

	if (parse_dom(domarg, &dom))
		return 2;
	while (*p) {
		char *end;
		unsigned long long gfn;

		errno = 0;
		gfn = strtoull(p, &end, 16);
		if (errno || end == p || (*end && *end != ',')) {
			fprintf(stderr, "e2e-probe: shared: bad gfn list at '%s'\n", p);
			return 2;
		}
		asked++;
		/* the gfns on the gfn's frame; -1 (EINVAL) for a private page */
		if (xc_memshr_debug_gfn(xch, dom, (unsigned long)gfn) >= 2)
			shared++;
		p = *end ? end + 1 : end;
	}
	printf("E2E-PROBE shared dom=%u asked=%lu shared=%lu\n", dom, asked, shared);
	return 0;
}

#define PRESENT_BATCH 1024

/*
 * The first `want` present pages of a domain, in gfn order: its gfns up to
 * its maximum gpfn mapped read-only PRESENT_BATCH at a time, each page
 * that maps handed to fn(arg, gfn, bytes) (the mapping is gone after the
 * call).  Returns the pages handed over, or -1 with the reason printed
 * (what: the command) when a mapping or fn fails.
 */
static long walk_present(xenforeignmemory_handle *fm, uint32_t dom, xen_pfn_t max_gpfn,
			 unsigned long want, const char *what,
			 int (*fn)(void *arg, xen_pfn_t gfn, const unsigned char *page), void *arg)
{
	static xen_pfn_t gfns[PRESENT_BATCH];
	static int errs[PRESENT_BATCH];
	unsigned long done = 0;

	for (xen_pfn_t base = 0; base <= max_gpfn && done < want; base += PRESENT_BATCH) {
		unsigned int n = 0;
		unsigned char *map;
		int bad = 0;

		while (n < PRESENT_BATCH && base + n <= max_gpfn) {
			gfns[n] = base + n;
			n++;
		}
		map = xenforeignmemory_map(fm, dom, PROT_READ, n, gfns, errs);
		if (!map) {
			fprintf(stderr, "e2e-probe: %s: d%u map at gfn 0x%lx: %s\n", what, dom,
				(unsigned long)base, strerror(errno));
			return -1;
		}
		for (unsigned int i = 0; i < n && done < want && !bad; i++) {
			if (errs[i])
				continue;
			bad = fn(arg, gfns[i], map + (size_t)i * XC_PAGE_SIZE);
			done += !bad;
		}
		xenforeignmemory_unmap(fm, map, n);
		if (bad)
			return -1;
	}
	return (long)done;
}

struct dump_to {
	FILE *out;
	const char *path;
};

static int dump_page(void *arg, xen_pfn_t gfn, const unsigned char *page)
{
	struct dump_to *to = arg;

	(void)gfn;
	if (fwrite(page, XC_PAGE_SIZE, 1, to->out) == 1)
		return 0;
	fprintf(stderr, "e2e-probe: dump: writing %s: %s\n", to->path, strerror(errno));
	return -1;
}

static int probe_dump(xc_interface *xch, char **argv)
{
	xenforeignmemory_handle *fm = NULL;
	struct dump_to to = { .path = argv[1] };
	unsigned long want;
	xen_pfn_t max_gpfn = 0;
	uint32_t dom;
	long done;
	int rc = 1;

	if (parse_dom(argv[0], &dom) || parse_ulong(argv[2], 1ul << 24, "pages", &want))
		return 2;
	if (xc_domain_maximum_gpfn(xch, dom, &max_gpfn) < 0) {
		fprintf(stderr, "e2e-probe: dump: d%u maximum gpfn: %s\n", dom, strerror(errno));
		return 1;
	}
	fm = xenforeignmemory_open(NULL, 0);
	to.out = fopen(argv[1], "w");
	if (!fm || !to.out) {
		fprintf(stderr, "e2e-probe: dump: %s: %s\n", fm ? argv[1] : "xenforeignmemory_open",
			strerror(errno));
		goto out;
	}
	done = walk_present(fm, dom, max_gpfn, want, "dump", dump_page, &to);
	if (done < 0)
		goto out;
	rc = 0;
	printf("E2E-PROBE dump dom=%u pages=%ld\n", dom, done);
out:
	if (to.out && fclose(to.out) && !rc) {
		fprintf(stderr, "e2e-probe: dump: closing %s: %s\n", argv[1], strerror(errno));
		rc = 1;
	}
	if (fm)
		xenforeignmemory_close(fm);
	return rc;
}


/* ---- mapcost ----------------------------------------------------------- */

#define MC_MAX_PAGES 8192
#define MC_HOLE_BASE 0x40000ul
enum mc_way { MC_MAP, MC_HASH, MC_FIXED, MC_HOLES, MC_LOCAL, MC_NR_WAYS };
static const char *const mc_way_name[MC_NR_WAYS] = { "map", "hash", "fixed", "holes", "local" };
static const unsigned int mc_batches[] = { 1, 16, 64, 256, 1024 };
#define MC_NR_BATCHES (sizeof(mc_batches) / sizeof(mc_batches[0]))

static double mc_clock(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* keeps the hashes alive so the compiler cannot drop them */
static volatile uint64_t mc_sink;

/*
 * One way at one batch size over the n gfns: returns the CPU microseconds
 * per call in *per_call, or -1 when a map failed.
 */
static int mc_run(xenforeignmemory_handle *fm, uint32_t dom, enum mc_way way, unsigned int batch,
		  const xen_pfn_t *gfns, unsigned int n, const unsigned char *local, double *per_call)
{
	static int errs[1024];
	unsigned long calls = 0;
	unsigned char *window = NULL;
	double c0, w0, cpu, wall;
	uint64_t h = 0;

	c0 = mc_clock(CLOCK_PROCESS_CPUTIME_ID);
	w0 = mc_clock(CLOCK_MONOTONIC);
	for (unsigned int at = 0; at < n; at += batch) {
		unsigned int k = n - at < batch ? n - at : batch;
		unsigned char *map;

		calls++;
		if (way == MC_LOCAL) {
			for (unsigned int i = 0; i < k; i++)
				h ^= XXH3_64bits(local + (size_t)(at + i) * XC_PAGE_SIZE, XC_PAGE_SIZE);
			continue;
		}
		if (way == MC_FIXED) {
			/* the window is always batch pages long: one VMA reused */
			map = xenforeignmemory_map2(fm, dom, window, PROT_READ, window ? MAP_FIXED : 0,
						    k, gfns + at, errs);
			if (map && window && map != window) {
				fprintf(stderr, "e2e-probe: mapcost: MAP_FIXED moved the window\n");
				xenforeignmemory_unmap(fm, map, k);
				map = NULL;
			}
		} else {
			map = xenforeignmemory_map(fm, dom, PROT_READ, k, gfns + at, errs);
		}
		if (!map) {
			fprintf(stderr, "e2e-probe: mapcost: %s batch %u: d%u map at gfn 0x%lx: %s\n",
				mc_way_name[way], batch, dom, (unsigned long)gfns[at], strerror(errno));
			if (window)
				xenforeignmemory_unmap(fm, window, batch);
			return -1;
		}
		if (way != MC_MAP && way != MC_HOLES)
			for (unsigned int i = 0; i < k; i++)
				if (!errs[i])
					h ^= XXH3_64bits(map + (size_t)i * XC_PAGE_SIZE, XC_PAGE_SIZE);
		if (way == MC_FIXED) {
			if (!window && k == batch)
				window = map;
			else if (!window || k != batch)
				xenforeignmemory_unmap(fm, map, k);
		} else {
			xenforeignmemory_unmap(fm, map, k);
		}
	}
	if (window)
		xenforeignmemory_unmap(fm, window, batch);
	cpu = mc_clock(CLOCK_PROCESS_CPUTIME_ID) - c0;
	wall = mc_clock(CLOCK_MONOTONIC) - w0;
	mc_sink ^= h;
	printf("E2E-PROBE mapcost way=%s batch=%u pages=%u calls=%lu cpu_us=%.0f wall_us=%.0f "
	       "us_per_page=%.2f\n", mc_way_name[way], batch, n, calls, cpu, wall, cpu / n);
	fflush(stdout);
	*per_call = cpu / (double)calls;
	return 0;
}

/* mapcost's copy of the pages it measures: their bytes and their gfns */
struct copy_to {
	unsigned char *local;
	xen_pfn_t *gfns;
	unsigned int n;
};

static int copy_page(void *arg, xen_pfn_t gfn, const unsigned char *page)
{
	struct copy_to *cp = arg;

	memcpy(cp->local + (size_t)cp->n * XC_PAGE_SIZE, page, XC_PAGE_SIZE);
	cp->gfns[cp->n++] = gfn;
	return 0;
}

static int probe_mapcost(xc_interface *xch, char **argv)
{
	static xen_pfn_t gfns[MC_MAX_PAGES], holes[MC_MAX_PAGES];
	struct copy_to cp = { 0 };
	xenforeignmemory_handle *fm = NULL;
	long done;
	unsigned char *local = NULL;
	unsigned long want;
	unsigned int n = 0;
	xen_pfn_t max_gpfn = 0;
	uint32_t dom;
	int rc = 1;

	if (parse_dom(argv[0], &dom) || parse_ulong(argv[1], MC_MAX_PAGES, "pages", &want))
		return 2;
	if (xc_domain_maximum_gpfn(xch, dom, &max_gpfn) < 0) {
		fprintf(stderr, "e2e-probe: mapcost: d%u maximum gpfn: %s\n", dom, strerror(errno));
		return 1;
	}
	fm = xenforeignmemory_open(NULL, 0);
	local = malloc((size_t)want * XC_PAGE_SIZE);
	if (!fm || !local) {
		fprintf(stderr, "e2e-probe: mapcost: %s\n", fm ? "out of memory" : strerror(errno));
		goto out;
	}
	/* the first present gfns, and their bytes for the local rate */
	cp.local = local;
	cp.gfns = gfns;
	done = walk_present(fm, dom, max_gpfn, want, "mapcost", copy_page, &cp);
	if (done < 0)
		goto out;
	n = (unsigned int)done;
	if (!n) {
		fprintf(stderr, "e2e-probe: mapcost: d%u has no present gfn\n", dom);
		goto out;
	}
	for (unsigned int i = 0; i < n; i++)
		holes[i] = MC_HOLE_BASE + i;
	printf("E2E-PROBE mapcost dom=%u pages=%u max_gpfn=0x%lx\n", dom, n, (unsigned long)max_gpfn);
	for (enum mc_way way = 0; way < MC_NR_WAYS; way++) {
		double x[MC_NR_BATCHES], y[MC_NR_BATCHES], sx = 0, sy = 0, sxx = 0, sxy = 0, a, b;
		unsigned int m = 0;

		for (unsigned int j = 0; j < MC_NR_BATCHES; j++) {
			if (way == MC_LOCAL && j)
				break;
			if (mc_run(fm, dom, way, mc_batches[j], way == MC_HOLES ? holes : gfns, n,
				   local, &y[m]))
				goto out;
			x[m++] = mc_batches[j];
		}
		if (m < 2)
			continue;
		for (unsigned int j = 0; j < m; j++) {
			sx += x[j];
			sy += y[j];
			sxx += x[j] * x[j];
			sxy += x[j] * y[j];
		}
		b = (m * sxy - sx * sy) / (m * sxx - sx * sx);
		a = (sy - b * sx) / m;
		printf("E2E-PROBE mapcost-fit way=%s per_call_us=%.1f per_page_us=%.2f\n",
		       mc_way_name[way], a, b);
	}
	rc = 0;
out:
	free(local);
	if (fm)
		xenforeignmemory_close(fm);
	return rc;
}

static int probe_control(xc_interface *xch, const char *arg)
{
	uint32_t dom;

	if (parse_dom(arg, &dom))
		return 2;
	if (xc_memshr_control(xch, dom, 1)) {
		int err = errno;

		printf("E2E-PROBE control=%s errno=%d (%s)\n",
		       err == EOPNOTSUPP ? "EOPNOTSUPP" : err == ENOSYS ? "ENOSYS" : "error", err,
		       strerror(err));
		return 1;
	}
	printf("E2E-PROBE control=ok dom=%u\n", dom);
	return 0;
}

int main(int argc, char **argv)
{
	xc_interface *xch;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "stats") || !strcmp(argv[1], "state")))
		;
	else if (argc == 3 && (!strcmp(argv[1], "control") || !strcmp(argv[1], "ring") ||
			       !strcmp(argv[1], "no-ring")))
		;
	else if (argc == 5 && (!strcmp(argv[1], "shr-trace") || !strcmp(argv[1], "dump")))
		;
	else if (argc == 4 && (!strcmp(argv[1], "mapcost") || !strcmp(argv[1], "shared")))
		;
	else {
		fprintf(stderr, "Usage: e2e-probe stats | state | control <domid> | ring <domid> |"
			" no-ring <domid> | shr-trace <domid> <seconds> <rise> |"
			" shared <domid> <gfn,...> | dump <domid> <file> <pages> |"
			" mapcost <domid> <pages>\n");
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		fprintf(stderr, "e2e-probe: xc_interface_open: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "control"))
		rc = probe_control(xch, argv[2]);
	else if (!strcmp(argv[1], "ring"))
		rc = probe_ring(xch, argv[2]);
	else if (!strcmp(argv[1], "no-ring"))
		rc = probe_no_ring(xch, argv[2]);
	else if (!strcmp(argv[1], "shr-trace"))
		rc = probe_shr_trace(xch, argv + 2);
	else if (!strcmp(argv[1], "dump"))
		rc = probe_dump(xch, argv + 2);
	else if (!strcmp(argv[1], "shared"))
		rc = probe_shared(xch, argv[2], argv[3]);
	else if (!strcmp(argv[1], "mapcost"))
		rc = probe_mapcost(xch, argv + 2);
	else if (!strcmp(argv[1], "state"))
		rc = probe_state(xch);
	else
		rc = probe_stats(xch);
	xc_interface_close(xch);
	return rc;
}
