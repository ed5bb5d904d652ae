/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simlibs_probe.c - a client of Debian's Xen library API, built against
 * Debian's headers and run with the drop-in libraries against a running
 * xensim, for tests/integration/simlibs_*.test.sh.
 *
 *   simlibs_probe stubs                 ENOSYS stubs of all four libraries
 *   simlibs_probe map-nominate DOM GFN  map 256 pages from GFN, check that a
 *                                       mapped page cannot be nominated
 *                                       (E2BIG) and can after unmap
 *   simlibs_probe xs-info DOM           read /local/domain/DOM/name through
 *                                       xenstore, print it
 *   simlibs_probe watch-introduce SECS  watch @introduceDomain, print
 *                                       "ready", exit 0 at the first event
 *                                       after the initial one (timeout: 1)
 *   simlibs_probe bench DOM PAGES SECS  map+unmap 256-page batches of
 *                                       DOM's first PAGES gfns; prints
 *                                       {"pages_per_s": N}
 *   simlibs_probe nominate DOM GFN      nominate one gfn, print its handle
 *   simlibs_probe share SDOM SGFN CDOM CGFN
 *                                       nominate both gfns and share the
 *                                       client's into the source's frame
 *                                       (no content check: Xen does none)
 *   simlibs_probe share-range SDOM CDOM FIRST LAST
 *                                       the same for each gfn FIRST..LAST of
 *                                       both; prints "shared N failed M"
 *   simlibs_probe watch-virq SECS       bind VIRQ_ENOMEM, print "ready",
 *                                       count its events for SECS seconds,
 *                                       print "events N"
 *   simlibs_probe xs-commit PATH VALUE  write PATH in a transaction and
 *                                       commit it; prints "committed" or
 *                                       "EAGAIN" (both exit 0)
 *   simlibs_probe logdirty-enable DOM   XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY
 *   simlibs_probe logdirty-off DOM      XEN_DOMCTL_SHADOW_OP_OFF
 *                                       (both print "ok" or "errno N")
 *   simlibs_probe logdirty-clean DOM    CLEAN (logdirty-peek: PEEK) of the
 *   simlibs_probe logdirty-peek DOM     whole p2m; prints {"pages": N,
 *                                       "dirty_count": N, "fault_count": N,
 *                                       "gfns": [the dirty gfns]}
 *   simlibs_probe mark DOM FIRST NR     xendevicemodel_modified_memory();
 *                                       prints "ok" or "errno N"
 *   simlibs_probe holes DOM FIRST N     map gfns FIRST .. FIRST+N-1 read-only
 *                                       with per-page errors; prints
 *                                       {"mapped": N, "holes": [[first,
 *                                       last], ...], "nominate_hole": errno
 *                                       of nominating the first hole}
 *   simlibs_probe logdirty-thief DOM MS [giveback]
 *                                       a second log-dirty user: CLEAN the
 *                                       whole p2m every 5 ms until a CLEAN
 *                                       took dirty bits, for MS ms at most
 *                                       (with giveback: hand each CLEAN's
 *                                       bits back with modified_memory at
 *                                       once); prints
 *                                       "ready" after the first CLEAN, then
 *                                       {"cleans": N, "stolen": N,
 *                                       "given_back": N, "paused_at_end": B}
 *
 * Exit status 0 when every check holds; each failing check prints one line
 * saying what was expected.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

#define BATCH 256

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} \
} while (0)

