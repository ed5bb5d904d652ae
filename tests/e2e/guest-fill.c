/*
 * guest-fill - the workload inside each e2e guest (PID 1's only child).
 *
 * DOC: Overview
 * It fills locked anonymous memory with three regions of generated data and
 * then proves, round after round, that every byte is still what it wrote:
 *
 *   common  generated from a seed that is the same in every guest, so the
 *           pages are identical across guests: what the sharer must find;
 *   unique  generated from the guest's own seed: must never be merged;
 *   hot     the first hot_mb of the common region.  On odd rounds the guest
 *           overwrites these pages with guest-specific data, on even rounds
 *           it writes the common data back.  Writes to shared pages make Xen
 *           unshare them (the "after unshares" part of the check), and the
 *           other guest, which may still share the frame, must keep reading
 *           its own content.
 *
 * storm    (--storm-node NODE, the unshare-ENOMEM phase, tests/e2e/
 *           phase-enomem.sh): each round, before verifying, the guest reads
 *           the xenstore node NODE (relative to its home,
 *           /local/domain/<id>/) through /dev/xen/xenbus; once it reads "1",
 *           it overwrites every common page past the hot ones with
 *           guest-specific data, once: thousands of writes to shared pages,
 *           each an unshare needing a free host frame.  "a" and "b" write
 *           only the first or the second half of those pages, so two guests
 *           sharing the same frames can each storm with their partner's
 *           copy still on the frame (a storm over frames nobody else holds
 *           would need no memory: Xen converts a last sharer in place).
 *           It prints
 *             E2E-GUEST <name> storm begins pages=<n>
 *             E2E-GUEST <name> storm done pages=<n> seconds=<s>
 *           (seconds: wall time, which includes any time its vCPU was
 *           paused by the hypervisor waiting for memory).
 *
 * new data (--write-node NODE, the dirty-log checks of dom0-init.sh): each
 *           round, before verifying, the guest reads the xenstore node NODE
 *           like the storm node; when it holds a value it has not written
 *           yet, the first NEWDATA_PAGES unique pages are overwritten with
 *           content generated from that value alone, so guests told the
 *           same value hold newly identical pages.  It prints
 *             E2E-GUEST <name> newdata tag=<v> pages=<n> gfns=<g>,<g>...
 *           with the guest frame number of each page (from
 *           /proc/self/pagemap: a PVH guest's physical frames are its
 *           gfns), so dom0 can ask the hypervisor whether exactly those
 *           pages got shared.
 *
 * Each round also prints how long rewriting the hot pages took
 * (hot_write_us= on the next verify line): the cost of the write faults
 * the hypervisor takes on them (unshares, log-dirty).
 *
 * The expected XXH3 hash of every page is kept in a table, updated whenever
 * the guest writes a page itself.  Each round re-hashes every page and
 * prints one machine-readable line on the console (hvc0), which dom0 reads
 * from xenconsoled's log:
 *
 *   E2E-GUEST <name> ready pages=<n> common=<n> unique=<n> hot=<n>
 *   E2E-GUEST <name> round=<r> verify=OK pages=<n> glitches=<g>
 *   E2E-GUEST <name> round=<r> mismatch page=<i> ... (see describe_mismatch)
 *   E2E-GUEST <name> round=<r> glitch|corrupt page=<i>: ...
 *   E2E-GUEST <name> round=<r> verify=BAD mismatches=<k> glitches=<g>
 *
 * Invariant: a page's expected hash (and the seed that generated it) is
 * updated only by this program's own writes, so a mismatch means the
 * hypervisor (or the sharer) changed the guest's memory behind its back --
 * unless the bytes that were read are exactly what the seed regenerates:
 * then the memory was intact and only the hash computation went wrong (the
 * CPU state of the emulated machine, see docs/e2e.md).  Such a page is
 * reported as a "glitch" with its evidence, not as a verification failure;
 * bytes that differ from the regenerated content always fail, even when a
 * re-read heals.
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define COMMON_SEED UINT64_C(0x5eed0f0ddba11c0d)
#define STORM_SEED_XOR UINT64_C(0x570a3570a3570a35)
#define NEWDATA_PAGES 64

struct fill_layout {
	size_t common_pages;
	size_t unique_pages;
	size_t hot_pages;
	uint64_t guest_seed;
};

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Fill one page with data that depends only on (seed, index). */
static void generate_page(unsigned char *page, uint64_t seed, uint64_t index)
{
	uint64_t state = seed ^ (index * UINT64_C(0x100000001b3));
	uint64_t *words = (uint64_t *)(void *)page;

	for (size_t i = 0; i < PAGE / sizeof(*words); i++)
		words[i] = splitmix64(&state);
}

