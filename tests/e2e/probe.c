/*
 * e2e-probe - read the hypervisor's sharing counters from inside dom0.
 *
 * DOC: Overview
 * The e2e harness needs the hypervisor's own numbers, independent of the
 * daemon, to judge it: xc_sharing_freed_pages (frames saved),
 * xc_sharing_used_frames (shared frames in use) and every domain's
 * shr_pages/tot_pages.  `xl info` rounds these to MiB; this prints pages.
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
 *
 * Invariant checked by `stats` (from mem_sharing.c): the sum of shr_pages
 * over all domains equals freed + used; a violation exits 3 (judged only on
 * a reading during which the counters did not move).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>

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

static int probe_control(xc_interface *xch, const char *arg)
{
	char *end;
	unsigned long dom;

	errno = 0;
	dom = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || dom >= 0x7ff0) {
		fprintf(stderr, "e2e-probe: bad domain id '%s'\n", arg);
		return 2;
	}
	if (xc_memshr_control(xch, (uint32_t)dom, 1)) {
		int err = errno;

		printf("E2E-PROBE control=%s errno=%d (%s)\n",
		       err == EOPNOTSUPP ? "EOPNOTSUPP" : err == ENOSYS ? "ENOSYS" : "error", err,
		       strerror(err));
		return 1;
	}
	printf("E2E-PROBE control=ok dom=%lu\n", dom);
	return 0;
}

int main(int argc, char **argv)
{
	xc_interface *xch;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "stats") || !strcmp(argv[1], "state")))
		;
	else if (argc == 3 && !strcmp(argv[1], "control"))
		;
	else {
		fprintf(stderr, "Usage: e2e-probe stats | e2e-probe state | e2e-probe control <domid>\n");
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		fprintf(stderr, "e2e-probe: xc_interface_open: %s\n", strerror(errno));
		return 1;
	}
	if (argc == 3)
		rc = probe_control(xch, argv[2]);
	else if (!strcmp(argv[1], "state"))
		rc = probe_state(xch);
	else
		rc = probe_stats(xch);
	xc_interface_close(xch);
	return rc;
}