static unsigned long parse_ul(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s) {
		fprintf(stderr, "simlibs_probe: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static int probe_stubs(void)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	struct xs_handle *xs = xs_open(0);
	xen_domain_handle_t uuid = { 0 };
	void *addr = NULL;
	int rc;

	if (!xch || !fm || !xce || !xs) {
		printf("FAIL: cannot open the libraries (%s)\n", strerror(errno));
		return 1;
	}
	errno = 0;
	rc = xc_domain_sethandle(xch, 1, uuid);
	CHECK(rc == -1 && errno == ENOSYS, "xc_domain_sethandle: rc %d errno %d", rc, errno);
	errno = 0;
	CHECK(xc_cpupool_getinfo(xch, 0) == NULL && errno == ENOSYS,
	      "xc_cpupool_getinfo: errno %d", errno);
	errno = 0;
	rc = xc_memshr_fork(xch, 1, 2, false, false);
	CHECK(rc == -1 && errno == ENOSYS, "xc_memshr_fork: rc %d errno %d", rc, errno);
	errno = 0;
	CHECK(xenforeignmemory_map_resource(fm, 1, 0, 0, 0, 1, &addr, PROT_READ, 0) == NULL &&
	      errno == ENOSYS, "xenforeignmemory_map_resource: errno %d", errno);
	errno = 0;
	rc = xenevtchn_bind_unbound_port(xce, 1);
	CHECK(rc == -1 && errno == ENOSYS, "xenevtchn_bind_unbound_port: rc %d errno %d",
	      rc, errno);
	errno = 0;
	CHECK(!xs_introduce_domain(xs, 99, 0, 0) && errno == ENOSYS,
	      "xs_introduce_domain: errno %d", errno);
	errno = 0;
	CHECK(xs_control_command(xs, "log", NULL, 0) == NULL && errno == ENOSYS,
	      "xs_control_command: errno %d", errno);
	xs_close(xs);
	xenevtchn_close(xce);
	xenforeignmemory_close(fm);
	xc_interface_close(xch);
	return failures ? 1 : 0;
}

static int probe_map_nominate(uint32_t dom, unsigned long gfn)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xen_pfn_t gfns[BATCH];
	int err[BATCH];
	uint64_t handle = 0;
	unsigned int i, nonzero = 0;
	unsigned char *p;
	int rc;

	if (!xch || !fm) {
		printf("FAIL: cannot open the libraries (%s)\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < BATCH; i++)
		gfns[i] = gfn + i;
	p = xenforeignmemory_map(fm, dom, PROT_READ, BATCH, gfns, err);
	CHECK(p != NULL, "map of %d pages of d%u at gfn %#lx: %s", BATCH, dom, gfn,
	      strerror(errno));
	if (!p)
		return 1;
	for (i = 0; i < BATCH; i++) {
		CHECK(err[i] == 0, "page %u: err %d", i, err[i]);
		if (!err[i]) {
			size_t k;

			for (k = 0; k < XC_PAGE_SIZE && !p[i * XC_PAGE_SIZE + k]; k++)
				;
			nonzero += k < XC_PAGE_SIZE;
		}
	}
	printf("mapped %d pages, %u not all-zero\n", BATCH, nonzero);
	errno = 0;
	rc = xc_memshr_nominate_gfn(xch, dom, gfn, &handle);
	CHECK(rc == -1 && errno == E2BIG, "nominate of a mapped page: rc %d errno %d (%s)",
	      rc, errno, strerror(errno));
	CHECK(xenforeignmemory_unmap(fm, p, BATCH) == 0, "unmap: %s", strerror(errno));
	rc = xc_memshr_nominate_gfn(xch, dom, gfn, &handle);
	CHECK(rc == 0, "nominate after unmap: rc %d errno %d (%s)", rc, errno, strerror(errno));
	if (!rc)
		printf("handle = %#llx\n", (unsigned long long)handle);
	xenforeignmemory_close(fm);
	xc_interface_close(xch);
	return failures ? 1 : 0;
}

static int probe_xs_info(unsigned int dom)
{
	struct xs_handle *xs = xs_open(0);
	char path[64], *val, *dpath;
	unsigned int len = 0;

	if (!xs) {
		printf("FAIL: xs_open: %s\n", strerror(errno));
		return 1;
	}
	dpath = xs_get_domain_path(xs, dom);
	CHECK(dpath != NULL, "xs_get_domain_path(%u): %s", dom, strerror(errno));
	snprintf(path, sizeof(path), "/local/domain/%u", dom);
	if (dpath)
		CHECK(!strcmp(dpath, path), "domain path '%s', expected '%s'", dpath, path);
	free(dpath);
	snprintf(path, sizeof(path), "/local/domain/%u/name", dom);
	val = xs_read(xs, XBT_NULL, path, &len);
	CHECK(val != NULL, "read %s: %s", path, strerror(errno));
	if (val) {
		CHECK(strlen(val) == len, "length %u of '%s'", len, val);
		printf("name = %s\n", val);
	}
	free(val);
	CHECK(xs_is_domain_introduced(xs, dom), "domain %u not introduced", dom);
	xs_close(xs);
	return failures ? 1 : 0;
}

static int probe_watch_introduce(unsigned int secs)
{
	struct xs_handle *xs = xs_open(0);
	unsigned int num, seen = 0;
	char **v;

	if (!xs) {
		printf("FAIL: xs_open: %s\n", strerror(errno));
		return 1;
	}
	CHECK(xs_watch(xs, "@introduceDomain", "probe"), "xs_watch: %s", strerror(errno));
	/* xenstored fires every new watch once at once */
	v = xs_read_watch(xs, &num);
	CHECK(v && num == 2 && !strcmp(v[XS_WATCH_PATH], "@introduceDomain") &&
	      !strcmp(v[XS_WATCH_TOKEN], "probe"), "initial watch event");
	free(v);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(xs), .events = POLLIN };
		int r = poll(&pfd, 1, (int)secs * 1000);

		if (r <= 0)
			break;
		v = xs_read_watch(xs, &num);
		if (!v)
			break;
		if (!strcmp(v[XS_WATCH_PATH], "@introduceDomain") &&
		    !strcmp(v[XS_WATCH_TOKEN], "probe"))
			seen = 1;
		free(v);
		if (seen)
			break;
	}
	CHECK(seen, "no @introduceDomain event within %u s", secs);
	if (seen)
		printf("introduced\n");
	xs_close(xs);
	return failures ? 1 : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int probe_bench(uint32_t dom, unsigned long pages, unsigned int secs)
{
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xen_pfn_t gfns[BATCH];
	int err[BATCH];
	unsigned long next = 0, done = 0, failed = 0;
	volatile unsigned char sink = 0;
	double t0, t;

	if (!fm || pages < BATCH) {
		printf("FAIL: open (%s) or fewer than %d pages\n", strerror(errno), BATCH);
		return 1;
	}
	t0 = now_s();
	do {
		unsigned int i;
		unsigned char *p;

		for (i = 0; i < BATCH; i++)
			gfns[i] = (next + i) % pages;
		next = (next + BATCH) % pages;
		p = xenforeignmemory_map(fm, dom, PROT_READ, BATCH, gfns, err);
		if (!p) {
			printf("FAIL: map: %s\n", strerror(errno));
			return 1;
		}
		for (i = 0; i < BATCH; i++) {
			if (err[i])
				failed++;
			else
				sink ^= p[(size_t)i * XC_PAGE_SIZE];  /* touch: fault it in */
		}
		if (xenforeignmemory_unmap(fm, p, BATCH)) {
			printf("FAIL: unmap: %s\n", strerror(errno));
			return 1;
		}
		done += BATCH;
		t = now_s();
	} while (t - t0 < secs);
	(void)sink;
	printf("{\"pages_per_s\": %.0f, \"batch\": %d, \"pages\": %lu, \"failed_pages\": %lu}\n",
	       (double)done / (t - t0), BATCH, done, failed);
	xenforeignmemory_close(fm);
	return 0;
}

/* nominate (and share): frames built by hand, as a daemon would build them */
static int probe_share(uint32_t sdom, unsigned long sgfn, int share, uint32_t cdom,
		       unsigned long cgfn)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	uint64_t sh = 0, ch = 0;
	int rc;

	if (!xch) {
		printf("FAIL: xc_interface_open: %s\n", strerror(errno));
		return 1;
	}
	rc = xc_memshr_nominate_gfn(xch, sdom, sgfn, &sh);
	CHECK(rc == 0, "nominate d%u gfn %#lx: %s", sdom, sgfn, strerror(errno));
	if (!rc && share) {
		rc = xc_memshr_nominate_gfn(xch, cdom, cgfn, &ch);
		CHECK(rc == 0, "nominate d%u gfn %#lx: %s", cdom, cgfn, strerror(errno));
	}
	if (!rc && share) {
		rc = xc_memshr_share_gfns(xch, sdom, sgfn, sh, cdom, cgfn, ch);
		CHECK(rc == 0, "share d%u gfn %#lx into d%u gfn %#lx: %s", cdom, cgfn, sdom,
		      sgfn, strerror(errno));
	}
	if (!rc)
		printf("handle %llu\n", (unsigned long long)sh);
	xc_interface_close(xch);
	return failures ? 1 : 0;
}