static int parse_size(const char *arg, const char *what, size_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || v > 4096) {
		fprintf(stderr, "guest-fill: bad %s '%s' (0..4096 MiB)\n", what, arg);
		return -EINVAL;
	}
	*out = v * (1024 * 1024 / PAGE);
	return 0;
}

/*
 * Read a xenstore node (relative to the guest's home) through the kernel's
 * /dev/xen/xenbus: one XS_READ message (xen/io/xs_wire.h's header: type,
 * req_id, tx_id, len) and its reply.  The guest image has no xenstore
 * tools, and these few lines are all it needs.  Returns the value's length,
 * or -1 (node missing, an XS_ERROR reply, or no xenbus device).
 */
static int xenbus_read(const char *node, char *val, size_t size)
{
	struct { uint32_t type, req_id, tx_id, len; } hdr = { 2 /* XS_READ */, 1, 0, 0 };
	char msg[512];
	size_t plen = strlen(node) + 1;
	ssize_t n;
	int fd, rc = -1;

	if (plen > sizeof(msg) - sizeof(hdr) || size == 0)
		return -1;
	fd = open("/dev/xen/xenbus", O_RDWR);
	if (fd < 0)
		return -1;
	hdr.len = (uint32_t)plen;
	memcpy(msg, &hdr, sizeof(hdr));
	memcpy(msg + sizeof(hdr), node, plen);
	if (write(fd, msg, sizeof(hdr) + plen) != (ssize_t)(sizeof(hdr) + plen))
		goto out;
	n = read(fd, msg, sizeof(msg));
	if (n < (ssize_t)sizeof(hdr))
		goto out;
	memcpy(&hdr, msg, sizeof(hdr));
	if (hdr.type != 2 || hdr.len > (size_t)n - sizeof(hdr) || hdr.len >= size)
		goto out;
	memcpy(val, msg + sizeof(hdr), hdr.len);
	val[hdr.len] = '\0';
	rc = (int)hdr.len;
out:
	close(fd);
	return rc;
}

/* The common pages past the hot ones that a storm value selects:
 * "1" all of them, "a" the first half, "b" the second; false otherwise. */
static bool storm_range(const char *v, const struct fill_layout *lay, size_t *from, size_t *to)
{
	size_t mid = lay->hot_pages + (lay->common_pages - lay->hot_pages) / 2;

	if (!strcmp(v, "1")) {
		*from = lay->hot_pages;
		*to = lay->common_pages;
	} else if (!strcmp(v, "a")) {
		*from = lay->hot_pages;
		*to = mid;
	} else if (!strcmp(v, "b")) {
		*from = mid;
		*to = lay->common_pages;
	} else {
		return false;
	}
	return true;
}

/* Overwrite common pages [from, to) with guest data (storm). */
static size_t write_storm(unsigned char *mem, uint64_t *expect, uint64_t *seed_of,
			  const struct fill_layout *lay, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		unsigned char *p = mem + i * PAGE;

		seed_of[i] = lay->guest_seed ^ STORM_SEED_XOR;
		generate_page(p, seed_of[i], i);
		expect[i] = XXH3_64bits(p, PAGE);
	}
	return to - from;
}

