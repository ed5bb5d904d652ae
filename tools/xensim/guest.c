/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest.c - producers of simulated guest memory.
 *
 * DOC: Overview
 *
 * Three sources, each a pure function of its inputs that hands pages to a
 * sink (guest.h):
 *
 *  - Raw images, as QEMU's pmemsave writes them (the corpus in
 *    ../shared/corpus), optionally zstd-compressed.  The file is checked
 *    before a single page is delivered where that is possible (raw: size is
 *    a whole number of pages and fits the guest); a compressed stream can
 *    only be found truncated or corrupt at the point where it breaks, so the
 *    caller must treat an error as "the domain's memory is incomplete" and
 *    throw the domain away (the server does).
 *  - ELF cores of `xl dump-core`: the file must be an ELF of type ET_CORE
 *    with the dump-core sections (the rule xenshare-estimate applies), and
 *    section headers are bounds-checked against the file size before
 *    anything is read through them, so a garbage or truncated core gives an
 *    error, never a wild read.
 *
 * Every file a configuration names is opened by open_regular(): the host
 * serves all its clients from one thread, so a FIFO or device given as an
 * image must be refused, not waited on.
 *  - Generated profiles.  "os" pages are the non-zero 4 KiB blocks of the
 *    shared libraries on this machine, read in a fixed order, so two guests
 *    draw the same contents (cross-guest sharing potential, like two guests
 *    running the same distribution) but each places its run at its own
 *    seeded gfn, so layouts differ.  zero/dup/unique pages fill the rest in
 *    a seeded shuffle.  The same (profile, seed, size, machine) always
 *    produces the same memory.
 *
 * Speed matters (four 512 MiB guests should load in a few seconds): images
 * are read and decompressed in 1 MiB chunks and pages go to the sink
 * straight out of the chunk buffer.
 */
#include "guest.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#define CHUNK (1u << 20)
#define PG SIM_PAGE_SIZE

/* Section names and the invalid-pfn marker of tools/libs/guest/xg_core.h. */
#define XEN_DUMPCORE_SEC_P2M ".xen_p2m"
#define XEN_DUMPCORE_SEC_PFN ".xen_pfn"
#define XEN_DUMPCORE_SEC_PAGES ".xen_pages"
#define XC_CORE_INVALID_PFN (~(uint64_t)0)

static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

__attribute__((format(printf, 4, 5)))
static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[PG];

	return memcmp(p, zero, PG) == 0;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void sim_guest_fill_random(void *page, uint64_t seed, uint64_t key)
{
	uint64_t s = seed * 0x2545f4914f6cdd1dULL ^ key * 0x9e3779b97f4a7c15ULL;
	uint64_t x = splitmix64(&s) | 1;
	uint64_t *w = page;

	/* xorshift64*: fast enough to fill hundreds of MiB per second */
	for (unsigned int i = 0; i < PG / sizeof(*w); i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		w[i] = x * 0x2545f4914f6cdd1dULL;
	}
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- files a domain configuration names ---------------------------------- */

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFDIR: return "a directory";
	default: return "not a regular file";
	}
}

/*
 * Opens a regular file for reading without ever blocking: the host serves
 * every client from one thread, and open() of a FIFO waits for a writer (a
 * device may wait for carrier), so nothing that is not a regular file may
 * reach a plain open().  stat() refuses it before it is opened at all;
 * O_NONBLOCK and a second check on the descriptor close the window in which
 * the path could be replaced.  Returns the descriptor (O_NONBLOCK cleared,
 * which changes nothing for a regular file) or -errno.
 */
static int open_regular(const char *path, int flags, struct stat *sb)
{
	int fd, e;

	if (stat(path, sb) < 0)
		return -errno;
	if (!S_ISREG(sb->st_mode))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		e = S_ISREG(sb->st_mode) ? errno : EINVAL;
		close(fd);
		return -e;
	}
	return fd;
}

/* open_regular() for the file of xl.cfg key `key`, with the error for the user. */
static int open_config_file(const char *key, const char *what, const char *path,
			    struct stat *sb, char *err, size_t errlen)
{
	int fd = open_regular(path, 0, sb);

	if (fd == -EINVAL)
		return fail(-EINVAL, err, errlen,
			    "%s = \"%s\": %s, not a regular file; give the %s file itself",
			    key, path, file_kind(sb->st_mode), what);
	if (fd < 0)
		return fail(fd, err, errlen, "%s = \"%s\": cannot open %s: %s", key, path,
			    what, strerror(-fd));
	return fd;
}

/* ---- raw and zstd images -------------------------------------------------- */