static int probe_share_range(uint32_t sdom, uint32_t cdom, unsigned long first,
			     unsigned long last)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	unsigned long shared = 0, failed = 0;

	if (!xch) {
		printf("FAIL: xc_interface_open: %s\n", strerror(errno));
		return 1;
	}
	for (unsigned long g = first; g <= last; g++) {
		uint64_t sh, ch;

		if (xc_memshr_nominate_gfn(xch, sdom, g, &sh) ||
		    xc_memshr_nominate_gfn(xch, cdom, g, &ch) ||
		    xc_memshr_share_gfns(xch, sdom, g, sh, cdom, g, ch))
			failed++;
		else
			shared++;
	}
	printf("shared %lu failed %lu\n", shared, failed);
	xc_interface_close(xch);
	return 0;
}

/* VIRQ_ENOMEM of xen/include/public/xen.h, raised by the patched hypervisor */
#define PROBE_VIRQ_ENOMEM 12

static int probe_watch_virq(unsigned int secs)
{
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	unsigned int events = 0;
	double end;
	int port;

	if (!xce) {
		printf("FAIL: xenevtchn_open: %s\n", strerror(errno));
		return 1;
	}
	port = xenevtchn_bind_virq(xce, PROBE_VIRQ_ENOMEM);
	CHECK(port >= 0, "bind VIRQ_ENOMEM: %s", strerror(errno));
	if (port < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	end = now_s() + secs;
	for (double t = now_s(); t < end; t = now_s()) {
		struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };

		if (poll(&pfd, 1, (int)((end - t) * 1000) + 1) <= 0)
			continue;
		if (xenevtchn_pending(xce) == port) {
			events++;
			xenevtchn_unmask(xce, (evtchn_port_t)port);
		}
	}
	printf("events %u\n", events);
	xenevtchn_close(xce);
	return failures ? 1 : 0;
}

