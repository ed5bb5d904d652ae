/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * image_ut.c - unit tests of xenshare-estimate's image reader
 * (tools/xenshare-stat/image.c): `xl dump-core` files as xg_core.c lays
 * them out (HVM .xen_pfn with padding entries, PV .xen_p2m), raw images,
 * zstd-compressed either way, and the rejection, with the file named, of
 * truncated, malformed and unrelated files.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <zstd.h>

#include "tools/xenshare-stat/image.h"
#include "ut_common.h"

#define PG 4096u

static char dir[] = "/tmp/image_ut.XXXXXX";
static char path[256];
static char err[512];

static void write_file(const char *name, const void *data, size_t len)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_FATAL(len == 0 || fwrite(data, 1, len, f) == len);
	CU_ASSERT_FATAL(fclose(f) == 0);
}

/*
 * A dump-core image in memory: ELF header, section name table, section
 * headers, then (page aligned) nr pages where page i is filled with byte
 * i+1, then the pfn (stride 8) or p2m (stride 16) array; pfns[i] given.
 */
static uint8_t *build_dumpcore(size_t nr, const uint64_t *pfns, bool p2m, size_t *len)
{
	static const char names[] = "\0.shstrtab\0.xen_pages\0.xen_pfn\0.xen_p2m\0";
	size_t stride = p2m ? 16 : 8;
	size_t names_off = sizeof(Elf64_Ehdr), shoff = 256, pages_off = PG;
	size_t map_off = pages_off + nr * PG;
	uint8_t *m;
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;

	*len = map_off + nr * stride;
	m = calloc(1, *len);
	CU_ASSERT_FATAL(m != NULL);
	eh = (Elf64_Ehdr *)m;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(*eh);
	eh->e_shoff = shoff;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 4;
	eh->e_shstrndx = 1;
	memcpy(m + names_off, names, sizeof(names));
	sh = (Elf64_Shdr *)(m + shoff);
	sh[1] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_STRTAB, .sh_offset = names_off,
			      .sh_size = sizeof(names) };
	sh[2] = (Elf64_Shdr){ .sh_name = 11, .sh_type = SHT_PROGBITS, .sh_offset = pages_off,
			      .sh_size = nr * PG, .sh_addralign = PG, .sh_entsize = PG };
	sh[3] = (Elf64_Shdr){ .sh_name = p2m ? 31 : 22, .sh_type = SHT_PROGBITS,
			      .sh_offset = map_off, .sh_size = nr * stride, .sh_addralign = 8,
			      .sh_entsize = stride };
	for (size_t i = 0; i < nr; i++) {
		memset(m + pages_off + i * PG, (int)(i + 1), PG);
		memcpy(m + map_off + i * stride, &pfns[i], 8);
	}
	return m;
}

static int open_img(struct xse_image *img)
{
	err[0] = '\0';
	return xse_image_open(path, img, err, sizeof(err));
}

/* HVM dump-core: pages found through .xen_pfn, padding (pfn ~0) skipped. */
static void test_dumpcore_hvm(void)
{
	uint64_t pfns[4] = { 0, 5, 9, ~0ull };
	size_t len;
	uint8_t *m = build_dumpcore(4, pfns, false, &len);
	struct xse_image img;

	write_file("hvm.core", m, len);
	CU_ASSERT_EQUAL_FATAL(open_img(&img), 0);
	CU_ASSERT_EQUAL(img.format, XSE_IMG_DUMPCORE);
	CU_ASSERT_EQUAL(img.nr_slots, 4);
	CU_ASSERT_EQUAL(img.nr_pages, 3);
	CU_ASSERT_EQUAL(((const uint8_t *)xse_image_slot(&img, 1))[100], 2);
	CU_ASSERT_PTR_NULL(xse_image_slot(&img, 3));
	CU_ASSERT_PTR_NULL(xse_image_slot(&img, 4));
	xse_image_close(&img);
	free(m);
}

/* PV dump-core: .xen_p2m entries of 16 bytes. */
static void test_dumpcore_pv(void)
{
	uint64_t pfns[2] = { 3, 4 };
	size_t len;
	uint8_t *m = build_dumpcore(2, pfns, true, &len);
	struct xse_image img;

	write_file("pv.core", m, len);
	CU_ASSERT_EQUAL_FATAL(open_img(&img), 0);
	CU_ASSERT_EQUAL(img.pfn_stride, 16);
	CU_ASSERT_EQUAL(img.nr_pages, 2);
	CU_ASSERT_EQUAL(((const uint8_t *)xse_image_slot(&img, 1))[0], 2);
	xse_image_close(&img);
	free(m);
}

