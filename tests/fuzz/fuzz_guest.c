/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_guest.c - xensim's guest memory loaders (tools/xensim/guest.c):
 * sim_guest_load_image() (raw, zstd) and sim_guest_load_core() (`xl
 * dump-core` ELF) on arbitrary file contents, for a guest of 1..64 pages.
 *
 * Input: one byte (bit 0: the core loader, else the image loader; bit 1:
 * the file is named *.zst; bits 2-7: the guest's pages - 1), then the file.
 * The loaders take a path, so the bytes go to a file in a private
 * temporary directory first.
 *
 * Properties: an error is a negative errno with a message; every page
 * handed to the sink is for a gfn inside the guest and is a whole 4 KiB
 * readable buffer (the sink reads all of it, so ASan sees any short
 * buffer); raw/zstd images deliver gfns 0, 1, 2, ... in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fuzz_common.h"

#include "tools/xensim/guest.h"

static char dir[] = "/tmp/xenshare-fuzz-guest.XXXXXX";
static char path_plain[sizeof(dir) + 16], path_zst[sizeof(dir) + 16];

struct sink_state {
	uint64_t nr_pages;
	uint64_t next_gfn;      /* image loader: the gfn expected next */
	bool in_order;
	uint64_t delivered;
	uint8_t acc;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(path_plain, sizeof(path_plain), "%s/mem", dir);
	snprintf(path_zst, sizeof(path_zst), "%s/mem.zst", dir);
	return 0;
}

static int sink(void *arg, uint64_t gfn, const void *page)
{
	struct sink_state *st = arg;
	const uint8_t *p = page;

	fz_check(page, "NULL page for gfn %llu", (unsigned long long)gfn);
	fz_check(gfn < st->nr_pages, "gfn %llu of a %llu-page guest", (unsigned long long)gfn,
		 (unsigned long long)st->nr_pages);
	if (st->in_order) {
		fz_check(gfn == st->next_gfn, "image gave gfn %llu, expected %llu",
			 (unsigned long long)gfn, (unsigned long long)st->next_gfn);
		st->next_gfn++;
	}
	for (size_t i = 0; i < SIM_PAGE_SIZE; i++)
		st->acc ^= p[i];
	st->delivered++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink_state st = { 0 };
	const char *path;
	char err[512];
	bool core;
	int fd, rc;

	if (!size)
		return 0;
	core = data[0] & 1;
	path = (data[0] & 2) ? path_zst : path_plain;
	st.nr_pages = 1 + (data[0] >> 2);
	st.in_order = !core;
	data++;
	size--;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd))
		abort();
	memset(err, 0, sizeof(err));
	if (core)
		rc = sim_guest_load_core(path, st.nr_pages, sink, &st, err, sizeof(err));
	else
		rc = sim_guest_load_image(path, st.nr_pages, sink, &st, err, sizeof(err));
	unlink(path);
	fz_check(rc <= 0, "rc %d", rc);
	fz_check(fz_terminated(err, sizeof(err)), "message not terminated");
	if (rc)
		fz_check(err[0], "error %d without a message", rc);
	if (!rc && !core)
		fz_check(st.delivered >= 1, "an image without pages was accepted");
	return 0;
}
