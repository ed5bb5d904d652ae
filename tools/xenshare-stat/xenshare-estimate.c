/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xenshare-estimate - before deploying xenshared: how much memory would
 * sharing save on these guests?  Reads guest memory images (xl dump-core,
 * raw, optionally zstd-compressed; image.c), counts zero pages and
 * duplicates within and across guests per sharing group (estimate.c) with
 * the daemon's own fingerprint and compare code (libshare/fingerprint.h),
 * and prints the result (estfmt.c).
 *
 * Exit status: 0 report printed; 1 an image could not be read or is not a
 * guest memory image (the message names the file); 2 bad command line;
 * 4 internal error (out of memory).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dom0-daemon/settings.h"   /* the daemon's group name rules */
#include "libshare/fingerprint.h"
#include "estfmt.h"
#include "estimate.h"
#include "headroom.h"
#include "image.h"
#include "xenshare_version.h"

#define DEFAULT_GROUP "default"
_Static_assert(XSE_GROUP_LEN == XSD_GROUP_MAX + 1, "a group the daemon takes fits the estimate's");
/* below this, a run is over before a bar would be worth drawing */
#define PROGRESS_MIN_PAGES (256u * 1024)   /* 1 GiB */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xenshare-estimate [OPTION]... IMAGE[:GROUP]...\n"
"Estimate what xenshared would save on these guests once it has settled.\n"
"\n"
"IMAGE is a guest's memory: an `xl dump-core` file, or a raw image (guest\n"
"physical address 0 upwards, e.g. QEMU pmemsave), optionally compressed with\n"
"zstd (detected by content; decompressed into $TMPDIR, default /var/tmp).\n"
"GROUP is the guest's mem_sharing_group (default \"" DEFAULT_GROUP "\"; 1 to 63 of\n"
"A-Z a-z 0-9 . _ -, as xenshared accepts): pages of different groups are never\n"
"merged.  An IMAGE whose name contains ':' is taken whole when a file of that\n"
"name exists.\n"
"\n"
"  -j, --json         print one JSON object instead of the table\n"
"  -m, --host-mem SIZE  also say how many guests like these images fit on a host\n"
"                     with SIZE free for guests (e.g. 16G; M, G or p as in\n"
"                     xenshared.conf), with sharing and without\n"
"  -r, --reserve SIZE keep SIZE free for unshares (default: xenshared's, %s)\n"
"  -b, --burst PERCENT  against a burst of PERCENT of the shared pages (0 to 100,\n"
"                     default %g)\n"
"  -p, --progress     always show a progress bar on stderr\n"
"  -q, --no-progress  never show it (default: on a terminal, for inputs of 1 GiB\n"
"                     or more)\n"
"  -V, --version      print the version and exit\n"
"  -h, --help         print this help and exit\n"
"\n"
"Savings per group: zero pages - 1 (one zero frame), duplicates within each\n"
"guest, duplicates across its guests.  Pages are identical only when all 4096\n"
"bytes are: fingerprints (keyed XXH3, as in the daemon) only pick candidates.\n"
"Exit status: 0 ok; 1 an image is unreadable or invalid; 2 bad arguments;\n"
"4 internal error.  See xenshare-estimate(1).\n",
		xsd_setting_find("reserve")->def, XST_BURST_DEFAULT_PERCENT);
}

struct progress {
	bool on;
	int last_permille;
	struct timespec start;
};

static void draw_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	int permille = total ? (int)(done * 1000 / total) : 1000;
	struct timespec now;
	double secs;
	char bar[41];

	if (!p->on || permille == p->last_permille)
		return;
	p->last_permille = permille;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - p->start.tv_sec) + (now.tv_nsec - p->start.tv_nsec) / 1e9;
	for (int i = 0; i < 40; i++)
		bar[i] = i < permille * 40 / 1000 ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\r[%s] %5.1f%%  %.0f/%.0f MiB  %.0f MiB/s ", bar, permille / 10.0,
		done / 256.0, total / 256.0, secs > 0 ? done / 256.0 / secs : 0.0);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* SIZE in the daemon's syntax (its reserve setting's parser: M, G, p). */
static int parse_size(const char *opt, const char *arg, uint64_t *pages)
{
	const struct xsd_setting *s = xsd_setting_find("reserve");
	struct xsd_config cfg;
	char why[256];

	memset(&cfg, 0, sizeof(cfg));
	if (s->parse(s, NULL, arg, &cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "xenshare-estimate: %s: %s\n", opt, why);
		return -EINVAL;
	}
	*pages = cfg.reserve_pages;
	return 0;
}

static uint64_t fp_daemon(void *arg, const void *page, bool *is_zero)
{
	return shr_fp_page(arg, page, is_zero);
}