/* Broken dump-cores are rejected with the file named and the reason given. */
static void test_dumpcore_broken(void)
{
	uint64_t pfns[4] = { 0, 1, 2, 3 };
	size_t len;
	uint8_t *m = build_dumpcore(4, pfns, false, &len);
	struct xse_image img;
	Elf64_Shdr *sh = (Elf64_Shdr *)(m + 256);

	write_file("trunc.core", m, len - PG);  /* cut into the pages */
	CU_ASSERT_EQUAL(open_img(&img), -EINVAL);
	CU_ASSERT(strstr(err, path) == err);
	CU_ASSERT(strstr(err, "truncated") != NULL);

	write_file("head.core", m, 40);        /* not even a whole ELF header */
	CU_ASSERT_EQUAL(open_img(&img), -EINVAL);
	CU_ASSERT(strstr(err, "ELF header") != NULL);

	sh[3].sh_size -= 8;                    /* pfn array does not match the pages */
	write_file("pfn.core", m, len);
	CU_ASSERT_EQUAL(open_img(&img), -EINVAL);
	CU_ASSERT(strstr(err, ".xen_pfn") != NULL);
	sh[3].sh_size += 8;

	sh[2].sh_name = 1;                     /* no .xen_pages section */
	write_file("nopages.core", m, len);
	CU_ASSERT_EQUAL(open_img(&img), -EINVAL);
	CU_ASSERT(strstr(err, ".xen_pages") != NULL);
	sh[2].sh_name = 11;

	((Elf64_Ehdr *)m)->e_shoff = len - 10; /* section headers past the end */
	write_file("shoff.core", m, len);
	CU_ASSERT_EQUAL(open_img(&img), -EINVAL);
	CU_ASSERT(strstr(err, "section header") != NULL);
	((Elf64_Ehdr *)m)->e_shoff = 256;

	((Elf64_Ehdr *)m)->e_type = ET_EXEC;   /* an ELF program, not a core */
	write_file("exec.core", m, len);
	CU_ASSERT_EQUAL(open_img(&img), -EINVAL);
	CU_ASSERT(strstr(err, "not a core dump") != NULL);
	free(m);
}

/* Raw images: whole pages only; empty, odd-sized and missing files rejected. */
static void test_raw(void)
{
	uint8_t *buf = calloc(3, PG);
	struct xse_image img;

	buf[PG] = 1;
	write_file("ok.raw", buf, 3 * PG);
	CU_ASSERT_EQUAL_FATAL(open_img(&img), 0);
	CU_ASSERT_EQUAL(img.format, XSE_IMG_RAW);
	CU_ASSERT_EQUAL(img.nr_pages, 3);
	CU_ASSERT_EQUAL(((const uint8_t *)xse_image_slot(&img, 1))[0], 1);
	xse_image_close(&img);

	write_file("odd.raw", buf, 3 * PG - 1);
	CU_ASSERT_EQUAL(open_img(&img), -EINVAL);
	CU_ASSERT(strstr(err, "whole number of 4 KiB pages") != NULL);

	write_file("empty.raw", buf, 0);
	CU_ASSERT_EQUAL(open_img(&img), -EINVAL);
	CU_ASSERT(strstr(err, "empty") != NULL);

	snprintf(path, sizeof(path), "%s/missing.raw", dir);
	CU_ASSERT_EQUAL(open_img(&img), -ENOENT);
	CU_ASSERT(strstr(err, "missing.raw") != NULL);
	free(buf);
}

/* zstd: a compressed raw image and a compressed dump-core read like the
 * originals; a truncated or corrupt stream is an error. */
static void test_zstd(void)
{
	uint64_t pfns[2] = { 0, 1 };
	size_t len, clen, bound;
	uint8_t *m = build_dumpcore(2, pfns, false, &len), *c;
	uint8_t *raw = calloc(2, PG);
	struct xse_image img;

	bound = ZSTD_compressBound(len);
	c = malloc(bound);
	clen = ZSTD_compress(c, bound, m, len, 3);
	CU_ASSERT_FATAL(!ZSTD_isError(clen));
	write_file("core.zst", c, clen);
	CU_ASSERT_EQUAL_FATAL(open_img(&img), 0);
	CU_ASSERT(img.compressed);
	CU_ASSERT_EQUAL(img.format, XSE_IMG_DUMPCORE);
	CU_ASSERT_EQUAL(img.nr_pages, 2);
	CU_ASSERT_EQUAL(((const uint8_t *)xse_image_slot(&img, 1))[4095], 2);
	xse_image_close(&img);

	write_file("core-trunc.zst", c, clen / 2);
	CU_ASSERT(open_img(&img) < 0);
	CU_ASSERT(strstr(err, "core-trunc.zst") != NULL);

	/* zstd magic followed by garbage: a corrupt frame header */
	memset(c + 4, 0xff, 100);
	write_file("core-bad.zst", c, 104);
	CU_ASSERT_EQUAL(open_img(&img), -EINVAL);
	CU_ASSERT(strstr(err, "core-bad.zst") != NULL);
	CU_ASSERT(strstr(err, "corrupt zstd data") != NULL);

	clen = ZSTD_compress(c, bound, raw, 2 * PG, 3);
	write_file("raw.zst", c, clen);
	CU_ASSERT_EQUAL_FATAL(open_img(&img), 0);
	CU_ASSERT_EQUAL(img.format, XSE_IMG_RAW);
	CU_ASSERT_EQUAL(img.nr_pages, 2);
	xse_image_close(&img);
	free(c);
	free(m);
	free(raw);
}

int main(void)
{
	static const struct ut_test tests[] = {
		UT(test_dumpcore_hvm),
		UT(test_dumpcore_pv),
		UT(test_dumpcore_broken),
		UT(test_raw),
		UT(test_zstd),
	};
	char cmd[64];
	int failed;

	if (!mkdtemp(dir))
		return 1;
	setenv("TMPDIR", dir, 1);
	failed = UT_RUN("image", NULL, NULL, tests);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return failed;
}