static int probe_xs_commit(const char *path, const char *value)
{
	struct xs_handle *xs = xs_open(0);
	xs_transaction_t t;

	if (!xs) {
		printf("FAIL: xs_open: %s\n", strerror(errno));
		return 1;
	}
	t = xs_transaction_start(xs);
	CHECK(t != XBT_NULL, "transaction start: %s", strerror(errno));
	CHECK(xs_write(xs, t, path, value, (unsigned int)strlen(value)), "write %s: %s", path,
	      strerror(errno));
	if (xs_transaction_end(xs, t, false))
		printf("committed\n");
	else if (errno == EAGAIN)
		printf("EAGAIN\n");
	else
		CHECK(0, "transaction end: %s", strerror(errno));
	xs_close(xs);
	return failures ? 1 : 0;
}

static int probe_holes(uint32_t dom, unsigned long first, unsigned long n)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xen_pfn_t *gfns = calloc(n ? n : 1, sizeof(*gfns));
	int *err = calloc(n ? n : 1, sizeof(*err));
	unsigned long mapped = 0, hole = ULONG_MAX, run = ULONG_MAX;
	int nominate_errno = 0, first_range = 1;
	uint64_t h;
	void *p;

	if (!xch || !fm || !gfns || !err || !n) {
		printf("FAIL: %s\n", strerror(errno));
		return 1;
	}
	for (unsigned long i = 0; i < n; i++)
		gfns[i] = first + i;
	p = xenforeignmemory_map(fm, dom, PROT_READ, n, gfns, err);
	CHECK(p != NULL, "map of %lu pages of d%u: %s", n, dom, strerror(errno));
	if (!p)
		return 1;
	printf("{\"holes\": [");
	for (unsigned long i = 0; i <= n; i++) {
		bool is_hole = i < n && err[i] == -EINVAL;

		CHECK(i == n || !err[i] || err[i] == -EINVAL, "gfn %#lx: err %d", first + i, err[i]);
		if (i < n && !err[i])
			mapped++;
		if (is_hole && run == ULONG_MAX)
			run = i;
		if (!is_hole && run != ULONG_MAX) {
			printf("%s[%lu, %lu]", first_range ? "" : ", ", first + run, first + i - 1);
			first_range = 0;
			if (hole == ULONG_MAX)
				hole = first + run;
			run = ULONG_MAX;
		}
	}
	xenforeignmemory_unmap(fm, p, n);
	if (hole != ULONG_MAX && xc_memshr_nominate_gfn(xch, dom, hole, &h) < 0)
		nominate_errno = errno;
	printf("], \"mapped\": %lu, \"nominate_hole\": %d}\n", mapped, nominate_errno);
	free(gfns);
	free(err);
	xenforeignmemory_close(fm);
	xc_interface_close(xch);
	return failures ? 1 : 0;
}

/* Prints "ok", or "errno N" (exit 0 either way: the test judges). */
static int print_rc(int rc)
{
	if (rc < 0)
		printf("errno %d\n", errno);
	else
		printf("ok\n");
	return 0;
}

