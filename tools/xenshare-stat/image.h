/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * image.h - guest memory images for xenshare-estimate, mapped read-only.
 *
 * Three formats, told apart by their first bytes, never by the file name:
 *  - `xl dump-core` files: ELF64 ET_CORE with the sections .xen_pages (the
 *    page contents, 4 KiB each) and .xen_pfn (HVM/PVH: one uint64 pfn per
 *    page) or .xen_p2m (PV: {pfn, gmfn} per page), as written by Xen's
 *    tools/libs/guest/xg_core.c.  Entries whose pfn is ~0 are the zero
 *    padding xg_core.c writes when a live guest shrank during the dump:
 *    they are not guest memory and are skipped.
 *  - raw images: guest-physical address 0 upwards, 4 KiB pages (QEMU
 *    pmemsave, `dd` of a memory file); the size must be a whole, non-zero
 *    number of pages.
 *  - either of the above compressed with zstd (frame magic 28 b5 2f fd):
 *    decompressed by streaming into an unlinked temporary file under
 *    $TMPDIR (default /var/tmp), which is then mapped like any file.
 *    libzstd (Debian libzstd-dev) does the decompression.
 *
 * Memory: images are mmap()ed, never read into the heap, so the page cache
 * holds them once and can drop them under pressure; several GiB of input
 * cost address space, not resident memory.  Every offset and size in an
 * ELF header is checked against the file size before use, so a truncated
 * or crafted file gives an error naming the file and the problem, never a
 * read outside the mapping.
 */
#ifndef XSE_IMAGE_H
#define XSE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xse_image_format { XSE_IMG_RAW, XSE_IMG_DUMPCORE };

struct xse_image {
	enum xse_image_format format;
	bool compressed;           /* was zstd; data is the decompressed copy */
	const uint8_t *map;        /* whole (decompressed) file */
	size_t map_len;
	const uint8_t *pages;      /* first page */
	uint64_t nr_slots;         /* pages in the file, including skipped padding */
	uint64_t nr_pages;         /* guest pages (slots minus padding) */
	const uint8_t *pfns;       /* dump-core: pfn of slot i at pfns + i * pfn_stride */
	size_t pfn_stride;         /* 8 (.xen_pfn) or 16 (.xen_p2m); 0 for raw */
};

/*
 * Opens and validates path.  On error returns -errno (-EINVAL for a bad
 * format) with a message in err that names the file.
 */
int xse_image_open(const char *path, struct xse_image *img, char *err, size_t errlen);
void xse_image_close(struct xse_image *img);

/* Page of slot i, or NULL when the slot is dump-core padding (not a guest page). */
const void *xse_image_slot(const struct xse_image *img, uint64_t i);

#endif /* XSE_IMAGE_H */
