/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xxh3_raw.c - bench-xxh3: the physical baseline of the scan-cost benchmark.
 *
 * Usage: bench-xxh3 [--min-cpu S] FILE...
 *
 * DOC: Overview
 *
 * The scanner's work per page is "read 4 KiB, hash it with keyed XXH3".
 * This program does exactly that and nothing else, over the same pages the
 * benchmark gives the daemon (the raw guest images, read into memory
 * first so that disk and page faults are not part of the baseline), with
 * the same hash call the engine makes (XXH3_64bits_withSecret, inlined,
 * with a 192-byte random secret, as libshare/fingerprint.c does), once with
 * the default (SSE2) build and, when the CPU has AVX2, once with xxHash's
 * AVX2 path (xxh3_avx2.c), which the engine picks at run time too.  Each
 * loops over all pages until at least --min-cpu seconds of CPU time
 * (default 1.0) have been spent.  Prints one JSON object:
 *   {"pages":N,"cpu_s":S,"pages_per_cpu_s":R,"sse2_pages_per_cpu_s":..,
 *    "avx2_pages_per_cpu_s":..,"memread_pages_per_cpu_s":M}
 * where R is the faster of the two kernels (the baseline) and M the rate
 * of only reading the pages (a 64-bit OR over every word, the zero check
 * the engine also does), a second anchor.
 *
 * CPU time (CLOCK_PROCESS_CPUTIME_ID), not wall time, because the
 * benchmark compares it with the daemon's CPU time on a noisy machine.
 * Exit 0, 1 on an I/O error, 2 on bad arguments.
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u

uint64_t bench_xxh3_avx2(const void *page, size_t len, const void *secret, size_t secret_len);
#define SECRET_SIZE 192   /* libshare/fingerprint.h SHR_FP_SECRET_SIZE */

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Appends the whole file to *buf (grown as needed); 0 or -errno. */
static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat sb;
	uint8_t *nb;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || sb.st_size <= 0 || sb.st_size % PAGE) {
		close(fd);
		return -EINVAL;
	}
	nb = realloc(*buf, *len + (size_t)sb.st_size);
	if (!nb) {
		close(fd);
		return -ENOMEM;
	}
	*buf = nb;
	while (off < (size_t)sb.st_size) {
		ssize_t n = read(fd, nb + *len + off, (size_t)sb.st_size - off);

		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	if (!rc)
		*len += off;
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "min-cpu", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t secret[SECRET_SIZE];
	uint8_t *buf = NULL;
	size_t len = 0, pages;
	double min_cpu = 1.0, t0, hash_s, read_s, avx2_s = 0, sse2_rate, avx2_rate = 0;
	uint64_t sink = 0, hashed = 0, read_pages = 0, avx2_hashed = 0;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'm')
			return 2;
		min_cpu = strtod(optarg, &end);
		if (*end || !(min_cpu > 0 && min_cpu < 3600)) {
			fprintf(stderr, "bench-xxh3: bad --min-cpu %s\n", optarg);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: bench-xxh3 [--min-cpu S] FILE...\n");
		return 2;
	}
	if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret)) {
		fprintf(stderr, "bench-xxh3: getrandom: %s\n", strerror(errno));
		return 1;
	}
	for (int a = optind; a < argc; a++) {
		int rc = read_file(argv[a], &buf, &len);

		if (rc) {
			fprintf(stderr, "bench-xxh3: %s: %s\n", argv[a],
				rc == -EINVAL ? "empty or not whole 4 KiB pages" : strerror(-rc));
			return 1;
		}
	}
	pages = len / PAGE;

	t0 = cpu_now();
	do {
		for (size_t p = 0; p < pages; p++)
			sink += XXH3_64bits_withSecret(buf + p * PAGE, PAGE, secret, sizeof(secret));
		hashed += pages;
		hash_s = cpu_now() - t0;
	} while (hash_s < min_cpu);
	sse2_rate = (double)hashed / hash_s;

	if (__builtin_cpu_supports("avx2")) {
		t0 = cpu_now();
		do {
			for (size_t p = 0; p < pages; p++)
				sink += bench_xxh3_avx2(buf + p * PAGE, PAGE, secret, sizeof(secret));
			avx2_hashed += pages;
			avx2_s = cpu_now() - t0;
		} while (avx2_s < min_cpu);
		avx2_rate = (double)avx2_hashed / avx2_s;
	}

	t0 = cpu_now();
	do {
		for (size_t p = 0; p < pages; p++) {
			const uint64_t *w = (const uint64_t *)(buf + p * PAGE);
			uint64_t acc = 0;

			for (size_t i = 0; i < PAGE / sizeof(*w); i++)
				acc |= w[i];
			sink += acc == 0;
		}
		read_pages += pages;
		read_s = cpu_now() - t0;
	} while (read_s < min_cpu / 2);

	/* sink keeps the compiler from dropping the loops */
	printf("{\"pages\":%zu,\"cpu_s\":%.4f,\"pages_per_cpu_s\":%.0f,"
	       "\"sse2_pages_per_cpu_s\":%.0f,\"avx2_pages_per_cpu_s\":%.0f,"
	       "\"memread_pages_per_cpu_s\":%.0f,\"sink\":%llu}\n",
	       pages, hash_s + avx2_s, sse2_rate > avx2_rate ? sse2_rate : avx2_rate,
	       sse2_rate, avx2_rate, (double)read_pages / read_s,
	       (unsigned long long)(sink & 0xff));
	free(buf);
	return 0;
}