/* Splits "FILE[:GROUP]": the whole argument is a file name if such a file exists. */
static int parse_image_arg(char *arg, const char **path, const char **group)
{
	struct stat st;
	char *colon = strrchr(arg, ':'), why[256];

	*path = arg;
	*group = DEFAULT_GROUP;
	if (!colon || stat(arg, &st) == 0)
		return 0;
	*colon = '\0';
	*group = colon + 1;
	if (xsd_group_name_check(*group, why, sizeof(why))) {
		fprintf(stderr, "xenshare-estimate: %s: %s\n", arg, why);
		return -EINVAL;
	}
	if (!**path) {
		fprintf(stderr, "xenshare-estimate: ':%s': image file name missing\n", *group);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "host-mem", required_argument, NULL, 'm' },
		{ "reserve", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "progress", no_argument, NULL, 'p' },
		{ "no-progress", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int progress_mode = -1;   /* -1 auto, 0 off, 1 on */
	bool json = false;
	struct xse_guest *guests = NULL;
	struct xse_image *imgs = NULL;
	struct xse_report rep = { 0 };
	struct shr_fp_key key;
	struct xse_fp_ops ops = { .fp = fp_daemon, .equal = shr_page_equal, .arg = &key };
	struct progress prog = { .last_permille = -1 };
	size_t n = 0;
	uint64_t total = 0, host_pages = 0, reserve_pages = 0;
	double burst = XST_BURST_DEFAULT_PERCENT;
	bool have_host = false, have_admission_opt = false;
	int c, r, code = 4;

	if (parse_size("reserve", xsd_setting_find("reserve")->def, &reserve_pages) < 0)
		return 4;
	while ((c = getopt_long(argc, argv, "jm:r:b:pqVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'm':
			if (parse_size("--host-mem", optarg, &host_pages) < 0)
				return 2;
			if (!host_pages) {
				fprintf(stderr, "xenshare-estimate: --host-mem: a host needs memory\n");
				return 2;
			}
			have_host = true;
			break;
		case 'r':
			if (parse_size("--reserve", optarg, &reserve_pages) < 0)
				return 2;
			have_admission_opt = true;
			break;
		case 'b':
			if (xst_parse_burst(optarg, &burst) < 0) {
				fprintf(stderr, "xenshare-estimate: --burst: '%s' is not a percentage "
					"between 0 and 100\n", optarg);
				return 2;
			}
			have_admission_opt = true;
			break;
		case 'p':
			progress_mode = 1;
			break;
		case 'q':
			progress_mode = 0;
			break;
		case 'V':
			printf("xenshare-estimate %s\n", XENSHARE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'xenshare-estimate --help' for more information.\n");
			return 2;
		}
	}
	if (have_admission_opt && !have_host) {
		fprintf(stderr, "xenshare-estimate: --reserve and --burst need --host-mem\n"
			"Try 'xenshare-estimate --help' for more information.\n");
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "xenshare-estimate: no image given\n"
			"Try 'xenshare-estimate --help' for more information.\n");
		return 2;
	}
	n = (size_t)(argc - optind);
	guests = calloc(n, sizeof(*guests));
	imgs = calloc(n, sizeof(*imgs));
	if (!guests || !imgs) {
		fprintf(stderr, "xenshare-estimate: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *group;

		if (parse_image_arg(argv[optind + (int)i], &guests[i].path, &group) < 0) {
			code = 2;
			goto out;
		}
		snprintf(guests[i].group, sizeof(guests[i].group), "%s", group);
		guests[i].img = &imgs[i];
	}
	for (size_t i = 0; i < n; i++) {
		char err[512];

		r = xse_image_open(guests[i].path, &imgs[i], err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "xenshare-estimate: %s\n", err);
			code = r == -ENOMEM ? 4 : 1;
			goto out;
		}
		total += imgs[i].nr_pages;
	}
	r = shr_fp_key_init(&key);
	if (r < 0) {
		fprintf(stderr, "xenshare-estimate: drawing the fingerprint key: %s\n", strerror(-r));
		goto out;
	}
	prog.on = progress_mode == 1 ||
		  (progress_mode == -1 && isatty(STDERR_FILENO) && total >= PROGRESS_MIN_PAGES);
	clock_gettime(CLOCK_MONOTONIC, &prog.start);
	r = xse_estimate(guests, n, &ops, draw_progress, &prog, &rep);
	if (r < 0) {
		fprintf(stderr, "xenshare-estimate: %s\n", strerror(-r));
		goto out;
	}
	if (have_host && xse_admission(guests, n, host_pages, reserve_pages, burst, &rep) < 0) {
		fprintf(stderr, "xenshare-estimate: out of memory\n");
		goto out;
	}
	r = json ? xse_format_json(stdout, guests, n, &rep) : xse_format_text(stdout, guests, n, &rep);
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "xenshare-estimate: cannot write the report\n");
		goto out;
	}
	code = 0;
out:
	xse_report_free(&rep);
	for (size_t i = 0; imgs && i < n; i++)
		xse_image_close(&imgs[i]);
	free(imgs);
	free(guests);
	return code;
}
