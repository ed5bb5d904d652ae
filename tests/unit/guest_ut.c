/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest_ut.c - unit tests of tools/xensim/guest.c: generated profiles give
 * the requested mix, image and core loaders put pages at the right gfns and
 * reject truncated or garbage files with a clear error.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <zstd.h>

#include "tools/xensim/guest.h"
#include "ut_common.h"

#define PG 4096u
#define NR 1000u

static char tmpdir[64];
static char err[512];

/* A guest memory in an array, with a count of how often each gfn was written. */
struct mem {
	uint64_t nr;
	uint8_t *pages;
	unsigned int *writes;
};

static void mem_init(struct mem *m, uint64_t nr)
{
	m->nr = nr;
	m->pages = calloc(nr, PG);
	m->writes = calloc(nr, sizeof(*m->writes));
}

static void mem_fini(struct mem *m)
{
	free(m->pages);
	free(m->writes);
}

static int sink(void *arg, uint64_t gfn, const void *page)
{
	struct mem *m = arg;

	if (gfn >= m->nr)
		return -ERANGE;
	memcpy(m->pages + gfn * PG, page, PG);
	m->writes[gfn]++;
	return 0;
}

static int write_file(const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len)
		rc = -1;
	if (fclose(f))
		rc = -1;
	return rc;
}