/*
 * Overwrite the first NEWDATA_PAGES unique pages with the content the tag
 * generates (the same in every guest told that tag) and print their gfns.
 * false when the unique region is too small.
 */
static bool write_newdata(const char *name, unsigned char *mem, uint64_t *expect,
			  uint64_t *seed_of, const struct fill_layout *lay, const char *tag)
{
	uint64_t seed = XXH3_64bits(tag, strlen(tag)) ^ COMMON_SEED;
	char line[NEWDATA_PAGES * 12 + 128];
	int fd, len;

	if (lay->unique_pages < NEWDATA_PAGES)
		return false;
	if (seed == COMMON_SEED || seed == lay->guest_seed)
		seed++;
	for (size_t i = lay->common_pages; i < lay->common_pages + NEWDATA_PAGES; i++) {
		unsigned char *p = mem + i * PAGE;

		seed_of[i] = seed;
		generate_page(p, seed, i);
		expect[i] = XXH3_64bits(p, PAGE);
	}
	len = snprintf(line, sizeof(line), "E2E-GUEST %s newdata tag=%s pages=%u gfns=", name, tag,
		       NEWDATA_PAGES);
	fd = open("/proc/self/pagemap", O_RDONLY);
	for (size_t i = 0; i < NEWDATA_PAGES && len > 0 && (size_t)len < sizeof(line) - 16; i++) {
		uintptr_t va = (uintptr_t)(mem + (lay->common_pages + i) * PAGE);
		uint64_t ent = 0;

		/* bit 63: present; bits 0-54: the frame (needs CAP_SYS_ADMIN) */
		if (fd < 0 || pread(fd, &ent, sizeof(ent), (off_t)(va / PAGE * sizeof(ent))) !=
			      (ssize_t)sizeof(ent) || !(ent >> 63))
			ent = 0;
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%" PRIx64, i ? "," : "",
				ent & ((UINT64_C(1) << 55) - 1));
	}
	if (fd >= 0)
		close(fd);
	printf("%s\n", line);
	fflush(stdout);
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *to)
{
	fprintf(to, "Usage: guest-fill --name N --seed S [--common-mb M] [--unique-mb M]\n"
		"                  [--hot-mb M] [--interval SEC] [--rounds R]\n"
		"                  [--corrupt-page I]  (flip a byte of page I: the check must fail)\n"
		"                  [--storm-node NODE] (rewrite the common data once NODE reads 1)\n"
		"                  [--write-node NODE] (new common data in the unique region,\n"
		"                                       once for each new value of NODE)\n");
}

/* Rewrite the hot pages for round r and record their new seeds and hashes. */
static void write_hot(unsigned char *mem, uint64_t *expect, uint64_t *seed_of,
		      const struct fill_layout *lay, unsigned long round)
{
	for (size_t i = 0; i < lay->hot_pages; i++) {
		unsigned char *p = mem + i * PAGE;

		seed_of[i] = round & 1 ? lay->guest_seed ^ (round << 40) : COMMON_SEED;
		generate_page(p, seed_of[i], i);
		expect[i] = XXH3_64bits(p, PAGE);
	}
}

/*
 * True when snap holds exactly what (seed, index) generates.  Word by word
 * through volatile reads: no vector registers, so a glitch of those cannot
 * make this comparison lie the way it made the hash lie.
 */
static bool snap_is_intact(const unsigned char *snap, uint64_t seed, size_t index)
{
	static unsigned char want[PAGE];
	const volatile uint64_t *a = (const volatile uint64_t *)(const void *)snap;
	const volatile uint64_t *b = (const volatile uint64_t *)(const void *)want;

	generate_page(want, seed, index);
	for (size_t j = 0; j < PAGE / sizeof(uint64_t); j++) {
		if (a[j] != b[j])
			return false;
	}
	return true;
}

/*
 * Say what a mismatching page held, to tell the failure modes apart.  snap
 * is the copy that was hashed (what the guest actually read): it is
 * compared with every expected page (content of another page: a wrong merge
 * or a wrong mapping), checked for zeros (a scrubbed or freed frame), and
 * the page is read again (a transient mismatch that heals by itself points
 * at a stale translation, not at a wrong merge, which would stay).
 */