static int probe_shadow(uint32_t dom, unsigned int sop)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	int rc;

	if (!xch) {
		printf("FAIL: xc_interface_open: %s\n", strerror(errno));
		return 1;
	}
	rc = print_rc(xc_shadow_control(xch, dom, sop, NULL, 0));
	xc_interface_close(xch);
	return rc;
}

static int probe_mark(uint32_t dom, unsigned long first, unsigned long nr)
{
	xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
	int rc;

	if (!dm) {
		printf("FAIL: xendevicemodel_open: %s\n", strerror(errno));
		return 1;
	}
	rc = print_rc(xendevicemodel_modified_memory(dm, (domid_t)dom, first, (uint32_t)nr));
	xendevicemodel_close(dm);
	return rc;
}

static int test_bit_(const unsigned long *b, uint64_t i)
{
	return (int)(b[i / (8 * sizeof(*b))] >> (i % (8 * sizeof(*b))) & 1);
}

static int probe_logdirty_op(uint32_t dom, unsigned int sop)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	DECLARE_HYPERCALL_BUFFER(unsigned long, bitmap);
	xc_shadow_op_stats_t st = { 0, 0 };
	xen_pfn_t nr = 0;
	int pages, first = 1;
	long long r;

	if (!xch || xc_domain_nr_gpfns(xch, dom, &nr) < 0) {
		printf("FAIL: d%u: %s\n", dom, strerror(errno));
		return 1;
	}
	pages = (int)((nr + 8 * XC_PAGE_SIZE - 1) / (8 * XC_PAGE_SIZE));
	bitmap = xc_hypercall_buffer_alloc_pages(xch, bitmap, pages);
	CHECK(bitmap != NULL, "bitmap of %d pages: %s", pages, strerror(errno));
	if (!bitmap)
		return 1;
	r = xc_logdirty_control(xch, dom, sop, HYPERCALL_BUFFER(bitmap), nr, 0, &st);
	if (r < 0) {
		printf("errno %d\n", errno);
	} else {
		CHECK(r == (long long)nr, "pages %lld, asked %lu", r, (unsigned long)nr);
		printf("{\"pages\": %lld, \"dirty_count\": %u, \"fault_count\": %u, \"gfns\": [",
		       r, st.dirty_count, st.fault_count);
		for (uint64_t g = 0; g < nr; g++)
			if (test_bit_(bitmap, g)) {
				printf("%s%llu", first ? "" : ", ", (unsigned long long)g);
				first = 0;
			}
		printf("]}\n");
	}
	xc_hypercall_buffer_free_pages(xch, bitmap, pages);
	xc_interface_close(xch);
	return failures ? 1 : 0;
}