static const char *tpath(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static bool is_zero(const uint8_t *p)
{
	for (unsigned int i = 0; i < PG; i++)
		if (p[i])
			return false;
	return true;
}

/* The pool the profile tests draw "os" pages from: 2 files of random blocks. */
#define POOL_BLOCKS 700
static uint8_t *pool;

/* Suite set-up: the pool files. */
static int make_os_dir(void)
{
	char dir[256];
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/os", tmpdir);
	if (mkdir(dir, 0700) != 0)
		return -1;
	pool = malloc((size_t)POOL_BLOCKS * PG);
	for (unsigned int i = 0; i < POOL_BLOCKS; i++)
		sim_guest_fill_random(pool + (size_t)i * PG, 777, i);
	/* libA.so: 400 blocks with a zero block in the middle (must be skipped) */
	uint8_t *a = calloc(401, PG);
	memcpy(a, pool, 200 * PG);
	memcpy(a + 201 * PG, pool + 200 * PG, 200 * PG);
	rc |= write_file("os/libA.so", a, 401 * PG);
	free(a);
	rc |= write_file("os/libB.so.1", pool + 400 * PG, (POOL_BLOCKS - 400) * PG);
	rc |= write_file("os/README", "not a library", 13);
	return rc;
}

static bool in_pool(const uint8_t *p)
{
	for (unsigned int i = 0; i < POOL_BLOCKS; i++)
		if (memcmp(pool + (size_t)i * PG, p, PG) == 0)
			return true;
	return false;
}

static unsigned int copies(const struct mem *m, const uint8_t *p)
{
	unsigned int n = 0;

	for (uint64_t g = 0; g < m->nr; g++)
		if (memcmp(m->pages + g * PG, p, PG) == 0)
			n++;
	return n;
}

static const struct sim_profile mix = { .os = 0.5, .zero = 0.15, .dup = 0.1, .unique = 0.25 };

/* The fractions of a profile become exactly that many os/zero/dup/unique pages, each gfn written once. */
static void test_profile_mix(void)
{
	struct mem m;
	char osdir[256];
	unsigned int os = 0, zero = 0, dup = 0, unique = 0;

	snprintf(osdir, sizeof(osdir), "%s/os", tmpdir);
	mem_init(&m, NR);
	CU_ASSERT_FATAL(sim_guest_gen_profile(&mix, osdir, 1, NR, sink, &m, err, sizeof(err)) == 0);
	for (uint64_t g = 0; g < NR; g++) {
		const uint8_t *p = m.pages + g * PG;

		CU_ASSERT(m.writes[g] == 1);
		if (is_zero(p))
			zero++;
		else if (in_pool(p))
			os++;
		else if (copies(&m, p) > 1)
			dup++;
		else
			unique++;
	}
	CU_ASSERT(os == 500);
	CU_ASSERT(zero == 150);
	CU_ASSERT(dup == 100);
	CU_ASSERT(unique == 250);
	mem_fini(&m);
}

/* Two seeds: the same os contents at different gfns; one seed twice: identical memory. */
static void test_profile_layout(void)
{
	struct mem a, b, c;
	char osdir[256];
	uint64_t first_a = NR, first_b = NR;

	snprintf(osdir, sizeof(osdir), "%s/os", tmpdir);
	mem_init(&a, NR);
	mem_init(&b, NR);
	mem_init(&c, NR);
	CU_ASSERT_FATAL(sim_guest_gen_profile(&mix, osdir, 1, NR, sink, &a, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(sim_guest_gen_profile(&mix, osdir, 2, NR, sink, &b, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(sim_guest_gen_profile(&mix, osdir, 1, NR, sink, &c, err, sizeof(err)) == 0);
	CU_ASSERT(memcmp(a.pages, c.pages, (size_t)NR * PG) == 0);
	for (uint64_t g = 0; g < NR; g++) {
		if (first_a == NR && memcmp(a.pages + g * PG, pool, PG) == 0)
			first_a = g;
		if (first_b == NR && memcmp(b.pages + g * PG, pool, PG) == 0)
			first_b = g;
	}
	CU_ASSERT(first_a < NR && first_b < NR && first_a != first_b);
	/* every os page of a is also somewhere in b */
	unsigned int missing = 0;
	for (uint64_t g = 0; g < NR; g++)
		if (in_pool(a.pages + g * PG) && copies(&b, a.pages + g * PG) == 0)
			missing++;
	CU_ASSERT(missing == 0);
	mem_fini(&a);
	mem_fini(&b);
	mem_fini(&c);
}

/* An os fraction with no library files to draw from is a clear error. */
static void test_profile_empty_os_dir(void)
{
	struct mem m;
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/emptyos", tmpdir);
	CU_ASSERT_FATAL(mkdir(dir, 0700) == 0);
	mem_init(&m, 10);
	CU_ASSERT(sim_guest_gen_profile(&mix, dir, 1, 10, sink, &m, err, sizeof(err)) == -ENOENT);
	CU_ASSERT(strstr(err, "no readable") != NULL);
	snprintf(dir, sizeof(dir), "%s/nonexistent", tmpdir);
	CU_ASSERT(sim_guest_gen_profile(&mix, dir, 1, 10, sink, &m, err, sizeof(err)) == -ENOENT);
	CU_ASSERT(strstr(err, "nonexistent") != NULL);
	mem_fini(&m);
}

/* A raw image lands at gfn 0 upwards; truncated, oversized and empty images are refused. */
static void test_raw_image(void)
{
	struct mem m;
	uint8_t *img = malloc(3 * PG + 1);

	for (unsigned int i = 0; i < 3; i++)
		sim_guest_fill_random(img + i * PG, 5, i);
	CU_ASSERT_FATAL(write_file("good.raw", img, 3 * PG) == 0);
	CU_ASSERT_FATAL(write_file("trunc.raw", img, 2 * PG + 100) == 0);
	CU_ASSERT_FATAL(write_file("empty.raw", img, 0) == 0);
	mem_init(&m, 4);
	CU_ASSERT(sim_guest_load_image(tpath("good.raw"), 4, sink, &m, err, sizeof(err)) == 0);
	CU_ASSERT(memcmp(m.pages, img, 3 * PG) == 0);
	CU_ASSERT(m.writes[0] == 1 && m.writes[2] == 1 && m.writes[3] == 0);
	CU_ASSERT(sim_guest_load_image(tpath("trunc.raw"), 4, sink, &m, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "whole number") != NULL);
	CU_ASSERT(sim_guest_load_image(tpath("good.raw"), 2, sink, &m, err, sizeof(err)) == -EFBIG);
	CU_ASSERT(strstr(err, "only 2") != NULL);
	CU_ASSERT(sim_guest_load_image(tpath("empty.raw"), 4, sink, &m, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(sim_guest_load_image(tpath("missing.raw"), 4, sink, &m, err, sizeof(err)) == -ENOENT);
	CU_ASSERT(strstr(err, "cannot open") != NULL);
	mem_fini(&m);
	free(img);
}

/* A zstd image decompresses to the same pages; truncated and garbage streams are refused. */
static void test_zstd_image(void)
{
	struct mem m;
	size_t raw_len = 64 * PG;
	uint8_t *img = calloc(64, PG);
	size_t cap = ZSTD_compressBound(raw_len);
	uint8_t *z = malloc(cap);
	size_t zlen;

	for (unsigned int i = 0; i < 64; i += 2)
		sim_guest_fill_random(img + i * PG, 6, i);
	zlen = ZSTD_compress(z, cap, img, raw_len, 3);
	CU_ASSERT_FATAL(!ZSTD_isError(zlen));
	CU_ASSERT_FATAL(write_file("good.raw.zst", z, zlen) == 0);
	CU_ASSERT_FATAL(write_file("trunc.raw.zst", z, zlen - 100) == 0);
	CU_ASSERT_FATAL(write_file("fake.zst", img + PG * 2, 5000) == 0);
	memcpy(img, z, 4); /* zstd magic then garbage */
	CU_ASSERT_FATAL(write_file("garbage.bin", img, 3 * PG) == 0);
	mem_init(&m, 64);
	CU_ASSERT(sim_guest_load_image(tpath("good.raw.zst"), 64, sink, &m, err, sizeof(err)) == 0);
	sim_guest_fill_random(img, 6, 0);
	CU_ASSERT(memcmp(m.pages, img, raw_len) == 0);
	CU_ASSERT(sim_guest_load_image(tpath("good.raw.zst"), 63, sink, &m, err, sizeof(err)) == -EFBIG);
	CU_ASSERT(sim_guest_load_image(tpath("trunc.raw.zst"), 64, sink, &m, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "truncated") != NULL || strstr(err, "corrupt") != NULL);
	CU_ASSERT(sim_guest_load_image(tpath("fake.zst"), 64, sink, &m, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "not zstd") != NULL);
	CU_ASSERT(sim_guest_load_image(tpath("garbage.bin"), 64, sink, &m, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "corrupt") != NULL || strstr(err, "truncated") != NULL);
	mem_fini(&m);
	free(img);
	free(z);
}

/* Builds an xl dump-core-like ELF: .shstrtab, the map section, .xen_pages. */
static size_t make_elf(uint8_t **out, uint16_t e_type, const uint64_t *map, size_t map_len,
		       const char *map_name, const uint8_t *pages, size_t nr)
{
	char strtab[64];
	size_t strtab_len, off;
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[4] = { 0 };
	uint8_t *f;
	int n1, n2;

	n1 = 1;
	n2 = n1 + snprintf(strtab + n1, sizeof(strtab) - n1, ".shstrtab") + 1;
	int n3 = n2 + snprintf(strtab + n2, sizeof(strtab) - n2, "%s", map_name) + 1;
	strtab_len = (size_t)n3 + snprintf(strtab + n3, sizeof(strtab) - n3, ".xen_pages") + 1;
	strtab[0] = '\0';

	off = sizeof(eh);
	sh[1] = (Elf64_Shdr){ .sh_name = n1, .sh_type = SHT_STRTAB, .sh_offset = off, .sh_size = strtab_len };
	off += strtab_len;
	sh[2] = (Elf64_Shdr){ .sh_name = n2, .sh_type = SHT_PROGBITS, .sh_offset = off, .sh_size = map_len };
	off += map_len;
	off = (off + PG - 1) / PG * PG;
	sh[3] = (Elf64_Shdr){ .sh_name = n3, .sh_type = SHT_PROGBITS, .sh_offset = off, .sh_size = nr * PG };
	off += nr * PG;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = e_type;
	eh.e_machine = EM_X86_64;
	eh.e_shoff = off;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 4;
	eh.e_shstrndx = 1;
	eh.e_ehsize = sizeof(eh);
	f = calloc(1, off + sizeof(sh));
	memcpy(f, &eh, sizeof(eh));
	memcpy(f + sh[1].sh_offset, strtab, strtab_len);
	memcpy(f + sh[2].sh_offset, map, map_len);
	memcpy(f + sh[3].sh_offset, pages, nr * PG);
	memcpy(f + off, sh, sizeof(sh));
	*out = f;
	return off + sizeof(sh);
}

static size_t make_core(uint8_t **out, const uint64_t *map, size_t map_len,
			const char *map_name, const uint8_t *pages, size_t nr)
{
	return make_elf(out, ET_CORE, map, map_len, map_name, pages, nr);
}

/* A core's pages go to the gfns of .xen_pfn / .xen_p2m; bad cores are refused. */
static void test_core(void)
{
	uint8_t pages[3 * PG], *core;
	uint64_t pfn[3] = { 7, 2, ~0ULL };
	uint64_t p2m[6] = { 1, 100, 5, 101, 0, 102 };
	uint64_t far[3] = { 7, 2, 4000 };
	size_t len;
	struct mem m;

	for (unsigned int i = 0; i < 3; i++)
		sim_guest_fill_random(pages + i * PG, 8, i);
	mem_init(&m, 8);

	len = make_core(&core, pfn, sizeof(pfn), ".xen_pfn", pages, 3);
	CU_ASSERT_FATAL(write_file("hvm.core", core, len) == 0);
	CU_ASSERT_FATAL(write_file("trunc.core", core, len - 200) == 0);
	CU_ASSERT_FATAL(write_file("headonly.core", core, 30) == 0);
	free(core);
	CU_ASSERT(sim_guest_load_core(tpath("hvm.core"), 8, sink, &m, err, sizeof(err)) == 0);
	CU_ASSERT(memcmp(m.pages + 7 * PG, pages, PG) == 0);
	CU_ASSERT(memcmp(m.pages + 2 * PG, pages + PG, PG) == 0);
	CU_ASSERT(m.writes[0] == 0 && m.writes[7] == 1 && m.writes[2] == 1);
	CU_ASSERT(sim_guest_load_core(tpath("trunc.core"), 8, sink, &m, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "section header") != NULL);
	CU_ASSERT(sim_guest_load_core(tpath("headonly.core"), 8, sink, &m, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(sim_guest_load_core(tpath("good.raw"), 8, sink, &m, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "not an ELF") != NULL);

	len = make_core(&core, p2m, sizeof(p2m), ".xen_p2m", pages, 3);
	CU_ASSERT_FATAL(write_file("pv.core", core, len) == 0);
	free(core);
	CU_ASSERT(sim_guest_load_core(tpath("pv.core"), 8, sink, &m, err, sizeof(err)) == 0);
	CU_ASSERT(memcmp(m.pages + 1 * PG, pages, PG) == 0);
	CU_ASSERT(memcmp(m.pages + 0 * PG, pages + 2 * PG, PG) == 0);

	len = make_core(&core, far, sizeof(far), ".xen_pfn", pages, 3);
	CU_ASSERT_FATAL(write_file("far.core", core, len) == 0);
	free(core);
	CU_ASSERT(sim_guest_load_core(tpath("far.core"), 8, sink, &m, err, sizeof(err)) == -EFBIG);
	CU_ASSERT(strstr(err, "beyond") != NULL);

	/* a map that does not match the page count */
	len = make_core(&core, pfn, 16, ".xen_pfn", pages, 3);
	CU_ASSERT_FATAL(write_file("short.core", core, len) == 0);
	free(core);
	CU_ASSERT(sim_guest_load_core(tpath("short.core"), 8, sink, &m, err, sizeof(err)) == -EINVAL);
	/* an ELF file as sim_image is pointed at sim_core */
	CU_ASSERT(sim_guest_load_image(tpath("hvm.core"), 8, sink, &m, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "sim_core") != NULL);
	mem_fini(&m);
}

/*
 * An ELF with every dump-core section but not of type ET_CORE (an object
 * or executable someone added sections to) is refused as xenshare-estimate
 * refuses it, and no page of it reaches the guest.
 */
static void test_core_not_a_core(void)
{
	static const uint16_t types[] = { ET_REL, ET_EXEC, ET_DYN, ET_NONE };
	uint8_t pages[3 * PG], *elf;
	uint64_t pfn[3] = { 7, 2, 1 };
	struct mem m;
	size_t len;

	for (unsigned int i = 0; i < 3; i++)
		sim_guest_fill_random(pages + i * PG, 9, i);
	for (unsigned int t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		mem_init(&m, 8);
		len = make_elf(&elf, types[t], pfn, sizeof(pfn), ".xen_pfn", pages, 3);
		CU_ASSERT_FATAL(write_file("notcore.elf", elf, len) == 0);
		free(elf);
		err[0] = '\0';
		CU_ASSERT(sim_guest_load_core(tpath("notcore.elf"), 8, sink, &m, err, sizeof(err)) == -EINVAL);
		CU_ASSERT(strstr(err, "not a core dump") != NULL);
		for (unsigned int g = 0; g < 8; g++)
			CU_ASSERT(m.writes[g] == 0);
		mem_fini(&m);
	}
}

/*
 * A FIFO, a directory or a character device named as sim_image or sim_core
 * is refused at once with the key and the path in the message; opening it
 * for reading would wait for a writer and stall the single-threaded host.
 * (Without the check this test blocks in open() on the FIFO.)
 */
static void test_not_regular(void)
{
	const char *paths[] = { tpath("fifo"), tmpdir, "/dev/null" };
	char fifo[256];
	struct mem m;

	snprintf(fifo, sizeof(fifo), "%s", tpath("fifo"));
	paths[0] = fifo;
	CU_ASSERT_FATAL(mkfifo(fifo, 0600) == 0);
	mem_init(&m, 8);
	for (unsigned int i = 0; i < 3; i++) {
		err[0] = '\0';
		CU_ASSERT(sim_guest_load_image(paths[i], 8, sink, &m, err, sizeof(err)) == -EINVAL);
		CU_ASSERT(strstr(err, "sim_image") != NULL && strstr(err, paths[i]) != NULL &&
			  strstr(err, "not a regular file") != NULL);
		err[0] = '\0';
		CU_ASSERT(sim_guest_load_core(paths[i], 8, sink, &m, err, sizeof(err)) == -EINVAL);
		CU_ASSERT(strstr(err, "sim_core") != NULL && strstr(err, paths[i]) != NULL);
	}
	CU_ASSERT(strstr(err, "a character device") != NULL);
	CU_ASSERT(sim_guest_load_image(fifo, 8, sink, &m, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "a FIFO") != NULL);
	for (unsigned int g = 0; g < 8; g++)
		CU_ASSERT(m.writes[g] == 0);
	mem_fini(&m);
	unlink(fifo);
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	static const struct ut_test tests[] = {
		UT(test_profile_mix),
		UT(test_profile_layout),
		UT(test_profile_empty_os_dir),
		UT(test_raw_image),
		UT(test_zstd_image),
		UT(test_core),
		UT(test_core_not_a_core),
		UT(test_not_regular),
	};
	const char *t = getenv("TMPDIR");
	int failed;

	snprintf(tmpdir, sizeof(tmpdir), "%s/guest_ut.XXXXXX", t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return 1;
	failed = UT_RUN("guest", make_os_dir, NULL, tests);
	free(pool);
	if (nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return failed;
}