static int load_raw(int fd, const char *path, off_t size, uint64_t nr_pages,
		    sim_page_sink_fn *sink, void *arg, char *err, size_t errlen)
{
	uint8_t *buf;
	uint64_t gfn = 0;
	off_t off = 0;
	int rc = 0;

	if (size == 0)
		return fail(-EINVAL, err, errlen, "%s: empty image", path);
	if (size % PG)
		return fail(-EINVAL, err, errlen,
			    "%s: %lld bytes is not a whole number of 4 KiB pages (truncated?)",
			    path, (long long)size);
	if ((uint64_t)size / PG > nr_pages)
		return fail(-EFBIG, err, errlen, "%s: image has %llu pages, the guest only %llu",
			    path, (unsigned long long)(size / PG), (unsigned long long)nr_pages);
	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	while (off < size) {
		ssize_t n = pread(fd, buf, CHUNK, off);

		if (n <= 0 || n % PG) {
			rc = fail(-EIO, err, errlen, "%s: read at %lld failed: %s", path,
				  (long long)off, n < 0 ? strerror(errno) : "short read");
			break;
		}
		for (ssize_t i = 0; i < n && !rc; i += PG)
			rc = sink(arg, gfn++, buf + i);
		if (rc) {
			if (!err[0])
				fail(rc, err, errlen, "%s: storing gfn %#llx: %s", path,
				     (unsigned long long)gfn - 1, strerror(-rc));
			break;
		}
		off += n;
	}
	free(buf);
	return rc;
}

static int load_zstd(int fd, const char *path, uint64_t nr_pages,
		     sim_page_sink_fn *sink, void *arg, char *err, size_t errlen)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	uint8_t *in = malloc(CHUNK), *out = malloc(CHUNK + PG);
	size_t pending = 0;     /* bytes of a partial page at the start of out */
	size_t last = 1;        /* last ZSTD_decompressStream() result: 0 = frame complete */
	uint64_t gfn = 0;
	int rc = 0;

	if (!dctx || !in || !out) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, in, CHUNK);
		ZSTD_inBuffer ib = { in, n > 0 ? (size_t)n : 0, 0 };

		if (n < 0) {
			rc = fail(-EIO, err, errlen, "%s: read failed: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		while (ib.pos < ib.size) {
			ZSTD_outBuffer ob = { out, CHUNK + PG, pending };
			size_t whole;

			last = ZSTD_decompressStream(dctx, &ob, &ib);
			if (ZSTD_isError(last)) {
				rc = fail(-EINVAL, err, errlen, "%s: corrupt zstd data: %s", path,
					  ZSTD_getErrorName(last));
				goto out;
			}
			whole = ob.pos - ob.pos % PG;
			for (size_t i = 0; i < whole; i += PG) {
				if (gfn >= nr_pages) {
					rc = fail(-EFBIG, err, errlen,
						  "%s: image is larger than the guest's %llu pages",
						  path, (unsigned long long)nr_pages);
					goto out;
				}
				rc = sink(arg, gfn++, out + i);
				if (rc) {
					if (!err[0])
						fail(rc, err, errlen, "%s: storing gfn %#llx: %s", path,
						     (unsigned long long)gfn - 1, strerror(-rc));
					goto out;
				}
			}
			pending = ob.pos - whole;
			memmove(out, out + whole, pending);
		}
	}
	if (last != 0) {
		rc = fail(-EINVAL, err, errlen, "%s: truncated zstd stream", path);
		goto out;
	}
	if (pending) {
		rc = fail(-EINVAL, err, errlen,
			  "%s: decompressed size is not a whole number of 4 KiB pages", path);
		goto out;
	}
	if (gfn == 0)
		rc = fail(-EINVAL, err, errlen, "%s: empty image", path);
out:
	ZSTD_freeDCtx(dctx);
	free(in);
	free(out);
	return rc;
}

int sim_guest_load_image(const char *path, uint64_t nr_pages,
			 sim_page_sink_fn *sink, void *arg, char *err, size_t errlen)
{
	uint8_t magic[4] = { 0 };
	struct stat sb;
	ssize_t n;
	int fd, rc;

	err[0] = '\0';
	fd = open_config_file("sim_image", "image", path, &sb, err, errlen);
	if (fd < 0)
		return fd;
	n = pread(fd, magic, sizeof(magic), 0);
	if (n == (ssize_t)sizeof(magic) && memcmp(magic, zstd_magic, 4) == 0) {
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		rc = load_zstd(fd, path, nr_pages, sink, arg, err, errlen);
	} else if (has_suffix(path, ".zst")) {
		rc = fail(-EINVAL, err, errlen, "%s: named .zst but not zstd data", path);
	} else if (n == 4 && memcmp(magic, ELFMAG, SELFMAG) == 0) {
		rc = fail(-EINVAL, err, errlen,
			  "%s: is an ELF file (an xl dump-core?); use sim_core for it", path);
	} else {
		rc = load_raw(fd, path, sb.st_size, nr_pages, sink, arg, err, errlen);
	}
	close(fd);
	return rc;
}

