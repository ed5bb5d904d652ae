/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stats_poll.c - bench-stats-poll: samples a starting daemon's control
 * socket every few milliseconds, from the moment its domain table is ready.
 *
 * Usage: bench-stats-poll --socket PATH [--interval-ms MS] [--max-s S]
 *                         [--until-freed N] [--wait-s S] [--also-pid PID]
 *
 * DOC: Overview
 *
 * The daemon opens its control socket right after it has built its
 * domain table (every opted-in domain handed to the engine) and before
 * its main loop runs the engine once (dom0-daemon/main.c: start-up
 * order), so the first connect() that succeeds is the instant "the
 * domain table is ready", within the few microseconds of opening the
 * socket.  This program is started before the daemon, retries connect()
 * every 0.2 ms for up to --wait-s seconds (default 30), and takes that
 * instant as t = 0.  It then sends `stats` every --interval-ms (default
 * 5) on the one connection (the daemon answers each from the hypervisor's
 * counters read at that moment) and prints one line per answer, the
 * columns of tests/bench/lib.sh's trace():
 *
 *   t cpu freed hypercalls mappings full_scans pages_scanned
 *   pages_indexed index_bytes unshares [also_cpu]
 *
 * t in seconds since t = 0 (CLOCK_MONOTONIC), cpu the daemon's CPU
 * seconds (utime + stime from /proc/<pid>/stat, the pid from the answer),
 * freed the hypervisor's saved pages (host.sharing_freed_pages), also_cpu
 * the CPU seconds of the process --also-pid names (xensim: the simulated
 * hypervisor's share of the work), when given.  It stops
 * once freed >= --until-freed (when given) or after --max-s seconds
 * (default 60) from t = 0: exit 0 when the threshold was reached, 1 when
 * not (or the daemon went away), 2 on bad arguments.  The shell's
 * `xenshared -C stats` costs a process and a jq per sample, tens of
 * milliseconds: too coarse for a 0.3 s target.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* utime + stime of pid in seconds, or -1. */
static double proc_cpu_s(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* the command name may hold blanks and parentheses: fields follow the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int64_t get_i64(struct json_object *root, const char *obj, const char *key)
{
	struct json_object *o, *v;

	if (!json_object_object_get_ex(root, obj, &o) || !json_object_object_get_ex(o, key, &v))
		return -1;
	return json_object_get_int64(v);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* Sends `stats` and reads the one-line answer into buf; 0 or -errno. */
static int ask_stats(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	if (write(fd, "stats\n", 6) != 6)
		return -EIO;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		len += (size_t)n;
		buf[len] = 0;
		if (memchr(buf, '\n', len))
			return 0;
		if (len + 1 >= cap)
			return -E2BIG;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "max-s", required_argument, NULL, 'm' },
		{ "until-freed", required_argument, NULL, 'u' },
		{ "wait-s", required_argument, NULL, 'w' },
		{ "also-pid", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	double interval = 0.005, max_s = 60, wait_s = 30, t0, deadline;
	long long until = -1;
	static char buf[1 << 20];
	int c, fd = -1, also = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;

		switch (c) {
		case 's': sock = optarg; break;
		case 'i': interval = strtod(optarg, &end) / 1000; break;
		case 'm': max_s = strtod(optarg, &end); break;
		case 'u': until = strtoll(optarg, &end, 10); break;
		case 'w': wait_s = strtod(optarg, &end); break;
		case 'p': also = (int)strtol(optarg, &end, 10); break;
		default: return 2;
		}
		if (end && (*end || end == optarg)) {
			fprintf(stderr, "bench-stats-poll: bad number '%s'\n", optarg);
			return 2;
		}
	}
	if (!sock || optind != argc || !(interval > 0) || !(max_s > 0) || !(wait_s > 0)) {
		fprintf(stderr, "usage: bench-stats-poll --socket PATH [--interval-ms MS] "
			"[--max-s S] [--until-freed N] [--wait-s S] [--also-pid PID]\n");
		return 2;
	}
	deadline = mono_s() + wait_s;
	while ((fd = connect_to(sock)) < 0) {
		if (mono_s() > deadline) {
			fprintf(stderr, "bench-stats-poll: %s: no daemon within %g s: %s\n", sock,
				wait_s, strerror(-fd));
			return 1;
		}
		sleep_s(0.0002);
	}
	t0 = mono_s();
	while (mono_s() - t0 < max_s) {
		struct json_object *root;
		double t, cpu;
		int64_t freed;
		int rc = ask_stats(fd, buf, sizeof(buf));

		t = mono_s() - t0;
		if (rc) {
			fprintf(stderr, "bench-stats-poll: stats: %s\n", strerror(-rc));
			return 1;
		}
		root = json_tokener_parse(buf);
		if (!root) {
			fprintf(stderr, "bench-stats-poll: the answer is not JSON\n");
			return 1;
		}
		cpu = proc_cpu_s((int)get_i64(root, "daemon", "pid"));
		freed = get_i64(root, "host", "sharing_freed_pages");
		printf("%.4f %.2f %lld %lld %lld %lld %lld %lld %lld %lld", t, cpu,
		       (long long)freed,
		       (long long)get_i64(root, "counters", "hypercalls"),
		       (long long)get_i64(root, "counters", "mappings"),
		       (long long)get_i64(root, "daemon", "full_scans"),
		       (long long)get_i64(root, "counters", "pages_scanned"),
		       (long long)get_i64(root, "daemon", "pages_indexed"),
		       (long long)get_i64(root, "daemon", "index_bytes"),
		       (long long)get_i64(root, "counters", "unshares"));
		if (also > 0)
			printf(" %.2f", proc_cpu_s(also));
		putchar('\n');
		fflush(stdout);
		json_object_put(root);
		if (until >= 0 && freed >= until)
			return 0;
		sleep_s(interval);
	}
	return until >= 0 ? 1 : 0;
}
