/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shr-engine-merge - the engine's scan and verify+share steps (scan.c,
 * merge.c, and their glue in engine.c) through the public engine API,
 * against real xensim hosts: the integration counterpart of the unit
 * tests' fake Xen (tests/unit/fake_xen.c), run by engine_merge.test.sh.
 *
 * The engine links libxenctrl & co; xensim's drop-in libraries replace them
 * only if LD_LIBRARY_PATH names $O/simlib when the process starts, so the
 * program re-executes itself with it.  $O is found from the program's own
 * path ($O/bin/shr-engine-merge).  Each test starts from a fresh host
 * (xensim start -F in a child), builds guests whose contents make the
 * ideal savings known in closed form, and checks the hypervisor's own
 * counters, the engine's audit and xensim's oracle (verify).  If xensim or
 * its libraries are not built, the program says so and fails (the test
 * script skips before that).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <xenctrl.h>
#include <xenforeignmemory.h>

#include "libshare/engine.h"
#include "libshare/log.h"
#include "tests/unit/ut_common.h"

#define GUEST_MIB 8
#define GUEST_PAGES (GUEST_MIB * 256)
/* libxl's special pages above an HVM/PVH guest's RAM (xg_dom_x86.c),
 * the sharing ring among them */
#define SPECIAL_PAGES 8

static char obuild[PATH_MAX];       /* $O */
static char tmpdir[PATH_MAX];
static char sock[PATH_MAX + 16];
static pid_t sim_pid = -1;

/* Runs a xensim command line (without our LD_LIBRARY_PATH: the CLI uses
 * the real libraries for xl.cfg parsing).  Returns its exit status. */
