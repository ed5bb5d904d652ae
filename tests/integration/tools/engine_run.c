/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * engine_run.c - shr-engine-run: drives the libshare engine directly, the
 * way the daemon does (run slices, sleep what the engine asks, handle
 * events), for the engine's own integration tests and benchmarks.
 *
 * Usage: shr-engine-run [options] DOMID[:GROUP[:MODE]] ...
 *   --passes N        stop after N full passes (default 2)
 *   --seconds S       stop after S seconds of wall time
 *   --protocol P      auto | upstream | batched
 *   --batch N         batch_pages (default 256)
 *   --target S        pass_target_s (default 0: unlimited)
 *   --cap C           cpu_cap (default 1)
 *   --max-sharers N   (default 256)
 *   --reserve N       reserve_pages (default 0)
 *   --no-ring         leave the domains' sharing rings alone
 *   --no-backoff      volatility handling off (re-merge broken shares at once)
 *   --balloon         answer the engine's need-memory requests by lowering dom0's
 *                     xenstore memory/target (as the daemon does; floor 64 MiB)
 *   --audit           run shr_engine_audit() after every slice; exit 4 on a violation
 *   --quiet           log warnings only
 * MODE is on, zero or off.  Prints one JSON line of engine stats after
 * every pass and at the end.  Exit 0, 1 engine error, 2 usage, 4 audit.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>

#include "libshare/engine.h"
#include "libshare/log.h"

static void print_stats(struct shr_engine *e, double t)
{
	struct shr_stats s;

	shr_engine_get_stats(e, &s);
	printf("{\"t\":%.3f,\"full_scans\":%llu,\"pages_scanned\":%llu,\"pages_sharing\":%llu,"
	       "\"pages_shared\":%llu,\"engine_pages_sharing\":%llu,\"zero_pages_sharing\":%llu,"
	       "\"pages_unshared\":%llu,\"pages_volatile\":%llu,\"share_attempts\":%llu,"
	       "\"share_raced\":%llu,\"compare_mismatch\":%llu,\"share_failed\":%llu,"
	       "\"unshares\":%llu,\"hypercalls\":%llu,\"mappings\":%llu,\"mapped_pages\":%llu,"
	       "\"cpu_s\":%.4f,\"pass_time_s\":%.3f,\"settled\":%s,\"protocol\":\"%s\","
	       "\"index_bytes\":%llu,\"pages_indexed\":%llu,\"host_free_pages\":%llu,"
	       "\"sharing_paused\":%s,\"memory_requests\":%llu,\"pages_needed\":%llu}\n",
	       t, (unsigned long long)s.full_scans, (unsigned long long)s.pages_scanned,
	       (unsigned long long)s.pages_sharing, (unsigned long long)s.pages_shared,
	       (unsigned long long)s.engine_pages_sharing,
	       (unsigned long long)s.zero_pages_sharing, (unsigned long long)s.pages_unshared,
	       (unsigned long long)s.pages_volatile, (unsigned long long)s.share_attempts,
	       (unsigned long long)s.share_raced, (unsigned long long)s.compare_mismatch,
	       (unsigned long long)s.share_failed, (unsigned long long)s.unshares,
	       (unsigned long long)s.hypercalls, (unsigned long long)s.mappings,
	       (unsigned long long)s.mapped_pages, s.cpu_s, s.pass_time_s,
	       s.settled ? "true" : "false",
	       s.protocol_in_use == SHR_PROTO_BATCHED ? "batched" : "upstream",
	       (unsigned long long)s.index_bytes, (unsigned long long)s.pages_indexed,
	       (unsigned long long)s.host_free_pages, s.sharing_paused ? "true" : "false",
	       (unsigned long long)s.memory_requests, (unsigned long long)s.pages_needed);
	fflush(stdout);
}

/* --balloon: the daemon's answer to a need-memory request, reduced to its
 * core: lower dom0's target by the pages asked for, never below 64 MiB. */
