/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * emul.h - user-space stand-ins for the Xen primitives used by
 * xen/arch/x86/mm/mem_sharing_batch.c, so that the file the patch series
 * adds (kept byte-identical in hypervisor-patch/harness/, checked by
 * tests/integration/hvpatch_harness.test.sh) can be compiled and tested
 * as it is, in the manner of Xen's tools/tests/vpci.
 *
 * Every stub header under include/xen/ and include/public/ includes only
 * this file.  Guest memory is ordinary memory; copies, preemption checks
 * and frame mappings go through hooks (harness_*) that the test defines,
 * so it can inject faults and preemption and count mappings.
 *
 * The public structures are copied from the patch to
 * xen/include/public/memory.h between the BEGIN/END markers; the harness
 * test checks the copy against the patch line by line.
 */
#ifndef HVPATCH_HARNESS_EMUL_H
#define HVPATCH_HARNESS_EMUL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Xen's own value (xen/include/public/errno.h); Linux has no ERESTART. */
#ifndef ERESTART
#define ERESTART 85
#endif

#define PAGE_SIZE 4096

typedef uint16_t domid_t;
typedef uint64_t uint64_aligned_t __attribute__((__aligned__(8)));

/* Typesafe frame numbers, as Xen's TYPE_SAFE(unsigned long, mfn). */
typedef struct { unsigned long mfn; } mfn_t;
static inline mfn_t _mfn(unsigned long m) { return (mfn_t){ m }; }
static inline unsigned long mfn_x(mfn_t m) { return m.mfn; }

/* Guest handles: a typed pointer in a struct, as on x86. */
#define DEFINE_XEN_GUEST_HANDLE(name) \
	typedef struct { name *p; } __guest_handle_##name
#define XEN_GUEST_HANDLE(name) __guest_handle_##name
#define XEN_GUEST_HANDLE_64(name) XEN_GUEST_HANDLE(name)
#define XEN_GUEST_HANDLE_PARAM(name) XEN_GUEST_HANDLE(name)
DEFINE_XEN_GUEST_HANDLE(void);

#define guest_handle_cast(hnd, type) ({ \
	type *_x = (hnd).p; \
	(XEN_GUEST_HANDLE_PARAM(type)) { _x }; \
})

/* Return the number of bytes not copied, as Xen's copy functions do. */
unsigned long harness_copy_from_guest(void *to, const void *from, size_t n);
unsigned long harness_copy_to_guest(void *to, const void *from, size_t n);

#define copy_from_guest_offset(ptr, hnd, off, nr) ({ \
	((void)((hnd).p == (ptr))); \
	harness_copy_from_guest((ptr), (hnd).p + (off), sizeof(*(ptr)) * (nr)); \
})
#define copy_to_guest_offset(hnd, off, ptr, nr) ({ \
	((void)((hnd).p == (ptr))); \
	harness_copy_to_guest((hnd).p + (off), (ptr), sizeof(*(ptr)) * (nr)); \
})

bool harness_preempt_check(void);
#define hypercall_preempt_check() harness_preempt_check()

void *harness_map_frame(mfn_t mfn);
void harness_unmap_frame(const void *va);
#define map_domain_page(mfn) harness_map_frame(mfn)
#define unmap_domain_page(va) harness_unmap_frame(va)

/* BEGIN public/memory.h */
#define XENMEM_SHARING_CMPSHR_SHARED        0
#define XENMEM_SHARING_CMPSHR_DIFFERENT     1
/*
 * both frames also back gfns of other domains: not merged (share_pages()
 * can rewrite only the p2m entries of the two domains whose p2m it holds)
 */
#define XENMEM_SHARING_CMPSHR_SPANNED       2

struct xen_mem_sharing_cmpshr_pair {
    uint64_aligned_t source_gfn;    /* IN: gfn in source_domain */
    uint64_aligned_t client_gfn;    /* IN: gfn in client_domain */
    domid_t source_domain;          /* IN */
    domid_t client_domain;          /* IN */
    int32_t result;                 /* OUT: XENMEM_SHARING_CMPSHR_* or -errno */
};
typedef struct xen_mem_sharing_cmpshr_pair xen_mem_sharing_cmpshr_pair_t;
DEFINE_XEN_GUEST_HANDLE(xen_mem_sharing_cmpshr_pair_t);
/* END public/memory.h */

/* The member of the xen_mem_sharing_op union the batch driver works on. */
struct mem_sharing_op_compare_share {
	XEN_GUEST_HANDLE_64(void) pairs;
	uint32_t nr_pairs;
	uint32_t done;
};

#endif /* HVPATCH_HARNESS_EMUL_H */