/* ---- xl dump-core -------------------------------------------------------- */

struct core_file {
	int fd;
	uint64_t size;
	const char *path;
	Elf64_Shdr *sh;
	unsigned int shnum;
	char *strtab;
	uint64_t strtab_size;
};

static bool in_file(const struct core_file *c, uint64_t off, uint64_t len)
{
	return off <= c->size && len <= c->size - off;
}

static const Elf64_Shdr *core_section(const struct core_file *c, const char *name)
{
	for (unsigned int i = 0; i < c->shnum; i++) {
		uint64_t o = c->sh[i].sh_name;

		if (o < c->strtab_size && strnlen(c->strtab + o, c->strtab_size - o) <
						  c->strtab_size - o &&
		    strcmp(c->strtab + o, name) == 0)
			return &c->sh[i];
	}
	return NULL;
}

static int core_open(struct core_file *c, char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	const Elf64_Shdr *st;

	if (pread(c->fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return fail(-EINVAL, err, errlen, "%s: not an ELF core (bad magic or truncated header)", c->path);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(-EINVAL, err, errlen, "%s: not a 64-bit little-endian ELF core", c->path);
	/* the rule of xenshare-estimate (tools/xenshare-stat/image.c): a core, by type */
	if (eh.e_type != ET_CORE)
		return fail(-EINVAL, err, errlen,
			    "%s: ELF file but not a core dump (e_type %u, a core is %u): "
			    "sim_core takes what `xl dump-core` writes", c->path, eh.e_type, ET_CORE);
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 4096 ||
	    !in_file(c, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr)) ||
	    eh.e_shstrndx >= eh.e_shnum)
		return fail(-EINVAL, err, errlen, "%s: bad or truncated section header table", c->path);
	c->shnum = eh.e_shnum;
	c->sh = malloc(c->shnum * sizeof(*c->sh));
	if (!c->sh)
		return -ENOMEM;
	if (pread(c->fd, c->sh, c->shnum * sizeof(*c->sh), (off_t)eh.e_shoff) !=
	    (ssize_t)(c->shnum * sizeof(*c->sh)))
		return fail(-EIO, err, errlen, "%s: cannot read section headers", c->path);
	st = &c->sh[eh.e_shstrndx];
	if (st->sh_size == 0 || st->sh_size > (1u << 20) || !in_file(c, st->sh_offset, st->sh_size))
		return fail(-EINVAL, err, errlen, "%s: bad section name table", c->path);
	c->strtab_size = st->sh_size;
	c->strtab = malloc(st->sh_size);
	if (!c->strtab)
		return -ENOMEM;
	if (pread(c->fd, c->strtab, st->sh_size, (off_t)st->sh_offset) != (ssize_t)st->sh_size)
		return fail(-EIO, err, errlen, "%s: cannot read section names", c->path);
	return 0;
}

