/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * save.c - xensim-save, the toolstack's save of a domain of a xensim host
 * (`xensim save DOM FILE [--live] [--checkpoint]` runs it): Xen 4.17's
 * tools/libs/guest/xg_sr_save.c driven as `xl save` (and `xl save -c`,
 * `xl migrate`'s live loop) drives it, writing guest memory as a raw image
 * that `xensim create ... sim_image=FILE` restores.
 *
 * DOC: Overview
 *
 * It is a client of the host through the drop-in libxenctrl and
 * libxenforeignmemory, built against Debian's headers, so it meets a
 * daemon that holds log-dirty mode exactly as the real toolstack would:
 *  1. live: enable log-dirty; when that fails (EINVAL: someone holds it)
 *     take it over with OFF then ENABLE, xg_sr_save.c's enable_logdirty();
 *  2. live: send every page, then CLEAN rounds sending the pages dirtied
 *     meanwhile, until fewer than 50 are dirty or 5 rounds have passed
 *     (simple_precopy_policy());
 *  3. suspend: the domain is paused (xl suspends the guest; xensim's
 *     guests have no suspend, a pause stops their vCPUs the same way);
 *  4. live: a final CLEAN with XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL and the
 *     pages it names; not live: every page;
 *  5. the oracle, which Xen has not: while the domain is still paused,
 *     compare the image with the guest's memory through read-only
 *     mappings.  Any page that differs is a dirty page the save lost --
 *     another log-dirty user that CLEANed the toolstack's bits away, a
 *     write the hypervisor did not mark -- and fails the save loudly;
 *  6. log-dirty OFF, always, as xg_sr_save.c's cleanup() does (a non-live
 *     save too: it ends a log-dirty mode someone else held);
 *  7. with --checkpoint the domain is unpaused and keeps running (`xl save
 *     -c`), else destroyed (`xl save`); a failed save unpauses it, as xl
 *     resumes a domain whose save failed.
 *
 * Pages are mapped in batches of 1024 (MAX_BATCH_SIZE) and written at
 * gfn * 4096 of FILE; a gfn the hypervisor reports as a hole (err -EINVAL,
 * Xen's XTAB type) reads as zeros there.  Zero pages are not written but
 * left (or punched) as holes of the file, so an image is as sparse as the
 * guest: in_file says which pages hold data.  The sharing ring page of an
 * HVM/PVH guest (HVM_PARAM_SHARING_RING_PFN, above its RAM) is not guest
 * memory and stays out of the image, which ends after the last page that
 * mapped, so it fits the `memory` of the guest it came from.  Any other
 * mapping error fails the save, as write_batch() does.
 *
 * Exit status: 0 saved, 1 the save failed (the host refused, a call
 * failed), 2 bad arguments, 3 the oracle found lost pages (the image is
 * wrong; the domain is unpaused, not destroyed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xen/hvm/params.h>

#define BATCH 1024                   /* xg_sr_common.h MAX_BATCH_SIZE */
#define SPP_MAX_ITERATIONS 5         /* xg_sr_save.c simple_precopy_policy() */
#define SPP_TARGET_DIRTY_COUNT 50
#define LOST_SHOWN 16
#define BITS_PER_LONG (8 * sizeof(unsigned long))

enum { EXIT_SAVED = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_LOST = 3 };

struct save_ctx {
	xc_interface *xch;
	xenforeignmemory_handle *fmem;
	uint32_t domid;
	bool live, checkpoint, json;
	const char *path;
	int fd;
	uint64_t p2m_size;              /* xc_domain_nr_gpfns() */
	uint64_t ring_pfn;              /* the sharing ring page, or UINT64_MAX */
	xc_hypercall_buffer_t dirty_bitmap_hbuf;
	size_t bitmap_pages;
	unsigned long *in_file;         /* bit per gfn: FILE holds data for it */
	/* what happened */
	bool took_over, logdirty, paused;
	unsigned int rounds;            /* page-sending rounds, the final one included */
	uint64_t sent, first_round, last_round;
	uint64_t image_end;             /* last gfn written with data, + 1 */
	uint64_t checked, lost, lost_gfn[LOST_SHOWN];
	char why[256];
};

__attribute__((format(printf, 2, 3)))
static int fail(struct save_ctx *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->why[0]) {
		va_start(ap, fmt);
		vsnprintf(s->why, sizeof(s->why), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool test_bit_(const unsigned long *b, uint64_t i)
{
	return b[i / BITS_PER_LONG] >> (i % BITS_PER_LONG) & 1;
}

static void set_bit_(unsigned long *b, uint64_t i, bool on)
{
	if (on)
		b[i / BITS_PER_LONG] |= 1UL << (i % BITS_PER_LONG);
	else
		b[i / BITS_PER_LONG] &= ~(1UL << (i % BITS_PER_LONG));
}

static const uint8_t zero_page[XC_PAGE_SIZE];

/* Write one page of the image (NULL: the gfn is a hole, zeros). */
static int write_page(struct save_ctx *s, uint64_t gfn, const void *page)
{
	off_t off = (off_t)(gfn * XC_PAGE_SIZE);

	if (page && gfn + 1 > s->image_end)
		s->image_end = gfn + 1;
	if (!page || !memcmp(page, zero_page, XC_PAGE_SIZE)) {
		if (!test_bit_(s->in_file, gfn))
			return 0;
		set_bit_(s->in_file, gfn, false);
		if (!fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, XC_PAGE_SIZE))
			return 0;
		page = zero_page;   /* a file system that cannot punch: write the zeros */
	} else {
		set_bit_(s->in_file, gfn, true);
	}
	if (pwrite(s->fd, page, XC_PAGE_SIZE, off) != XC_PAGE_SIZE)
		return fail(s, "writing gfn %#" PRIx64 " to %s: %s", gfn, s->path, strerror(errno));
	return 0;
}

/* write_batch(): map the batch read-only, write each page to the image. */
static int flush_batch(struct save_ctx *s, const xen_pfn_t *pfns, unsigned int n)
{
	int err[BATCH];
	uint8_t *map;
	int rc = 0;

	if (!n)
		return 0;
	map = xenforeignmemory_map(s->fmem, s->domid, PROT_READ, n, pfns, err);
	if (!map)
		return fail(s, "mapping %u pages of d%u: %s", n, s->domid, strerror(errno));
	for (unsigned int i = 0; i < n && !rc; i++) {
		if (err[i] == -EINVAL)
			rc = write_page(s, pfns[i], NULL);   /* XTAB: not populated */
		else if (err[i])
			rc = fail(s, "mapping of pfn %#" PRIx64 " of d%u failed: %s",
				  (uint64_t)pfns[i], s->domid, strerror(-err[i]));
		else
			rc = write_page(s, pfns[i], map + (size_t)i * XC_PAGE_SIZE);
	}
	xenforeignmemory_unmap(s->fmem, map, n);
	return rc;
}

/* send_dirty_pages(): every pfn whose bit is set (all of them: bitmap NULL). */
static int send_pages(struct save_ctx *s, const unsigned long *bitmap)
{
	xen_pfn_t batch[BATCH];
	unsigned int n = 0;
	uint64_t count = 0;

	for (uint64_t p = 0; p < s->p2m_size; p++) {
		if ((bitmap && !test_bit_(bitmap, p)) || p == s->ring_pfn)
			continue;
		batch[n++] = p;
		count++;
		if (n == BATCH) {
			if (flush_batch(s, batch, n))
				return -1;
			n = 0;
		}
	}
	if (flush_batch(s, batch, n))
		return -1;
	s->rounds++;
	s->sent += count;
	if (s->rounds == 1)
		s->first_round = count;
	s->last_round = count;
	return 0;
}

/* enable_logdirty(): if someone holds log-dirty mode, take it over. */
static int enable_logdirty(struct save_ctx *s)
{
	int on1 = 0, off = 0, on2 = 0;

	if (xc_shadow_control(s->xch, s->domid, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, NULL, 0) < 0) {
		on1 = errno;
		if (xc_shadow_control(s->xch, s->domid, XEN_DOMCTL_SHADOW_OP_OFF, NULL, 0) < 0)
			off = errno;
		else if (xc_shadow_control(s->xch, s->domid, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY,
					   NULL, 0) < 0)
			on2 = errno;
		if (off || on2)
			return fail(s, "failed to enable log-dirty mode of d%u: %d,%d,%d (%s)",
				    s->domid, on1, off, on2, strerror(off ? off : on2));
		s->took_over = true;
	}
	s->logdirty = true;
	return 0;
}

static bool precopy_done(int64_t dirty_count, unsigned int iteration)
{
	return (dirty_count >= 0 && dirty_count < SPP_TARGET_DIRTY_COUNT) ||
	       iteration >= SPP_MAX_ITERATIONS;
}

/* send_memory_live(): all pages, then CLEAN rounds while the guest runs. */
static int send_memory_live(struct save_ctx *s)
{
	DECLARE_HYPERCALL_BUFFER_SHADOW(unsigned long, dirty_bitmap, &s->dirty_bitmap_hbuf);
	xc_shadow_op_stats_t stats = { 0, (uint32_t)s->p2m_size };
	int64_t dirty = (int64_t)s->p2m_size;
	unsigned int iteration = 0;
	bool all = true;

	for (;;) {
		bool stop = precopy_done(dirty, iteration);

		if (stats.dirty_count > 0 && send_pages(s, all ? NULL : dirty_bitmap))
			return -1;
		all = false;
		if (stop)
			break;
		iteration++;
		if (precopy_done(-1, iteration))
			break;
		if (xc_logdirty_control(s->xch, s->domid, XEN_DOMCTL_SHADOW_OP_CLEAN,
					&s->dirty_bitmap_hbuf, s->p2m_size, 0, &stats) !=
		    (long long)s->p2m_size)
			return fail(s, "failed to retrieve the log-dirty bitmap of d%u: %s",
				    s->domid, strerror(errno));
		dirty = stats.dirty_count;
	}
	return 0;
}

/* suspend_and_send_dirty(): the final round, the domain paused. */
static int send_final(struct save_ctx *s)
{
	DECLARE_HYPERCALL_BUFFER_SHADOW(unsigned long, dirty_bitmap, &s->dirty_bitmap_hbuf);
	xc_shadow_op_stats_t stats = { 0, 0 };

	if (xc_logdirty_control(s->xch, s->domid, XEN_DOMCTL_SHADOW_OP_CLEAN,
				HYPERCALL_BUFFER(dirty_bitmap), s->p2m_size,
				XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL, &stats) != (long long)s->p2m_size)
		return fail(s, "failed to retrieve the final log-dirty bitmap of d%u: %s",
			    s->domid, strerror(errno));
	return send_pages(s, dirty_bitmap);
}

/* The oracle: the image against the paused guest's memory. */
static int check_image(struct save_ctx *s)
{
	static uint8_t page[XC_PAGE_SIZE];
	xen_pfn_t batch[BATCH];
	int err[BATCH];

	for (uint64_t first = 0; first < s->p2m_size; first += BATCH) {
		unsigned int n = 0;
		uint8_t *map;

		for (uint64_t p = first; p < s->p2m_size && p < first + BATCH; p++)
			if (p != s->ring_pfn)
				batch[n++] = p;
		if (!n)
			continue;
		map = xenforeignmemory_map(s->fmem, s->domid, PROT_READ, n, batch, err);
		if (!map)
			return fail(s, "checking the image: mapping d%u: %s", s->domid, strerror(errno));
		for (unsigned int i = 0; i < n; i++) {
			ssize_t got;

			if (err[i] == -EINVAL)
				continue;   /* a hole now: the guest gave the page back */
			if (err[i]) {
				xenforeignmemory_unmap(s->fmem, map, n);
				return fail(s, "checking the image: mapping of pfn %#" PRIx64 ": %s",
					    (uint64_t)batch[i], strerror(-err[i]));
			}
			got = pread(s->fd, page, XC_PAGE_SIZE, (off_t)(batch[i] * XC_PAGE_SIZE));
			if (got < 0) {
				xenforeignmemory_unmap(s->fmem, map, n);
				return fail(s, "reading %s back: %s", s->path, strerror(errno));
			}
			memset(page + got, 0, XC_PAGE_SIZE - (size_t)got);   /* past the end: zeros */
			s->checked++;
			if (memcmp(page, map + (size_t)i * XC_PAGE_SIZE, XC_PAGE_SIZE)) {
				if (s->lost < LOST_SHOWN)
					s->lost_gfn[s->lost] = batch[i];
				s->lost++;
			}
		}
		xenforeignmemory_unmap(s->fmem, map, n);
	}
	return 0;
}

static int setup(struct save_ctx *s)
{
	DECLARE_HYPERCALL_BUFFER_SHADOW(unsigned long, dirty_bitmap, &s->dirty_bitmap_hbuf);
	xc_dominfo_t di;
	xen_pfn_t nr;
	uint64_t ring = 0;
	struct stat sb;

	if (xc_domain_getinfo(s->xch, s->domid, 1, &di) != 1 || di.domid != s->domid)
		return fail(s, "no domain %u", s->domid);
	if (di.dying || di.shutdown || di.crashed)
		return fail(s, "d%u is %s", s->domid, di.crashed ? "crashed" : "shutting down");
	if (xc_domain_nr_gpfns(s->xch, s->domid, &nr) < 0)
		return fail(s, "p2m size of d%u: %s", s->domid, strerror(errno));
	s->p2m_size = nr;
	s->ring_pfn = UINT64_MAX;
	if (di.hvm && xc_hvm_param_get(s->xch, s->domid, HVM_PARAM_SHARING_RING_PFN, &ring) == 0 &&
	    ring)
		s->ring_pfn = ring;

	/* a FIFO or a device would block or make no image: a regular file only */
	s->fd = open(s->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644);
	if (s->fd < 0)
		return fail(s, "cannot create %s: %s", s->path, strerror(errno));
	if (fstat(s->fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		return fail(s, "%s is not a regular file", s->path);
	if (fcntl(s->fd, F_SETFL, 0) < 0)
		return fail(s, "%s: %s", s->path, strerror(errno));

	s->bitmap_pages = (size_t)((s->p2m_size + 8 * XC_PAGE_SIZE - 1) / (8 * XC_PAGE_SIZE));
	dirty_bitmap = xc_hypercall_buffer_alloc_pages(s->xch, dirty_bitmap, (int)s->bitmap_pages);
	s->in_file = calloc((s->p2m_size + BITS_PER_LONG - 1) / BITS_PER_LONG, sizeof(long));
	if (!dirty_bitmap || !s->in_file)
		return fail(s, "cannot allocate the bitmaps of %" PRIu64 " pages: %s", s->p2m_size,
			    strerror(errno));
	return 0;
}

static void print_result(const struct save_ctx *s, bool ok)
{
	if (s->json) {
		printf("{\"domid\": %u, \"live\": %s, \"checkpoint\": %s, \"ok\": %s, \"took_over\": %s"
		       ", \"rounds\": %u, \"pages_sent\": %" PRIu64 ", \"first_round\": %" PRIu64
		       ", \"final_round\": %" PRIu64 ", \"image_pages\": %" PRIu64
		       ", \"checked\": %" PRIu64 ", \"lost\": %" PRIu64 ", \"lost_gfns\": [",
		       s->domid, s->live ? "true" : "false", s->checkpoint ? "true" : "false",
		       ok ? "true" : "false", s->took_over ? "true" : "false", s->rounds, s->sent,
		       s->first_round, s->last_round, s->image_end, s->checked, s->lost);
		for (uint64_t i = 0; i < s->lost && i < LOST_SHOWN; i++)
			printf("%s%" PRIu64, i ? ", " : "", s->lost_gfn[i]);
		printf("], \"error\": ");
		if (s->why[0]) {
			putchar('"');
			for (const char *c = s->why; *c; c++) {
				if (*c == '"' || *c == '\\')
					putchar('\\');
				putchar(*c);
			}
			putchar('"');
		} else {
			printf("null");
		}
		printf("}\n");
		return;
	}
	if (s->rounds)
		printf("xensim save: d%u -> %s: %s, %u rounds, %" PRIu64 " pages sent (%" PRIu64
		       " in the first round, %" PRIu64 " in the last)%s\n", s->domid, s->path,
		       s->live ? "live" : "not live", s->rounds, s->sent, s->first_round,
		       s->last_round,
		       s->took_over ? "; log-dirty mode was held by another user: taken over" : "");
	if (s->checked)
		printf("xensim save: oracle: %" PRIu64 " of %" PRIu64 " pages of the image differ "
		       "from the paused guest%s\n", s->lost, s->checked,
		       s->lost ? " (dirty pages the save lost)" : "");
	for (uint64_t i = 0; i < s->lost && i < LOST_SHOWN; i++)
		printf("xensim save: lost: d%u gfn %#" PRIx64 "\n", s->domid, s->lost_gfn[i]);
}

static int usage(const char *why)
{
	fprintf(stderr, "xensim-save: %s\nUsage: xensim-save [--live] [--checkpoint] [--json] "
		"DOMID FILE (run by `xensim save`)\n", why);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "live", no_argument, NULL, 'l' },
		{ "checkpoint", no_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct save_ctx s = { .fd = -1 };
	unsigned long domid;
	char *end;
	int c, rc = -1, status;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': s.live = true; break;
		case 'c': s.checkpoint = true; break;
		case 'j': s.json = true; break;
		default: return usage("bad option");
		}
	}
	if (argc - optind != 2)
		return usage("expected DOMID and FILE");
	errno = 0;
	domid = strtoul(argv[optind], &end, 10);
	if (errno || *end || end == argv[optind] || domid == 0 || domid >= DOMID_FIRST_RESERVED)
		return usage("DOMID must be the id of a guest");
	s.domid = (uint32_t)domid;
	s.path = argv[optind + 1];

	s.xch = xc_interface_open(NULL, NULL, 0);
	s.fmem = xenforeignmemory_open(NULL, 0);
	if (!s.xch || !s.fmem) {
		fail(&s, "cannot open the Xen libraries: %s", strerror(errno));
		goto out;
	}
	if (setup(&s))
		goto out;
	if (s.live && (enable_logdirty(&s) || send_memory_live(&s)))
		goto out;
	if (xc_domain_pause(s.xch, s.domid) < 0) {
		fail(&s, "cannot pause d%u: %s", s.domid, strerror(errno));
		goto out;
	}
	s.paused = true;
	if (s.live ? send_final(&s) : send_pages(&s, NULL))
		goto out;
	if (ftruncate(s.fd, (off_t)(s.image_end * XC_PAGE_SIZE)) < 0) {
		fail(&s, "%s: %s", s.path, strerror(errno));
		goto out;
	}
	if (check_image(&s))
		goto out;
	rc = 0;
out:
	if (s.xch) {
		DECLARE_HYPERCALL_BUFFER_SHADOW(unsigned long, dirty_bitmap, &s.dirty_bitmap_hbuf);

		/* cleanup(): whoever held log-dirty mode, it is off now */
		xc_shadow_control(s.xch, s.domid, XEN_DOMCTL_SHADOW_OP_OFF, NULL, 0);
		if (s.paused && (rc || s.lost || s.checkpoint)) {
			if (xc_domain_unpause(s.xch, s.domid) < 0)
				fprintf(stderr, "xensim save: unpausing d%u: %s\n", s.domid,
					strerror(errno));
		} else if (s.paused && xc_domain_destroy(s.xch, s.domid) < 0) {
			fail(&s, "cannot destroy d%u after saving it: %s", s.domid, strerror(errno));
			rc = -1;
		}
		xc_hypercall_buffer_free_pages(s.xch, dirty_bitmap, (int)s.bitmap_pages);
	}
	free(s.in_file);
	if (s.fd >= 0 && close(s.fd) < 0 && !rc)
		rc = fail(&s, "closing %s: %s", s.path, strerror(errno));
	print_result(&s, rc == 0 && !s.lost);
	if (rc)
		fprintf(stderr, "xensim save: d%u: %s\n", s.domid, s.why);
	else if (s.lost)
		fprintf(stderr, "xensim save: d%u: the image lost %" PRIu64 " dirty pages\n",
			s.domid, s.lost);
	status = rc ? EXIT_FAILED : s.lost ? EXIT_LOST : EXIT_SAVED;
	if (s.fmem)
		xenforeignmemory_close(s.fmem);
	if (s.xch)
		xc_interface_close(s.xch);
	return status;
}