static void balloon_need(void *arg, uint64_t pages)
{
	struct xs_handle *xs = arg;
	unsigned int len;
	char *cur = xs_read(xs, XBT_NULL, "/local/domain/0/memory/target", &len);
	unsigned long long kib, want;
	char buf[32];

	if (!cur)
		return;
	kib = strtoull(cur, NULL, 10);
	free(cur);
	want = kib > pages * 4 + 65536 ? kib - pages * 4 : 65536;
	if (want >= kib)
		return;
	snprintf(buf, sizeof(buf), "%llu", want);
	if (xs_write(xs, XBT_NULL, "/local/domain/0/memory/target", buf, strlen(buf)))
		fprintf(stderr, "shr-engine-run: balloon: dom0 target %llu -> %llu KiB\n", kib, want);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passes", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' },
		{ "protocol", required_argument, NULL, 'P' },
		{ "batch", required_argument, NULL, 'b' },
		{ "target", required_argument, NULL, 't' },
		{ "cap", required_argument, NULL, 'c' },
		{ "max-sharers", required_argument, NULL, 'm' },
		{ "reserve", required_argument, NULL, 'r' },
		{ "audit", no_argument, NULL, 'a' },
		{ "no-ring", no_argument, NULL, 'R' },
		{ "no-backoff", no_argument, NULL, 'B' },
		{ "balloon", no_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct shr_params p = {
		.batch_pages = 256, .max_sharers = 256, .pass_target_s = 0, .cpu_cap = 1,
		.reserve_pages = 0, .settle_ratio = 0.001, .protocol = SHR_PROTO_AUTO,
	};
	unsigned long passes = 2;
	double seconds = 0, t0;
	bool audit = false, balloon = false;
	struct xs_handle *xs = NULL;
	struct shr_engine *e;
	uint64_t last_scans = 0;
	int c, rc, status = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': passes = strtoul(optarg, NULL, 10); break;
		case 's': seconds = strtod(optarg, NULL); break;
		case 'P':
			if (!strcmp(optarg, "upstream")) p.protocol = SHR_PROTO_UPSTREAM;
			else if (!strcmp(optarg, "batched")) p.protocol = SHR_PROTO_BATCHED;
			else if (!strcmp(optarg, "auto")) p.protocol = SHR_PROTO_AUTO;
			else { fprintf(stderr, "bad --protocol %s\n", optarg); return 2; }
			break;
		case 'b': p.batch_pages = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 't': p.pass_target_s = strtod(optarg, NULL); break;
		case 'c': p.cpu_cap = strtod(optarg, NULL); break;
		case 'm': p.max_sharers = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'r': p.reserve_pages = strtoull(optarg, NULL, 10); break;
		case 'a': audit = true; break;
		case 'R': p.no_rings = true; break;
		case 'B': p.no_backoff = true; break;
		case 'L': balloon = true; break;
		case 'q': shr_log_set_level(SHR_LOG_WARNING); break;
		default: return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: shr-engine-run [options] DOMID[:GROUP[:MODE]] ...\n");
		return 2;
	}
	rc = shr_engine_alloc(&p, &e);
	if (rc) {
		fprintf(stderr, "shr-engine-run: engine: %s\n", strerror(-rc));
		return 1;
	}
	if (balloon) {
		xs = xs_open(0);
		if (!xs) {
			fprintf(stderr, "shr-engine-run: xenstore: %s\n", strerror(errno));
			shr_engine_free(e);
			return 1;
		}
		shr_engine_set_need_memory_fn(e, balloon_need, xs);
	}
	for (int a = optind; a < argc; a++) {
		struct shr_domain_policy pol = { .mode = SHR_MODE_ON };
		char buf[160], *group, *mode, *end;
		unsigned long domid;

		snprintf(buf, sizeof(buf), "%s", argv[a]);
		group = strchr(buf, ':');
		if (group)
			*group++ = 0;
		mode = group ? strchr(group, ':') : NULL;
		if (mode)
			*mode++ = 0;
		domid = strtoul(buf, &end, 10);
		if (end == buf || *end) {
			fprintf(stderr, "bad domain %s\n", argv[a]);
			return 2;
		}
		snprintf(pol.group, sizeof(pol.group), "%s", group && *group ? group : "default");
		if (mode && !strcmp(mode, "zero"))
			pol.mode = SHR_MODE_ZERO;
		else if (mode && !strcmp(mode, "off"))
			pol.mode = SHR_MODE_OFF;
		rc = shr_engine_add_domain(e, (uint32_t)domid, buf, &pol, NULL);
		if (rc) {
			fprintf(stderr, "shr-engine-run: add d%lu: %s\n", domid, strerror(-rc));
			shr_engine_free(e);
			return 1;
		}
	}
	t0 = now_s();
	for (;;) {
		struct shr_stats s;
		int64_t sleep_ns = shr_engine_run(e, 20000000);
		int fd = shr_engine_event_fd(e);

		if (sleep_ns < 0) {
			fprintf(stderr, "shr-engine-run: run: %s\n", strerror((int)-sleep_ns));
			status = 1;
			break;
		}
		if (audit && shr_engine_audit(e)) {
			status = 4;
			break;
		}
		shr_engine_get_stats(e, &s);
		if (s.full_scans != last_scans) {
			last_scans = s.full_scans;
			print_stats(e, now_s() - t0);
		}
		if ((passes && s.full_scans >= passes) || (seconds > 0 && now_s() - t0 >= seconds))
			break;
		if (fd >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (poll(&pfd, 1, (int)(sleep_ns / 1000000)) > 0)
				shr_engine_handle_events(e);
		} else if (sleep_ns > 0) {
			struct timespec ts = { sleep_ns / 1000000000, sleep_ns % 1000000000 };

			nanosleep(&ts, NULL);
		}
	}
	print_stats(e, now_s() - t0);
	if (audit && status == 0 && shr_engine_audit(e))
		status = 4;
	shr_engine_free(e);
	if (xs)
		xs_close(xs);
	return status;
}
