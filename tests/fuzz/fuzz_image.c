/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_image.c - xenshare-estimate's guest memory image reader
 * (tools/xenshare-stat/image.c): raw images, `xl dump-core` ELF cores and
 * both compressed with zstd, from arbitrary bytes.
 *
 * xse_image_open() takes a path, so each input is written to a file in a
 * private temporary directory first.  The image is mmap()ed, where ASan
 * sees no bounds: the oracle here is explicit instead -- every page and
 * pfn entry the image hands out must lie inside the mapping, the slot
 * counts must add up, and every byte of every page is read (a pointer
 * past the file's last page faults).
 *
 * A zstd frame of a few KiB can decompress to gigabytes (the reader has no
 * limit of its own, by design, for real multi-GiB guests): RLIMIT_FSIZE
 * caps the temporary file at 64 MiB and SIGXFSZ is ignored, so such an
 * input ends as a write error, which is a message, not a finding.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fuzz_common.h"

#include "tools/xenshare-stat/image.h"

static char dir[] = "/tmp/xenshare-fuzz-image.XXXXXX";
static char path[sizeof(dir) + 16];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	struct rlimit rl = { 64 << 20, 64 << 20 };

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/img", dir);
	setenv("TMPDIR", dir, 1);
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &rl);
	return 0;
}

static void write_file(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xse_image img;
	char err[512];
	uint64_t pages = 0, sum = 0;
	int rc;

	write_file(data, size);
	rc = xse_image_open(path, &img, err, sizeof(err));
	unlink(path);
	if (rc) {
		fz_check(rc < 0 && err[0] && fz_terminated(err, sizeof(err)), "rc %d without message", rc);
		fz_check(strstr(err, path), "message does not name the file: %s", err);
		return 0;
	}
	fz_check(img.map && img.map_len, "opened without a mapping");
	fz_check(img.nr_pages <= img.nr_slots, "%llu pages in %llu slots",
		 (unsigned long long)img.nr_pages, (unsigned long long)img.nr_slots);
	if (img.format == XSE_IMG_DUMPCORE) {
		fz_check(img.pfn_stride == 8 || img.pfn_stride == 16, "stride %zu", img.pfn_stride);
		fz_check(img.pfns >= img.map &&
			 img.nr_slots * img.pfn_stride <= img.map_len - (size_t)(img.pfns - img.map),
			 "pfn table outside the file");
	} else {
		fz_check(img.format == XSE_IMG_RAW && !img.pfn_stride && img.nr_pages == img.nr_slots,
			 "raw image inconsistent");
	}
	fz_check(img.pages >= img.map && img.nr_slots <= (img.map_len - (size_t)(img.pages - img.map)) / 4096,
		 "pages outside the file");
	for (uint64_t i = 0; i < img.nr_slots + 2; i++) {
		const uint8_t *p = xse_image_slot(&img, i);

		if (!p)
			continue;
		fz_check(i < img.nr_slots, "slot %llu past the end", (unsigned long long)i);
		fz_check(p >= img.map && p + 4096 <= img.map + img.map_len, "slot %llu outside",
			 (unsigned long long)i);
		for (size_t b = 0; b < 4096; b += 64)
			sum += p[b];
		pages++;
	}
	fz_check(pages == img.nr_pages, "%llu slots have pages, nr_pages says %llu",
		 (unsigned long long)pages, (unsigned long long)img.nr_pages);
	xse_image_close(&img);
	return sum == 1 ? 0 : 0;
}
