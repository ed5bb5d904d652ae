/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * image.c - opening guest memory images (raw, xl dump-core, zstd) for
 * xenshare-estimate.  See image.h for formats and invariants.
 */
#include "image.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#define PAGE 4096u
#define PFN_INVALID (~(uint64_t)0)    /* XC_CORE_INVALID_PFN of xg_core.h */

static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

static int fail(char *err, size_t errlen, int r, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, int r, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", path);

	if (n < 0 || (size_t)n >= errlen)
		return r;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return r;
}

/* Streams the zstd file in into an unlinked temporary file; returns its fd. */
static int zstd_to_tmpfile(int in, const char *path, char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	size_t in_cap = ZSTD_DStreamInSize(), out_cap = ZSTD_DStreamOutSize();
	uint8_t *ibuf = malloc(in_cap), *obuf = malloc(out_cap);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	size_t last = 1;       /* ZSTD_decompressStream's hint: 0 when a frame ended */
	bool any = false;
	int out = -1, r;

	if (!dir || !dir[0])
		dir = "/var/tmp";
	if (!ibuf || !obuf || !dctx) {
		r = fail(err, errlen, -ENOMEM, path, "out of memory for zstd");
		goto out;
	}
	out = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		fail(err, errlen, r, path, "cannot create a temporary file in %s for the "
		     "decompressed image: %s (set TMPDIR)", dir, strerror(-r));
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, ibuf, in_cap);
		ZSTD_inBuffer ib = { ibuf, 0, 0 };

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			fail(err, errlen, r, path, "read: %s", strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		any = true;
		ib.size = (size_t)n;
		while (ib.pos < ib.size) {
			ZSTD_outBuffer ob = { obuf, out_cap, 0 };

			last = ZSTD_decompressStream(dctx, &ob, &ib);
			if (ZSTD_isError(last)) {
				r = fail(err, errlen, -EINVAL, path, "corrupt zstd data: %s",
					 ZSTD_getErrorName(last));
				goto out;
			}
			for (size_t done = 0; done < ob.pos;) {
				ssize_t w = write(out, obuf + done, ob.pos - done);

				if (w < 0) {
					if (errno == EINTR)
						continue;
					r = -errno;
					fail(err, errlen, r, path, "writing the decompressed image to %s: %s",
					     dir, strerror(-r));
					goto out;
				}
				done += (size_t)w;
			}
		}
	}
	if (!any || last != 0) {
		r = fail(err, errlen, -EINVAL, path, "truncated zstd stream (the file ends inside a frame)");
		goto out;
	}
	r = out;
	out = -1;
out:
	if (out >= 0)
		close(out);
	ZSTD_freeDCtx(dctx);
	free(ibuf);
	free(obuf);
	return r;
}

static bool range_ok(uint64_t off, uint64_t size, uint64_t total)
{
	return off <= total && size <= total - off;
}

static int parse_dumpcore(const char *path, struct xse_image *img, char *err, size_t errlen)
{
	const uint8_t *m = img->map;
	uint64_t len = img->map_len;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
	const Elf64_Shdr *sh, *strtab, *pages = NULL, *pfn = NULL, *p2m = NULL;
	uint64_t nr;

	if (len < sizeof(*eh))
		return fail(err, errlen, -EINVAL, path, "truncated ELF header");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(err, errlen, -EINVAL, path, "not a 64-bit little-endian ELF file "
			    "(xl dump-core of an x86 guest)");
	if (eh->e_type != ET_CORE)
		return fail(err, errlen, -EINVAL, path, "ELF file but not a core dump (e_type %u)",
			    eh->e_type);
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 ||
	    !range_ok(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), len) ||
	    eh->e_shoff % 8)
		return fail(err, errlen, -EINVAL, path, "section header table missing or truncated");
	if (eh->e_shstrndx >= eh->e_shnum)
		return fail(err, errlen, -EINVAL, path, "bad section name table index");
	sh = (const Elf64_Shdr *)(m + eh->e_shoff);
	strtab = &sh[eh->e_shstrndx];
	if (!range_ok(strtab->sh_offset, strtab->sh_size, len) || strtab->sh_size == 0)
		return fail(err, errlen, -EINVAL, path, "section name table truncated");
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		const char *names = (const char *)m + strtab->sh_offset;
		const char *name;

		if (sh[i].sh_name >= strtab->sh_size)
			continue;
		name = names + sh[i].sh_name;
		if (!memchr(name, '\0', strtab->sh_size - sh[i].sh_name))
			continue;
		if (strcmp(name, ".xen_pages") == 0)
			pages = &sh[i];
		else if (strcmp(name, ".xen_pfn") == 0)
			pfn = &sh[i];
		else if (strcmp(name, ".xen_p2m") == 0)
			p2m = &sh[i];
	}
	if (!pages)
		return fail(err, errlen, -EINVAL, path, "ELF core without a .xen_pages section: "
			    "not an `xl dump-core` file");
	if (!pfn && !p2m)
		return fail(err, errlen, -EINVAL, path, "dump-core without .xen_pfn or .xen_p2m section");
	if (pages->sh_size % PAGE)
		return fail(err, errlen, -EINVAL, path, ".xen_pages size %llu is not a multiple of 4096",
			    (unsigned long long)pages->sh_size);
	if (!range_ok(pages->sh_offset, pages->sh_size, len))
		return fail(err, errlen, -EINVAL, path, "truncated: .xen_pages ends at byte %llu, "
			    "the file has %llu", (unsigned long long)(pages->sh_offset + pages->sh_size),
			    (unsigned long long)len);
	nr = pages->sh_size / PAGE;
	img->pfn_stride = pfn ? 8 : 16;
	if (!pfn)
		pfn = p2m;
	if (pfn->sh_size != nr * img->pfn_stride)
		return fail(err, errlen, -EINVAL, path, "%s has %llu bytes for %llu pages",
			    img->pfn_stride == 8 ? ".xen_pfn" : ".xen_p2m",
			    (unsigned long long)pfn->sh_size, (unsigned long long)nr);
	if (!range_ok(pfn->sh_offset, pfn->sh_size, len) || pfn->sh_offset % 8)
		return fail(err, errlen, -EINVAL, path, "truncated: %s section outside the file",
			    img->pfn_stride == 8 ? ".xen_pfn" : ".xen_p2m");
	img->format = XSE_IMG_DUMPCORE;
	img->pages = m + pages->sh_offset;
	img->pfns = m + pfn->sh_offset;
	img->nr_slots = nr;
	img->nr_pages = 0;
	for (uint64_t i = 0; i < nr; i++)
		if (xse_image_slot(img, i))
			img->nr_pages++;
	return 0;
}