static int probe_logdirty_thief(uint32_t dom, unsigned int ms, int giveback)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
	DECLARE_HYPERCALL_BUFFER(unsigned long, bitmap);
	struct xen_dm_op_modified_memory_extent *x = NULL;
	unsigned long cleans = 0, stolen = 0, given = 0;
	xen_pfn_t nr = 0;
	xc_dominfo_t di;
	double end;
	int pages;

	if (!xch || !dm || xc_domain_nr_gpfns(xch, dom, &nr) < 0) {
		printf("FAIL: d%u: %s\n", dom, strerror(errno));
		return 1;
	}
	pages = (int)((nr + 8 * XC_PAGE_SIZE - 1) / (8 * XC_PAGE_SIZE));
	bitmap = xc_hypercall_buffer_alloc_pages(xch, bitmap, pages);
	x = calloc(nr, sizeof(*x));
	if (!bitmap || !x) {
		printf("FAIL: %s\n", strerror(errno));
		return 1;
	}
	end = now_s() + ms / 1000.0;
	do {
		uint32_t n = 0;
		long long r = xc_logdirty_control(xch, dom, XEN_DOMCTL_SHADOW_OP_CLEAN,
						  HYPERCALL_BUFFER(bitmap), nr, 0, NULL);

		CHECK(r == (long long)nr, "CLEAN of d%u: %lld (%s)", dom, r, strerror(errno));
		if (r != (long long)nr)
			break;
		/* the dirty gfns, one extent per run */
		for (uint64_t g = 0; g < nr; g++) {
			if (!test_bit_(bitmap, g))
				continue;
			stolen++;
			if (n && x[n - 1].first_pfn + x[n - 1].nr == g)
				x[n - 1].nr++;
			else
				x[n++] = (struct xen_dm_op_modified_memory_extent){ .first_pfn = g, .nr = 1 };
		}
		if (giveback && n) {
			CHECK(xendevicemodel_modified_memory_bulk(dm, (domid_t)dom, x, n) == 0,
			      "modified_memory of %u extents: %s", n, strerror(errno));
			for (uint32_t i = 0; i < n; i++)
				given += x[i].nr;
		}
		if (!cleans++) {
			printf("ready\n");
			fflush(stdout);
		}
		/* one theft is the point: a live save of a small guest on an
		 * idle machine ends its live phase within tens of ms once its
		 * next read finds nothing dirty */
		if (stolen)
			break;
		usleep(5000);
	} while (now_s() < end);
	di.paused = 0;
	CHECK(xc_domain_getinfo(xch, dom, 1, &di) == 1, "getinfo d%u: %s", dom, strerror(errno));
	printf("{\"cleans\": %lu, \"stolen\": %lu, \"given_back\": %lu, \"paused_at_end\": %s}\n",
	       cleans, stolen, given, di.paused ? "true" : "false");
	free(x);
	xc_hypercall_buffer_free_pages(xch, bitmap, pages);
	xendevicemodel_close(dm);
	xc_interface_close(xch);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "stubs"))
		return probe_stubs();
	if (argc == 4 && !strcmp(argv[1], "map-nominate"))
		return probe_map_nominate((uint32_t)parse_ul(argv[2]), parse_ul(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "xs-info"))
		return probe_xs_info((unsigned int)parse_ul(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "watch-introduce"))
		return probe_watch_introduce((unsigned int)parse_ul(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "bench"))
		return probe_bench((uint32_t)parse_ul(argv[2]), parse_ul(argv[3]),
				   (unsigned int)parse_ul(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "nominate"))
		return probe_share((uint32_t)parse_ul(argv[2]), parse_ul(argv[3]), 0, 0, 0);
	if (argc == 6 && !strcmp(argv[1], "share"))
		return probe_share((uint32_t)parse_ul(argv[2]), parse_ul(argv[3]), 1,
				   (uint32_t)parse_ul(argv[4]), parse_ul(argv[5]));
	if (argc == 6 && !strcmp(argv[1], "share-range"))
		return probe_share_range((uint32_t)parse_ul(argv[2]), (uint32_t)parse_ul(argv[3]),
					 parse_ul(argv[4]), parse_ul(argv[5]));
	if (argc == 3 && !strcmp(argv[1], "watch-virq"))
		return probe_watch_virq((unsigned int)parse_ul(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "xs-commit"))
		return probe_xs_commit(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "logdirty-enable"))
		return probe_shadow((uint32_t)parse_ul(argv[2]), XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY);
	if (argc == 3 && !strcmp(argv[1], "logdirty-off"))
		return probe_shadow((uint32_t)parse_ul(argv[2]), XEN_DOMCTL_SHADOW_OP_OFF);
	if (argc == 3 && !strcmp(argv[1], "logdirty-clean"))
		return probe_logdirty_op((uint32_t)parse_ul(argv[2]), XEN_DOMCTL_SHADOW_OP_CLEAN);
	if (argc == 3 && !strcmp(argv[1], "logdirty-peek"))
		return probe_logdirty_op((uint32_t)parse_ul(argv[2]), XEN_DOMCTL_SHADOW_OP_PEEK);
	if (argc == 5 && !strcmp(argv[1], "holes"))
		return probe_holes((uint32_t)parse_ul(argv[2]), parse_ul(argv[3]), parse_ul(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "mark"))
		return probe_mark((uint32_t)parse_ul(argv[2]), parse_ul(argv[3]), parse_ul(argv[4]));
	if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "giveback"))) &&
	    !strcmp(argv[1], "logdirty-thief"))
		return probe_logdirty_thief((uint32_t)parse_ul(argv[2]),
					    (unsigned int)parse_ul(argv[3]), argc == 5);
	fprintf(stderr, "usage: simlibs_probe stubs | map-nominate DOM GFN | xs-info DOM |"
		" watch-introduce SECS | bench DOM PAGES SECS | nominate DOM GFN |"
		" share SDOM SGFN CDOM CGFN | share-range SDOM CDOM FIRST LAST |"
		" watch-virq SECS | xs-commit PATH VALUE | logdirty-enable DOM |"
		" logdirty-off DOM | logdirty-clean DOM | logdirty-peek DOM |"
		" mark DOM FIRST NR | holes DOM FIRST N | logdirty-thief DOM MS [giveback]\n");
	return 2;
}