static int xensim(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int xensim(const char *fmt, ...)
{
	char args[1024], cmd[PATH_MAX + 1200];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "env -u LD_LIBRARY_PATH %s/bin/xensim %s >/dev/null 2>&1",
		 obuild, args);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void sim_stop(void)
{
	if (sim_pid <= 0)
		return;
	xensim("stop");
	kill(sim_pid, SIGKILL);
	waitpid(sim_pid, NULL, 0);
	sim_pid = -1;
}

static int sim_start_opts(unsigned int mib, bool patched)
{
	sim_stop();
	unlink(sock);
	sim_pid = fork();
	if (sim_pid == 0) {
		char bin[PATH_MAX + 16], m[16];

		unsetenv("LD_LIBRARY_PATH");
		snprintf(bin, sizeof(bin), "%s/bin/xensim", obuild);
		snprintf(m, sizeof(m), "%u", mib);
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(127);
		char *argv[] = { "xensim", "start", "-F", "--socket", sock, "--mem", m,
				 "--dom0-mem", "64", patched ? "--patched" : NULL, NULL };

		execv(bin, argv);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		struct stat st;

		if (stat(sock, &st) == 0 && xensim("info") == 0)
			return 0;
		usleep(50000);
	}
	return -1;
}

static int sim_start(unsigned int mib)
{
	return sim_start_opts(mib, false);
}

/* Creates a guest of GUEST_MIB with the given profile; returns its domid. */
static uint32_t guest(const char *name, const char *profile, unsigned int seed)
{
	char cfg[PATH_MAX + 64], cmd[2 * PATH_MAX + 128], line[256];
	unsigned int domid = 0;
	FILE *f;

	snprintf(cfg, sizeof(cfg), "%s/%s.cfg", tmpdir, name);
	f = fopen(cfg, "w");
	if (!f)
		return 0;
	fprintf(f, "name = \"%s\"\ntype = \"pvh\"\nmemory = %d\nvcpus = 1\n"
		"sim_profile = \"%s\"\nsim_seed = %u\n", name, GUEST_MIB, profile, seed);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "env -u LD_LIBRARY_PATH %s/bin/xensim create %s 2>/dev/null",
		 obuild, cfg);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Domain %u", &domid) == 1)
			break;
	pclose(f);
	return domid;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Every pass looks at every page (SHR_SCAN_FULL): the cases count pages
 * scanned and hypercalls per pass, which a pass from the dirty log (what
 * xensim's log-dirty model gives SHR_SCAN_AUTO) changes; engine_dirty
 * proves that scanning. */
static struct shr_params params(unsigned int max_sharers)
{
	return (struct shr_params){
		.batch_pages = 256, .max_sharers = max_sharers, .pass_target_s = 0,
		.cpu_cap = 1, .reserve_pages = 0, .settle_ratio = 0.001,
		.protocol = SHR_PROTO_UPSTREAM, .scan_mode = SHR_SCAN_FULL,
	};
}

static void add(struct shr_engine *e, uint32_t domid, enum shr_mode mode, const char *group)
{
	struct shr_domain_policy pol = { .mode = mode };

	snprintf(pol.group, sizeof(pol.group), "%s", group);
	CU_ASSERT_EQUAL_FATAL(shr_engine_add_domain(e, domid, "t", &pol, NULL), 0);
}

/* Runs the engine until `passes` more full passes are done, one batch per
 * slice (a budget of 1 ns), so no pass runs beyond the goal. */
static void run_passes(struct shr_engine *e, unsigned int passes)
{
	struct shr_stats s;
	uint64_t goal;

	shr_engine_get_stats(e, &s);
	goal = s.full_scans + passes;
	for (int i = 0; i < 100000 && s.full_scans < goal; i++) {
		CU_ASSERT_FATAL(shr_engine_run(e, 1) >= 0);
		shr_engine_get_stats(e, &s);
	}
	CU_ASSERT_EQUAL(s.full_scans, goal);
}

/* A fresh host with two all-zero guests a and b, both opted in to one
 * group of an engine capped at max_sharers per frame. */
static struct shr_engine *two_zero_guests(unsigned int max_sharers, uint32_t *a, uint32_t *b)
{
	struct shr_params p = params(max_sharers);
	struct shr_engine *e = NULL;

	CU_ASSERT_EQUAL_FATAL(sim_start(256), 0);
	*a = guest("za", "zero=1.0", 1);
	*b = guest("zb", "zero=1.0", 2);
	CU_ASSERT_FATAL(*a && *b);
	CU_ASSERT_EQUAL_FATAL(shr_engine_alloc(&p, &e), 0);
	add(e, *a, SHR_MODE_ON, "g");
	add(e, *b, SHR_MODE_ON, "g");
	return e;
}

static struct shr_stats stats(struct shr_engine *e)
{
	struct shr_stats s;

	shr_engine_get_stats(e, &s);
	return s;
}

/* Proves the basic contract: two all-zero guests merge into one frame
 * (2N - 1 pages saved with an unbounded cap), a guest of unique pages
 * shares nothing, the audit is clean and every guest reads back what it
 * wrote. */
static void test_identical_only(void)
{
	struct shr_engine *e;
	uint32_t a, b, u;
	struct shr_stats s;

	CU_ASSERT_EQUAL_FATAL(sim_start(256), 0);
	a = guest("za", "zero=1.0", 1);
	b = guest("zb", "zero=1.0", 2);
	u = guest("un", "unique=1.0", 3);
	CU_ASSERT_FATAL(a && b && u);
	struct shr_params p = params(65535);
	CU_ASSERT_EQUAL_FATAL(shr_engine_alloc(&p, &e), 0);
	add(e, a, SHR_MODE_ON, "g");
	add(e, b, SHR_MODE_ON, "g");
	add(e, u, SHR_MODE_ON, "g");
	run_passes(e, 1);
	s = stats(e);
	CU_ASSERT_EQUAL(s.pages_sharing, 2 * GUEST_PAGES - 1);
	CU_ASSERT_EQUAL(s.pages_shared, 1);
	CU_ASSERT_EQUAL(s.zero_pages_sharing, 2 * GUEST_PAGES - 1);
	CU_ASSERT_EQUAL(s.pages_unshared, GUEST_PAGES);
	CU_ASSERT_EQUAL(shr_engine_audit(e), 0);
	run_passes(e, 2);
	s = stats(e);
	CU_ASSERT_EQUAL(s.pages_sharing, 2 * GUEST_PAGES - 1);
	CU_ASSERT_TRUE(s.settled);
	CU_ASSERT_EQUAL(shr_engine_audit(e), 0);
	shr_engine_free(e);
	CU_ASSERT_EQUAL(xensim("verify"), 0);
}

/* Proves the sharer cap: with max_sharers 16, 2N zero pages form
 * ceil(2N / 16) frames, so 2N - ceil(2N / 16) pages are saved. */
static void test_max_sharers(void)
{
	struct shr_engine *e;
	uint32_t a, b;
	struct shr_stats s;

	e = two_zero_guests(16, &a, &b);
	run_passes(e, 2);
	s = stats(e);
	CU_ASSERT_EQUAL(s.pages_shared, (2 * GUEST_PAGES + 15) / 16);
	CU_ASSERT_EQUAL(s.pages_sharing, 2 * GUEST_PAGES - (2 * GUEST_PAGES + 15) / 16);
	CU_ASSERT_EQUAL(shr_engine_audit(e), 0);
	shr_engine_free(e);
	CU_ASSERT_EQUAL(xensim("verify"), 0);
}

/* Proves the E2BIG reaction: a page someone else maps (here: this test,
 * standing in for QEMU) is refused by nominate; the engine shares every
 * other page, does not abort the pass, stays consistent, and shares the
 * page once the mapping is gone (after its backoff). */
static void test_e2big_page_refused(void)
{
	xenforeignmemory_handle *fmem;
	xc_interface *xch;
	struct shr_engine *e;
	xen_pfn_t gfn = 5;
	uint32_t a, b;
	void *held;
	int err = 0;

	CU_ASSERT_EQUAL_FATAL(sim_start(256), 0);
	a = guest("za", "zero=1.0", 1);
	b = guest("zb", "zero=1.0", 2);
	CU_ASSERT_FATAL(a && b);
	fmem = xenforeignmemory_open(NULL, 0);
	xch = xc_interface_open(NULL, NULL, 0);
	CU_ASSERT_FATAL(fmem && xch);
	held = xenforeignmemory_map(fmem, a, PROT_READ, 1, &gfn, &err);
	CU_ASSERT_FATAL(held && !err);

	struct shr_params p = params(65535);
	CU_ASSERT_EQUAL_FATAL(shr_engine_alloc(&p, &e), 0);
	add(e, a, SHR_MODE_ON, "g");
	add(e, b, SHR_MODE_ON, "g");
	run_passes(e, 1);
	CU_ASSERT_EQUAL(stats(e).pages_sharing, 2 * GUEST_PAGES - 2);
	CU_ASSERT(xc_memshr_debug_gfn(xch, a, gfn) < 0);         /* not shared */
	CU_ASSERT_EQUAL(xc_memshr_debug_gfn(xch, a, gfn + 1), 2 * GUEST_PAGES - 1);
	CU_ASSERT_EQUAL(shr_engine_audit(e), 0);

	xenforeignmemory_unmap(fmem, held, 1);
	run_passes(e, 3);           /* backed off one level: due within 2 passes */
	CU_ASSERT_EQUAL(stats(e).pages_sharing, 2 * GUEST_PAGES - 1);
	CU_ASSERT_EQUAL(shr_engine_audit(e), 0);
	shr_engine_free(e);
	xc_interface_close(xch);
	xenforeignmemory_close(fmem);
	CU_ASSERT_EQUAL(xensim("verify"), 0);
}

/* Proves that a share broken without a change of contents is found and
 * merged again: a writable mapping of a shared gfn unshares it (as a guest
 * rewriting the same bytes would), so its fingerprint stays the same and
 * only the hypervisor knows.  The engine must notice (its belief exceeds
 * Xen's shr_pages), count it in unshares_rewritten, and share it again;
 * and a pass with no such deficit asks the hypervisor nothing per page. */
static void test_rewritten_same_bytes(void)
{
	xenforeignmemory_handle *fmem;
	xc_interface *xch;
	struct shr_engine *e;
	xen_pfn_t gfns[2] = { 9, 200 };
	struct shr_stats s0, s1;
	uint32_t a, b;
	void *w;
	int err[2] = { 0, 0 };

	e = two_zero_guests(65535, &a, &b);
	run_passes(e, 4);
	CU_ASSERT_EQUAL_FATAL(stats(e).pages_sharing, 2 * GUEST_PAGES - 1);

	/* settled, nothing lost: a pass costs no per-page query (a few calls
	 * per domain: its count read at the start and the end of its pass,
	 * its p2m size, the mapping of its due pages; not one per page) */
	s0 = stats(e);
	run_passes(e, 1);
	s1 = stats(e);
	CU_ASSERT(s1.hypercalls - s0.hypercalls < 32);
	CU_ASSERT_EQUAL(s1.unshares_rewritten, 0);

	fmem = xenforeignmemory_open(NULL, 0);
	xch = xc_interface_open(NULL, NULL, 0);
	CU_ASSERT_FATAL(fmem && xch);
	w = xenforeignmemory_map(fmem, b, PROT_READ | PROT_WRITE, 2, gfns, err);
	CU_ASSERT_FATAL(w && !err[0] && !err[1]);
	xenforeignmemory_unmap(fmem, w, 2);
	CU_ASSERT(xc_memshr_debug_gfn(xch, b, gfns[0]) < 0);     /* private now */
	CU_ASSERT_EQUAL(stats(e).pages_sharing, 2 * GUEST_PAGES - 3);

	/* resting pages are due within 8 passes, then back off one level */
	run_passes(e, 12);
	s1 = stats(e);
	CU_ASSERT_EQUAL(s1.unshares_rewritten, 2);
	CU_ASSERT_EQUAL(s1.pages_sharing, 2 * GUEST_PAGES - 1);
	CU_ASSERT(xc_memshr_debug_gfn(xch, b, gfns[0]) >= 0);
	CU_ASSERT_EQUAL(shr_engine_audit(e), 0);
	shr_engine_free(e);
	xc_interface_close(xch);
	xenforeignmemory_close(fmem);
	CU_ASSERT_EQUAL(xensim("verify"), 0);
}

/* Writes `byte` over the whole of dom's gfn through a writable mapping. */
static void poke_page(xenforeignmemory_handle *fmem, uint32_t dom, xen_pfn_t gfn, int byte)
{
	int err = 0;
	void *w = xenforeignmemory_map(fmem, dom, PROT_READ | PROT_WRITE, 1, &gfn, &err);

	CU_ASSERT_FATAL(w && !err);
	memset(w, byte, 4096);
	xenforeignmemory_unmap(fmem, w, 1);
}

/* Proves the engine never trips Xen 4.17's share_pages() lock-order BUG,
 * which xensim models as a host panic: a client on a frame that also
 * backs a gfn of a third domain (here shared by another tool before the
 * engine started) is shared the other way round when the source is
 * private, and a pair whose gfns are already on one frame is just done.
 * Upstream and batched protocols alike; the host stays up, and the three
 * copies end on one frame. */
static void test_client_frame_spans_third_domain(void)
{
	for (int proto = 0; proto < 2; proto++) {
		xenforeignmemory_handle *fmem;
		xc_interface *xch;
		struct shr_engine *e;
		uint64_t ha, hb;
		uint32_t a, b, c;

		/* the batched op needs the patched hypervisor */
		CU_ASSERT_EQUAL_FATAL(sim_start_opts(256, proto == 1), 0);
		a = guest("ua", "unique=1.0", 1);
		b = guest("ub", "unique=1.0", 2);
		c = guest("uc", "unique=1.0", 3);
		CU_ASSERT_FATAL(a && b && c);
		fmem = xenforeignmemory_open(NULL, 0);
		xch = xc_interface_open(NULL, NULL, 0);
		CU_ASSERT_FATAL(fmem && xch);
		poke_page(fmem, c, 7, 0x5c);
		poke_page(fmem, a, 3, 0x5c);
		poke_page(fmem, b, 3, 0x5c);
		CU_ASSERT_FATAL(xc_memshr_nominate_gfn(xch, a, 3, &ha) == 0);
		CU_ASSERT_FATAL(xc_memshr_nominate_gfn(xch, b, 3, &hb) == 0);
		CU_ASSERT_FATAL(xc_memshr_share_gfns(xch, a, 3, ha, b, 3, hb) == 0);

		struct shr_params p = params(65535);

		p.protocol = proto ? SHR_PROTO_BATCHED : SHR_PROTO_UPSTREAM;
		CU_ASSERT_EQUAL_FATAL(shr_engine_alloc(&p, &e), 0);
		add(e, c, SHR_MODE_ON, "g");       /* c:7 is seen first: the source */
		add(e, a, SHR_MODE_ON, "g");
		add(e, b, SHR_MODE_ON, "g");
		run_passes(e, 2);
		CU_ASSERT_EQUAL(xensim("info"), 0);                     /* the host is up */
		CU_ASSERT_EQUAL(xc_memshr_debug_gfn(xch, c, 7), 3);     /* one frame, 3 gfns */
		CU_ASSERT_EQUAL(stats(e).pages_sharing, 2);
		CU_ASSERT_EQUAL(shr_engine_audit(e), 0);
		shr_engine_free(e);
		xc_interface_close(xch);
		xenforeignmemory_close(fmem);
		CU_ASSERT_EQUAL(xensim("verify"), 0);
	}
}

/* Proves groups never merge: two all-zero guests in different groups each
 * keep their own frame (2N - 2 saved, not 2N - 1). */
static void test_groups_apart(void)
{
	struct shr_engine *e;
	uint32_t a, b;
	struct shr_stats s;

	CU_ASSERT_EQUAL_FATAL(sim_start(256), 0);
	a = guest("za", "zero=1.0", 1);
	b = guest("zb", "zero=1.0", 2);
	CU_ASSERT_FATAL(a && b);
	struct shr_params p = params(65535);
	CU_ASSERT_EQUAL_FATAL(shr_engine_alloc(&p, &e), 0);
	add(e, a, SHR_MODE_ON, "red");
	add(e, b, SHR_MODE_ON, "blue");
	run_passes(e, 2);
	s = stats(e);
	CU_ASSERT_EQUAL(s.pages_shared, 2);
	CU_ASSERT_EQUAL(s.pages_sharing, 2 * (GUEST_PAGES - 1));
	CU_ASSERT_EQUAL(shr_engine_audit(e), 0);
	shr_engine_free(e);
}

/* Proves the modes: two guests with identical contents (same seed: half
 * zero, half the same random pages) in mode "zero" share only their zero
 * pages; a guest in mode "off" is not scanned at all. */
static void test_modes(void)
{
	struct shr_engine *e;
	uint32_t a, b, c;
	struct shr_stats s;

	CU_ASSERT_EQUAL_FATAL(sim_start(256), 0);
	a = guest("ma", "zero=0.5,unique=0.5", 9);
	b = guest("mb", "zero=0.5,unique=0.5", 9);
	c = guest("mc", "zero=1.0", 3);
	CU_ASSERT_FATAL(a && b && c);
	struct shr_params p = params(65535);
	CU_ASSERT_EQUAL_FATAL(shr_engine_alloc(&p, &e), 0);
	add(e, a, SHR_MODE_ZERO, "g");
	add(e, b, SHR_MODE_ZERO, "g");
	add(e, c, SHR_MODE_OFF, "g");
	run_passes(e, 2);
	s = stats(e);
	CU_ASSERT_EQUAL(s.pages_sharing, GUEST_PAGES - 1);   /* N/2 zero pages each */
	CU_ASSERT_EQUAL(s.zero_pages_sharing, s.pages_sharing);
	/* a's and b's RAM in each of two passes, and no more than their
	 * special pages above it that map (all but the sharing ring, which
	 * the engine leaves alone): none of c's */
	CU_ASSERT(s.pages_scanned >= 2 * 2 * GUEST_PAGES);
	CU_ASSERT(s.pages_scanned <= 2 * 2 * (GUEST_PAGES + SPECIAL_PAGES - 1));
	CU_ASSERT_EQUAL(shr_engine_audit(e), 0);
	shr_engine_free(e);
}

/* Proves removal mid-pass: a domain removed while the pass is inside it
 * leaves no index entry behind (audit), and the pass completes over the
 * others. */
static void test_remove_mid_pass(void)
{
	struct shr_engine *e;
	uint32_t a, b, c;
	struct shr_stats s;

	CU_ASSERT_EQUAL_FATAL(sim_start(256), 0);
	a = guest("ra", "zero=0.5,unique=0.5", 4);
	b = guest("rb", "zero=0.5,unique=0.5", 4);
	c = guest("rc", "zero=0.5,unique=0.5", 4);
	CU_ASSERT_FATAL(a && b && c);
	struct shr_params p = params(65535);
	p.batch_pages = 64;
	CU_ASSERT_EQUAL_FATAL(shr_engine_alloc(&p, &e), 0);
	add(e, a, SHR_MODE_ON, "g");
	add(e, b, SHR_MODE_ON, "g");
	add(e, c, SHR_MODE_ON, "g");
	/* a slice far shorter than a pass: the pass stops inside a domain */
	CU_ASSERT(shr_engine_run(e, 1) >= 0);
	s = stats(e);
	CU_ASSERT(s.pass_progress > 0 && s.pass_progress < 1);
	shr_engine_remove_domain(e, b);
	CU_ASSERT_EQUAL(shr_engine_audit(e), 0);
	CU_ASSERT_EQUAL(xensim("destroy %u", b), 0);
	run_passes(e, 2);
	s = stats(e);
	/* a and c are identical: every page of c joins a's frames */
	CU_ASSERT_EQUAL(s.engine_pages_sharing, GUEST_PAGES + GUEST_PAGES / 2 - 1);
	CU_ASSERT_EQUAL(shr_engine_audit(e), 0);
	shr_engine_free(e);
	CU_ASSERT_EQUAL(xensim("verify"), 0);
}

/* Proves the pass schedule does not run ahead while there is nothing to
 * scan: an engine polled many times with no domain, then given one,
 * never asks to sleep longer than one pass target, finishes passes, and
 * reports a pass time that is never negative (once it drifted one target
 * per poll, so the first pass waited minutes and pass_time_s went below
 * zero, which xenshare-stat rightly refuses). */
static void test_schedule_idle_then_domain(void)
{
	struct shr_engine *e;
	struct shr_stats s;
	uint32_t a;
	int64_t d;
	double t0;

	CU_ASSERT_EQUAL_FATAL(sim_start(256), 0);
	struct shr_params p = params(65535);
	p.pass_target_s = 0.5;
	CU_ASSERT_EQUAL_FATAL(shr_engine_alloc(&p, &e), 0);
	for (int i = 0; i < 40; i++)
		CU_ASSERT(shr_engine_run(e, 1000000) >= 0);
	a = guest("sa", "zero=0.5,unique=0.5", 5);
	CU_ASSERT_FATAL(a != 0);
	add(e, a, SHR_MODE_ON, "g");
	t0 = now_s();
	do {
		d = shr_engine_run(e, 100000000);
		CU_ASSERT_FATAL(d >= 0);
		CU_ASSERT(d <= 600000000);            /* at most one target (+ slack) */
		if (d > 0)
			nanosleep(&(struct timespec){ d / 1000000000, d % 1000000000 }, NULL);
		s = stats(e);
	} while (s.full_scans < 2 && now_s() - t0 < 10);
	CU_ASSERT(s.full_scans >= 2);
	CU_ASSERT(s.pass_time_s >= 0 && s.pass_time_s < 2);
	shr_engine_free(e);
	CU_ASSERT_EQUAL(xensim("verify"), 0);
}

int main(int argc, char **argv)
{
	static const struct ut_test tests[] = {
		UT(test_identical_only),
		UT(test_max_sharers),
		UT(test_e2big_page_refused),
		UT(test_rewritten_same_bytes),
		UT(test_client_frame_spans_third_domain),
		UT(test_groups_apart),
		UT(test_modes),
		UT(test_remove_mid_pass),
		UT(test_schedule_idle_then_domain),
	};
	char self[PATH_MAX], lib[PATH_MAX + 16], probe[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int failed;
	char *slash;

	(void)argc;
	if (n <= 0)
		return 2;
	self[n] = 0;
	snprintf(obuild, sizeof(obuild), "%s", self);
	for (int i = 0; i < 2 && (slash = strrchr(obuild, '/')); i++)
		*slash = 0;                       /* $O/bin/shr-engine-merge -> $O */
	snprintf(lib, sizeof(lib), "%s/simlib", obuild);
	snprintf(probe, sizeof(probe), "%s/libxenctrl.so.4.17", lib);
	if (access(probe, R_OK) != 0 ||
	    (snprintf(probe, sizeof(probe), "%s/bin/xensim", obuild), access(probe, X_OK) != 0)) {
		fprintf(stderr, "shr-engine-merge: xensim or its libraries are not built in %s\n",
			obuild);
		return 1;
	}
	if (!getenv("SHR_ENGINE_MERGE_CHILD")) {
		setenv("LD_LIBRARY_PATH", lib, 1);
		setenv("SHR_ENGINE_MERGE_CHILD", "1", 1);
		execv(self, argv);
		perror("shr-engine-merge: re-exec");
		return 2;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/shr-engine-merge.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	snprintf(sock, sizeof(sock), "%s/sim.sock", tmpdir);
	setenv("XENSIM_SOCKET", sock, 1);
	shr_log_set_level(SHR_LOG_WARNING);

	failed = UT_RUN("engine merge (xensim)", NULL, NULL, tests);
	sim_stop();
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "shr-engine-merge: could not remove %s\n", tmpdir);
	}
	return failed;
}