const void *xse_image_slot(const struct xse_image *img, uint64_t i)
{
	if (i >= img->nr_slots)
		return NULL;
	if (img->pfn_stride) {
		uint64_t pfn;

		memcpy(&pfn, img->pfns + i * img->pfn_stride, sizeof(pfn));
		if (pfn == PFN_INVALID)
			return NULL;
	}
	return img->pages + i * PAGE;
}

int xse_image_open(const char *path, struct xse_image *img, char *err, size_t errlen)
{
	uint8_t head[4] = { 0 };
	struct stat st;
	int fd, r;
	ssize_t n;

	memset(img, 0, sizeof(*img));
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		return fail(err, errlen, r, path, "%s", strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		fail(err, errlen, r, path, "%s", strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		fail(err, errlen, r, path, "not a regular file");
		goto out;
	}
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0) {
		r = -errno;
		fail(err, errlen, r, path, "%s", strerror(-r));
		goto out;
	}
	if (n == (ssize_t)sizeof(head) && memcmp(head, zstd_magic, 4) == 0) {
		int t = zstd_to_tmpfile(fd, path, err, errlen);

		if (t < 0) {
			r = t;
			goto out;
		}
		close(fd);
		fd = t;
		img->compressed = true;
		n = pread(fd, head, sizeof(head), 0);
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		fail(err, errlen, r, path, "%s", strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = fail(err, errlen, -EINVAL, path, "not a regular file");
		goto out;
	}
	if (st.st_size == 0) {
		r = fail(err, errlen, -EINVAL, path, "empty file");
		goto out;
	}
	img->map_len = (size_t)st.st_size;
	img->map = mmap(NULL, img->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img->map == MAP_FAILED) {
		r = -errno;
		img->map = NULL;
		fail(err, errlen, r, path, "mmap: %s", strerror(-r));
		goto out;
	}
	if (n == 4 && memcmp(head, ELFMAG, SELFMAG) == 0) {
		r = parse_dumpcore(path, img, err, errlen);
		if (r < 0)
			goto out;
	} else {
		if (img->map_len % PAGE) {
			r = fail(err, errlen, -EINVAL, path, "raw image of %zu bytes is not a whole "
				 "number of 4 KiB pages (truncated?)", img->map_len);
			goto out;
		}
		img->format = XSE_IMG_RAW;
		img->pages = img->map;
		img->nr_slots = img->nr_pages = img->map_len / PAGE;
	}
	/* sequential scan first; the kernel reads ahead and may drop pages behind us */
	madvise((void *)img->map, img->map_len, MADV_SEQUENTIAL);
	r = 0;
out:
	close(fd);   /* the mapping keeps the (temporary) file alive */
	if (r < 0)
		xse_image_close(img);
	return r;
}

void xse_image_close(struct xse_image *img)
{
	if (img->map)
		munmap((void *)img->map, img->map_len);
	memset(img, 0, sizeof(*img));
}