static void describe_mismatch(const char *name, unsigned long round, const unsigned char *mem,
			      const unsigned char *snap, const uint64_t *expect, size_t total,
			      size_t i)
{
	uint64_t h = XXH3_64bits(snap, PAGE);
	size_t zero = 0, differ = 0;
	long same_as = -1;
	const uint64_t *w = (const uint64_t *)(const void *)snap;
	const uint64_t *now = (const uint64_t *)(const void *)(mem + i * PAGE);

	for (size_t j = 0; j < PAGE / sizeof(*w); j++) {
		zero += w[j] == 0;
		differ += w[j] != now[j];
	}
	for (size_t j = 0; j < total; j++) {
		if (expect[j] == h) {
			same_as = (long)j;
			break;
		}
	}
	printf("E2E-GUEST %s round=%lu mismatch page=%zu va=%p read: zero_words=%zu/%zu "
	       "words_differing_from_reread=%zu content_of_page=%ld first_word=%016" PRIx64
	       " reread=%s\n",
	       name, round, i, (const void *)(mem + i * PAGE), zero, PAGE / sizeof(*w), differ,
	       same_as, w[0], XXH3_64bits(mem + i * PAGE, PAGE) == expect[i] ? "OK" : "BAD");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "common-mb", required_argument, NULL, 'c' },
		{ "unique-mb", required_argument, NULL, 'u' },
		{ "hot-mb", required_argument, NULL, 'h' },
		{ "interval", required_argument, NULL, 'i' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "corrupt-page", required_argument, NULL, 'x' },
		{ "storm-node", required_argument, NULL, 'S' },
		{ "write-node", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct fill_layout lay = { 48 * 256, 8 * 256, 2 * 256, 0 };
	const char *name = NULL;
	unsigned long interval = 5, rounds = 0;
	int have_seed = 0, c;
	size_t total;
	unsigned char *mem;
	uint64_t *expect, *seed_of;
	static unsigned char snap[PAGE];
	unsigned long glitches = 0;
	long corrupt_page = -1;     /* proves the check can fail: flips a byte */
	const char *storm_node = NULL;
	bool storm_done = false;
	const char *write_node = NULL;
	char written[16] = "";       /* the write node's value last applied */
	unsigned long hot_write_us = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'n': name = optarg; break;
		case 's':
			errno = 0;
			lay.guest_seed = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg) {
				fprintf(stderr, "guest-fill: bad seed '%s'\n", optarg);
				return 2;
			}
			have_seed = 1;
			break;
		case 'c': if (parse_size(optarg, "common-mb", &lay.common_pages)) return 2; break;
		case 'u': if (parse_size(optarg, "unique-mb", &lay.unique_pages)) return 2; break;
		case 'h': if (parse_size(optarg, "hot-mb", &lay.hot_pages)) return 2; break;
		case 'i':
		case 'r': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v > 86400) {
				fprintf(stderr, "guest-fill: bad number '%s'\n", optarg);
				return 2;
			}
			if (c == 'i')
				interval = v;
			else
				rounds = v;
			break;
		}
		case 'x':
			errno = 0;
			corrupt_page = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || corrupt_page < 0) {
				fprintf(stderr, "guest-fill: bad page '%s'\n", optarg);
				return 2;
			}
			break;
		case 'S': storm_node = optarg; break;
		case 'W': write_node = optarg; break;
		case 'H': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!name || !have_seed || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (lay.hot_pages > lay.common_pages) {
		fprintf(stderr, "guest-fill: hot region larger than the common region\n");
		return 2;
	}
	/* The guest seed must differ from the common one or "unique" is not. */
	lay.guest_seed ^= UINT64_C(0xa5a5a5a5a5a5a5a5);
	if (lay.guest_seed == COMMON_SEED)
		lay.guest_seed++;

	total = lay.common_pages + lay.unique_pages;
	mem = mmap(NULL, total * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "guest-fill: mmap %zu pages: %s\n", total, strerror(errno));
		return 1;
	}
	/* Base pages, pinned: no THP collapse or migration rewriting them. */
	if (madvise(mem, total * PAGE, MADV_NOHUGEPAGE))
		fprintf(stderr, "guest-fill: madvise NOHUGEPAGE: %s (continuing)\n", strerror(errno));
	if (mlock(mem, total * PAGE))
		fprintf(stderr, "guest-fill: mlock: %s (continuing)\n", strerror(errno));
	expect = calloc(total, sizeof(*expect));
	seed_of = calloc(total, sizeof(*seed_of));
	if (!expect || !seed_of) {
		fprintf(stderr, "guest-fill: out of memory for the hash table\n");
		return 1;
	}
	for (size_t i = 0; i < total; i++) {
		unsigned char *p = mem + i * PAGE;

		seed_of[i] = i < lay.common_pages ? COMMON_SEED : lay.guest_seed;
		generate_page(p, seed_of[i], i);
		expect[i] = XXH3_64bits(p, PAGE);
	}
	if (corrupt_page >= 0 && (size_t)corrupt_page < total)
		mem[(size_t)corrupt_page * PAGE + 100] ^= 0x40;
	printf("E2E-GUEST %s ready pages=%zu common=%zu unique=%zu hot=%zu\n", name, total,
	       lay.common_pages, lay.unique_pages, lay.hot_pages);
	fflush(stdout);

	for (unsigned long round = 1; rounds == 0 || round <= rounds; round++) {
		size_t bad = 0;

		sleep((unsigned int)interval);
		if (storm_node && !storm_done) {
			char v[16];
			size_t from, to;

			if (xenbus_read(storm_node, v, sizeof(v)) > 0 &&
			    storm_range(v, &lay, &from, &to)) {
				double t0 = now_s();
				size_t n;

				printf("E2E-GUEST %s storm begins pages=%zu\n", name, to - from);
				fflush(stdout);
				n = write_storm(mem, expect, seed_of, &lay, from, to);
				printf("E2E-GUEST %s storm done pages=%zu seconds=%.1f\n", name, n,
				       now_s() - t0);
				fflush(stdout);
				storm_done = true;
			}
		}
		if (write_node) {
			char v[16];

			if (xenbus_read(write_node, v, sizeof(v)) > 0 && strcmp(v, written) &&
			    write_newdata(name, mem, expect, seed_of, &lay, v))
				memcpy(written, v, sizeof(written));
		}
		for (size_t i = 0; i < total; i++) {
			/* Hash a copy, so a mismatch can show what was read. */
			memcpy(snap, mem + i * PAGE, PAGE);
			if (XXH3_64bits(snap, PAGE) == expect[i])
				continue;
			describe_mismatch(name, round, mem, snap, expect, total, i);
			if (snap_is_intact(snap, seed_of[i], i) && snap_is_intact(snap, seed_of[i], i)) {
				glitches++;
				printf("E2E-GUEST %s round=%lu glitch page=%zu: the bytes read are the "
				       "expected ones, their hash was not\n", name, round, i);
			} else {
				bad++;
				printf("E2E-GUEST %s round=%lu corrupt page=%zu: the bytes read differ "
				       "from what the guest wrote\n", name, round, i);
			}
		}
		if (bad)
			printf("E2E-GUEST %s round=%lu verify=BAD mismatches=%zu glitches=%lu\n", name,
			       round, bad, glitches);
		else
			printf("E2E-GUEST %s round=%lu verify=OK pages=%zu glitches=%lu "
			       "hot_write_us=%lu\n", name, round, total, glitches, hot_write_us);
		fflush(stdout);
		{
			double t0 = now_s();

			write_hot(mem, expect, seed_of, &lay, round);
			hot_write_us = (unsigned long)((now_s() - t0) * 1e6);
		}
	}
	return 0;
}