int sim_guest_load_core(const char *path, uint64_t nr_pages,
			sim_page_sink_fn *sink, void *arg, char *err, size_t errlen)
{
	struct core_file c = { .fd = -1, .path = path };
	const Elf64_Shdr *pages, *pfn, *p2m;
	uint64_t *gfns = NULL, nr;
	uint8_t *buf = NULL;
	struct stat sb;
	int rc;

	err[0] = '\0';
	c.fd = open_config_file("sim_core", "core", path, &sb, err, errlen);
	if (c.fd < 0)
		return c.fd;
	c.size = (uint64_t)sb.st_size;
	rc = core_open(&c, err, errlen);
	if (rc)
		goto out;
	pages = core_section(&c, XEN_DUMPCORE_SEC_PAGES);
	pfn = core_section(&c, XEN_DUMPCORE_SEC_PFN);
	p2m = core_section(&c, XEN_DUMPCORE_SEC_P2M);
	if (!pages || (!pfn && !p2m)) {
		rc = fail(-EINVAL, err, errlen, "%s: no %s and %s/%s sections: not an xl dump-core file",
			  path, XEN_DUMPCORE_SEC_PAGES, XEN_DUMPCORE_SEC_PFN, XEN_DUMPCORE_SEC_P2M);
		goto out;
	}
	if (pages->sh_size % PG || !in_file(&c, pages->sh_offset, pages->sh_size)) {
		rc = fail(-EINVAL, err, errlen, "%s: %s is truncated or not whole pages", path,
			  XEN_DUMPCORE_SEC_PAGES);
		goto out;
	}
	nr = pages->sh_size / PG;
	{
		const Elf64_Shdr *map = pfn ? pfn : p2m;
		uint64_t entsz = pfn ? 8 : 16;

		if (map->sh_size != nr * entsz || !in_file(&c, map->sh_offset, map->sh_size)) {
			rc = fail(-EINVAL, err, errlen, "%s: %s does not describe the %llu pages of %s",
				  path, pfn ? XEN_DUMPCORE_SEC_PFN : XEN_DUMPCORE_SEC_P2M,
				  (unsigned long long)nr, XEN_DUMPCORE_SEC_PAGES);
			goto out;
		}
		gfns = malloc(map->sh_size ? map->sh_size : 1);
		if (!gfns) {
			rc = -ENOMEM;
			goto out;
		}
		if (pread(c.fd, gfns, map->sh_size, (off_t)map->sh_offset) != (ssize_t)map->sh_size) {
			rc = fail(-EIO, err, errlen, "%s: cannot read %s", path, XEN_DUMPCORE_SEC_PFN);
			goto out;
		}
		if (!pfn) /* struct xen_dumpcore_p2m { pfn, gmfn }: keep the pfns */
			for (uint64_t i = 0; i < nr; i++)
				gfns[i] = gfns[2 * i];
	}
	for (uint64_t i = 0; i < nr; i++) {
		if (gfns[i] != XC_CORE_INVALID_PFN && gfns[i] >= nr_pages) {
			rc = fail(-EFBIG, err, errlen, "%s: page %llu is for gfn %#llx, beyond the guest's %llu pages",
				  path, (unsigned long long)i, (unsigned long long)gfns[i],
				  (unsigned long long)nr_pages);
			goto out;
		}
	}
	buf = malloc(CHUNK);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < nr;) {
		uint64_t batch = nr - i < CHUNK / PG ? nr - i : CHUNK / PG;
		off_t off = (off_t)(pages->sh_offset + i * PG);

		if (pread(c.fd, buf, batch * PG, off) != (ssize_t)(batch * PG)) {
			rc = fail(-EIO, err, errlen, "%s: cannot read pages at %lld", path, (long long)off);
			goto out;
		}
		for (uint64_t j = 0; j < batch; j++, i++) {
			if (gfns[i] == XC_CORE_INVALID_PFN)
				continue;
			rc = sink(arg, gfns[i], buf + j * PG);
			if (rc) {
				if (!err[0])
					fail(rc, err, errlen, "%s: storing gfn %#llx: %s", path,
					     (unsigned long long)gfns[i], strerror(-rc));
				goto out;
			}
		}
	}
out:
	free(buf);
	free(gfns);
	free(c.sh);
	free(c.strtab);
	close(c.fd);
	return rc;
}

/* ---- generated profiles ---------------------------------------------------- */

void sim_profile_count(const struct sim_profile *p, uint64_t nr_pages,
		       struct sim_profile_counts *out)
{
	uint64_t used;

	out->os = (uint64_t)(p->os * (double)nr_pages + 0.5);
	out->zero = (uint64_t)(p->zero * (double)nr_pages + 0.5);
	out->dup = (uint64_t)(p->dup * (double)nr_pages + 0.5);
	if (out->os > nr_pages)
		out->os = nr_pages;
	if (out->zero > nr_pages - out->os)
		out->zero = nr_pages - out->os;
	used = out->os + out->zero;
	if (out->dup > nr_pages - used)
		out->dup = nr_pages - used;
	used += out->dup;
	out->unique = nr_pages - used;
}

/* Reads the non-zero 4 KiB blocks of os_dir's *.so* files in name order. */
struct os_reader {
	const char *dir;
	struct dirent **names;
	int nr_names, next_name;
	int fd;
	uint64_t blocks;    /* delivered so far (to detect an empty pool) */
};

static int so_filter(const struct dirent *d)
{
	return d->d_name[0] != '.' && strstr(d->d_name, ".so") != NULL;
}

static int os_next(struct os_reader *r, uint8_t *page, char *err, size_t errlen)
{
	for (;;) {
		if (r->fd >= 0) {
			ssize_t n = read(r->fd, page, PG);

			if (n > 0) {
				if (n < (ssize_t)PG)
					memset(page + n, 0, PG - (size_t)n);
				if (page_is_zero(page))
					continue;
				r->blocks++;
				return 0;
			}
			close(r->fd);
			r->fd = -1;
		}
		if (r->next_name >= r->nr_names) {
			/* Pool exhausted: start again (the guest then holds repeats). */
			if (r->blocks == 0)
				return fail(-ENOENT, err, errlen,
					    "sim_os_dir %s: no readable non-empty *.so* files for \"os\" pages",
					    r->dir);
			r->next_name = 0;
		}
		char path[PATH_MAX];
		struct stat sb;
		const char *name = r->names[r->next_name++]->d_name;

		if (snprintf(path, sizeof(path), "%s/%s", r->dir, name) >= (int)sizeof(path))
			continue;
		/* a FIFO or device among the libraries is skipped, never waited on */
		r->fd = open_regular(path, O_NOFOLLOW, &sb);
		if (r->fd < 0)
			r->fd = -1;
	}
}

int sim_guest_gen_profile(const struct sim_profile *p, const char *os_dir,
			  uint64_t seed, uint64_t nr_pages,
			  sim_page_sink_fn *sink, void *arg, char *err, size_t errlen)
{
	struct os_reader r = { .dir = os_dir, .fd = -1 };
	struct sim_profile_counts cnt;
	uint8_t *kind = NULL, *page = NULL;
	uint64_t s = seed, start, nr_dup_contents, dup_i = 0;
	enum { K_OS, K_ZERO, K_DUP, K_UNIQUE };
	int rc = 0;

	err[0] = '\0';
	if (nr_pages == 0)
		return 0;
	sim_profile_count(p, nr_pages, &cnt);
	kind = malloc(nr_pages);
	page = aligned_alloc(PG, PG);
	if (!kind || !page) {
		rc = -ENOMEM;
		goto out;
	}
	if (cnt.os) {
		r.nr_names = scandir(os_dir, &r.names, so_filter, alphasort);
		if (r.nr_names < 0) {
			r.nr_names = 0;
			rc = fail(-errno, err, errlen, "sim_os_dir %s: %s", os_dir, strerror(errno));
			goto out;
		}
	}

	/* The os run at a seeded start, wrapping; the rest shuffled. */
	start = splitmix64(&s) % nr_pages;
	{
		uint64_t other = nr_pages - cnt.os, j = 0;
		uint8_t *mix = malloc(other ? other : 1);

		if (!mix) {
			rc = -ENOMEM;
			goto out;
		}
		for (uint64_t i = 0; i < cnt.zero; i++)
			mix[j++] = K_ZERO;
		for (uint64_t i = 0; i < cnt.dup; i++)
			mix[j++] = K_DUP;
		for (uint64_t i = 0; i < cnt.unique; i++)
			mix[j++] = K_UNIQUE;
		for (uint64_t i = other; i > 1; i--) {  /* Fisher-Yates */
			uint64_t k = splitmix64(&s) % i;
			uint8_t t = mix[i - 1];

			mix[i - 1] = mix[k];
			mix[k] = t;
		}
		for (uint64_t i = 0; i < cnt.os; i++)
			kind[(start + i) % nr_pages] = K_OS;
		j = 0;
		for (uint64_t i = 0; i < other; i++)
			kind[(start + cnt.os + i) % nr_pages] = mix[j++];
		free(mix);
	}

	/* Each dup content is used about four times (at least twice). */
	nr_dup_contents = cnt.dup / 4 ? cnt.dup / 4 : 1;
	for (uint64_t i = 0; i < cnt.os && !rc; i++) {
		uint64_t gfn = (start + i) % nr_pages;

		rc = os_next(&r, page, err, errlen);
		if (!rc)
			rc = sink(arg, gfn, page);
	}
	for (uint64_t gfn = 0; gfn < nr_pages && !rc; gfn++) {
		switch (kind[gfn]) {
		case K_OS:
			continue;
		case K_ZERO:
			memset(page, 0, PG);
			break;
		case K_DUP:
			sim_guest_fill_random(page, seed ^ 0xd0d0d0d0d0d0d0d0ULL,
					      dup_i++ % nr_dup_contents);
			break;
		default:
			sim_guest_fill_random(page, seed, gfn);
			break;
		}
		rc = sink(arg, gfn, page);
	}
	if (rc && !err[0])
		fail(rc, err, errlen, "generating memory: %s", strerror(-rc));
out:
	if (r.fd >= 0)
		close(r.fd);
	for (int i = 0; i < r.nr_names; i++)
		free(r.names[i]);
	free(r.names);
	free(kind);
	free(page);
	return rc;
}
