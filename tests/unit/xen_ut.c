/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen_ut - unit tests of libshare/xen.c where it needs no Xen: the
 * conversion of what libxc says into -errno and verdicts (docs/design.md
 * section 6), the probe of the batched op, the counters, and the takeover
 * of a sharing ring a previous xenshared left enabled (the stop protocol's
 * Xen side).
 *
 * This binary links xen.o with Debian's Xen libraries, and defines the
 * libxc, libxenforeignmemory and libxenevtchn functions xen.c calls
 * itself: a definition in the executable wins over the shared library's
 * at link time, so every call xen.c makes lands here, where the test
 * plays the hypervisor (the ring page is an ordinary page of this
 * process, with Xen's front ring on it).  Linked with -rdynamic so that
 * xen.c's dlsym() finds the batched op defined here.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <CUnit/CUnit.h>
#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xen/hvm/params.h>
#include <xen/vm_event.h>

#include "libshare/log.h"
#include "libshare/xen.h"
#include "log_capture.h"
#include "ut_common.h"

/* ---- the hypervisor, as this test plays it ------------------------------------ */

static struct {
	int handle;                  /* what the open functions hand out */
	int share_errno;             /* xc_memshr_share_gfns: 0, or -1 with this errno */
	int probe_errno;             /* the batched op's probe: 0, or -1 with this errno */
	bool ring_enabled;           /* the domain's ring, in the hypervisor */
	int enable_calls, disable_calls, pause_calls, unpause_calls, resume_calls;
	int notify_calls, map_fail;
	char log[64];                /* the order of the ring calls: p(ause) r(esume) d e u */
	/* what the ring page held when the old ring was disabled */
	RING_IDX rsp_prod_at_disable;
	vm_event_response_t rsp_at_disable[4];
} hv;

static uint8_t ring_page[XC_PAGE_SIZE] __attribute__((aligned(XC_PAGE_SIZE)));

static void hv_log(char c)
{
	size_t n = strlen(hv.log);

	if (n + 1 < sizeof(hv.log))
		hv.log[n] = c;
}

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				unsigned open_flags)
{
	(void)logger;
	(void)dombuild_logger;
	(void)open_flags;
	return (xc_interface *)&hv.handle;
}

int xc_interface_close(xc_interface *xch)
{
	(void)xch;
	return 0;
}

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
					       unsigned open_flags)
{
	(void)logger;
	(void)open_flags;
	return (xenforeignmemory_handle *)&hv.handle;
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	(void)fmem;
	return 0;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	(void)logger;
	(void)flags;
	return (xenevtchn_handle *)&hv.handle;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	(void)xce;
	return 0;
}

/* No device model library in this host: no dirty-log scanning (its own
 * code is tested against the fake Xen, scan_ut). */
xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
					   unsigned int open_flags)
{
	(void)logger;
	(void)open_flags;
	errno = ENOENT;
	return NULL;
}

int xc_memshr_compare_share(struct xc_interface_core *xch, xenshare_cmpshr_pair_t *pairs,
			    unsigned int nr);
int xc_memshr_compare_share(struct xc_interface_core *xch, xenshare_cmpshr_pair_t *pairs,
			    unsigned int nr)
{
	(void)xch;
	(void)pairs;
	if (nr == 0 && hv.probe_errno) {
		errno = hv.probe_errno;
		return -1;
	}
	return 0;
}

int xc_memshr_share_gfns(xc_interface *xch, uint32_t source_domain, unsigned long source_gfn,
			 uint64_t source_handle, uint32_t client_domain,
			 unsigned long client_gfn, uint64_t client_handle)
{
	(void)xch;
	(void)source_domain;
	(void)source_gfn;
	(void)source_handle;
	(void)client_domain;
	(void)client_gfn;
	(void)client_handle;
	if (!hv.share_errno)
		return 0;
	errno = hv.share_errno < 0 ? 0 : hv.share_errno;    /* -1: a libxc that forgot errno */
	return -1;
}

int xc_hvm_param_get(xc_interface *handle, uint32_t dom, uint32_t param, uint64_t *value)
{
	(void)handle;
	(void)dom;
	*value = param == HVM_PARAM_SHARING_RING_PFN ? 0xfeffe : 0;
	return 0;
}

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot,
			   size_t pages, const xen_pfn_t arr[], int err[])
{
	(void)fmem;
	(void)dom;
	(void)prot;
	(void)arr;
	if (hv.map_fail) {
		errno = hv.map_fail;
		return NULL;
	}
	for (size_t i = 0; i < pages; i++)
		err[i] = 0;
	return ring_page;
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
	(void)fmem;
	(void)addr;
	(void)pages;
	return 0;
}

int xc_memshr_ring_enable(xc_interface *xch, uint32_t domid, uint32_t *port)
{
	(void)xch;
	(void)domid;
	hv.enable_calls++;
	hv_log('e');
	if (hv.ring_enabled) {
		errno = EBUSY;
		return -1;
	}
	hv.ring_enabled = true;
	*port = 33;
	return 0;
}

int xc_memshr_ring_disable(xc_interface *xch, uint32_t domid)
{
	vm_event_sring_t *sring = (vm_event_sring_t *)ring_page;
	vm_event_back_ring_t back;

	(void)xch;
	(void)domid;
	hv.disable_calls++;
	hv_log('d');
	hv.rsp_prod_at_disable = sring->rsp_prod;
	BACK_RING_ATTACH(&back, sring, 0, XC_PAGE_SIZE);
	for (unsigned int i = 0; i < 4; i++)
		memcpy(&hv.rsp_at_disable[i], RING_GET_RESPONSE(&back, i), sizeof(hv.rsp_at_disable[i]));
	hv.ring_enabled = false;
	return 0;
}

int xc_domain_pause(xc_interface *xch, uint32_t domid)
{
	(void)xch;
	(void)domid;
	hv.pause_calls++;
	hv_log('p');
	return 0;
}

int xc_domain_unpause(xc_interface *xch, uint32_t domid)
{
	(void)xch;
	(void)domid;
	hv.unpause_calls++;
	hv_log('u');
	return 0;
}

int xc_memshr_domain_resume(xc_interface *xch, uint32_t domid)
{
	(void)xch;
	(void)domid;
	hv.resume_calls++;
	hv_log('r');
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						      evtchn_port_t remote_port)
{
	(void)xce;
	(void)domid;
	return (xenevtchn_port_or_error_t)remote_port + 100;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	(void)port;
	return 0;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	(void)port;
	hv.notify_calls++;
	return 0;
}

/* Xen's side of the ring page: the front ring, with n requests pushed
 * (vCPU i paused by request i) and the first `answered` of them answered
 * by a previous consumer. */
static void xen_ring(unsigned int n, unsigned int answered)
{
	vm_event_sring_t *sring = (vm_event_sring_t *)ring_page;
	vm_event_front_ring_t front;

	memset(ring_page, 0, sizeof(ring_page));
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&front, sring, XC_PAGE_SIZE);
	for (unsigned int i = 0; i < n; i++) {
		vm_event_request_t req = {
			.version = VM_EVENT_INTERFACE_VERSION, .vcpu_id = i,
			.flags = VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_FOREIGN,
			.reason = VM_EVENT_REASON_MEM_SHARING,
		};

		memcpy(RING_GET_REQUEST(&front, front.req_prod_pvt), &req, sizeof(req));
		front.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS(&front);
	sring->rsp_prod = answered;
}

static struct shr_xen *open_xen(void)
{
	struct shr_xen *x = NULL;

	memset(&hv, 0, sizeof(hv));
	UT_ASSERT_EQ_FATAL(shr_xen_open(&x), 0);
	return x;
}

/* ---- verdicts ------------------------------------------------------------------ */

/* Results table, the verdict column: one pair's result of the batched op
 * as a verdict and an -errno: SHARED, DIFFERENT and SPANNED as they are;
 * a dead handle (XENMEM_SHARING_OP_{S,C}_HANDLE_INVALID, -10 / -9) as
 * SRC_STALE / CLI_STALE; a patched share's EDEADLK as SPANNED; any other
 * -errno as SHR_FAILED with it; a result this engine does not know as
 * SHR_FAILED with -EPROTO. */
static void test_cmpshr_verdicts(void)
{
	static const struct {
		int32_t result;
		enum shr_verdict v;
		int err;
	} cases[] = {
		{ XENSHARE_CMPSHR_SHARED, SHR_SHARED, 0 },
		{ XENSHARE_CMPSHR_DIFFERENT, SHR_DIFFERENT, 0 },
		{ XENSHARE_CMPSHR_SPANNED, SHR_SPANNED, 0 },
		{ XENMEM_SHARING_OP_S_HANDLE_INVALID, SHR_SRC_STALE, 0 },
		{ XENMEM_SHARING_OP_C_HANDLE_INVALID, SHR_CLI_STALE, 0 },
		{ -EDEADLK, SHR_SPANNED, 0 },
		{ -E2BIG, SHR_FAILED, -E2BIG },
		{ -EINVAL, SHR_FAILED, -EINVAL },
		{ -ENOMEM, SHR_FAILED, -ENOMEM },
		{ -ESRCH, SHR_FAILED, -ESRCH },
		{ 3, SHR_FAILED, -EPROTO },
		{ 1000, SHR_FAILED, -EPROTO },
	};

	UT_ASSERT_EQ(XENMEM_SHARING_OP_S_HANDLE_INVALID, -10);
	UT_ASSERT_EQ(XENMEM_SHARING_OP_C_HANDLE_INVALID, -9);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xenshare_cmpshr_pair_t p = { .result = cases[i].result };
		int err = 12345;

		UT_ASSERT_EQ(shr_xen_cmpshr_verdict(&p, &err), cases[i].v);
		UT_ASSERT_EQ(err, cases[i].err);
	}
}

/* Results table, the share's verdicts (share: errno 10 / 9, a patched
 * share's EDEADLK): libxc's -1 with errno becomes a verdict, or an -errno
 * exactly once (-EIO when libxc left errno 0), and every call counts as a
 * hypercall. */
static void test_share_verdicts(void)
{
	static const struct {
		int err;
		enum shr_verdict v;
		int rc;
	} cases[] = {
		{ 0, SHR_SHARED, 0 },
		{ 10, SHR_SRC_STALE, 0 },
		{ 9, SHR_CLI_STALE, 0 },
		{ EDEADLK, SHR_SPANNED, 0 },
		{ E2BIG, SHR_FAILED, -E2BIG },
		{ ENOMEM, SHR_FAILED, -ENOMEM },
		{ -1, SHR_FAILED, -EIO },
	};
	struct shr_xen *x = open_xen();
	uint64_t calls = shr_xen_counters(x)->hypercalls;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum shr_verdict v = SHR_SHARED;

		hv.share_errno = cases[i].err;
		UT_ASSERT_EQ(shr_xen_share(x, 1, 2, 3, 4, 5, 6, &v), cases[i].rc);
		UT_ASSERT_EQ(v, cases[i].v);
	}
	UT_ASSERT_EQ(shr_xen_counters(x)->hypercalls - calls,
		     sizeof(cases) / sizeof(cases[0]));
	shr_xen_close(x);
}

/* Proves the probe of the batched op at open: found (dlsym) and answering
 * an empty batch: available; ENOSYS or EOPNOTSUPP (a hypervisor without
 * it): not available, silently; another error: not available, warned.
 * The patch's ENOMEM-waiter ops are absent from this libxenctrl: -ENOSYS. */
static void test_probe(void)
{
	struct shr_xen *x;
	uint16_t ids[4];
	unsigned int nr = 4;

	log_capture();
	x = open_xen();
	CU_ASSERT_TRUE(shr_xen_has_cmpshr(x));
	UT_ASSERT_EQ(shr_xen_cmpshr(x, NULL, 0), 0);
	UT_ASSERT_EQ(shr_xen_enomem_waiters(x, ids, &nr), -ENOSYS);
	UT_ASSERT_EQ(shr_xen_enomem_resume(x, 1), -ENOSYS);
	shr_xen_close(x);
	for (int i = 0; i < 3; i++) {
		static const int errs[] = { ENOSYS, EOPNOTSUPP, EINVAL };

		memset(&hv, 0, sizeof(hv));
		hv.probe_errno = errs[i];
		UT_ASSERT_EQ_FATAL(shr_xen_open(&x), 0);
		CU_ASSERT_FALSE(shr_xen_has_cmpshr(x));
		UT_ASSERT_EQ(shr_xen_cmpshr(x, NULL, 0), -EOPNOTSUPP);
		shr_xen_close(x);
	}
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "probing xc_memshr_compare_share failed "
			       "(errno 22)"), 1);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "probing"), 1);
}

/* Proves the mapping counters: a failed map is counted as a call but
 * leaves no live mapping; a map is live until its unmap; the ring page
 * is counted apart and never as a live batch mapping. */
static void test_map_counters(void)
{
	struct shr_xen *x = open_xen();
	uint64_t gfns[2] = { 1, 2 };
	struct shr_xen_ring *r = NULL;
	int err[2];
	void *addr;

	hv.map_fail = EFAULT;
	UT_ASSERT_EQ(shr_xen_map(x, 1, false, gfns, 2, err, &addr), -EFAULT);
	UT_ASSERT_EQ(shr_xen_counters(x)->mappings, 1);
	UT_ASSERT_EQ(shr_xen_counters(x)->mapped_pages, 2);
	UT_ASSERT_EQ(shr_xen_counters(x)->live_mappings, 0);
	hv.map_fail = 0;
	UT_ASSERT_EQ(shr_xen_map(x, 1, false, gfns, 2, err, &addr), 0);
	UT_ASSERT_EQ(shr_xen_counters(x)->live_mappings, 1);
	shr_xen_unmap(x, addr, 2);
	UT_ASSERT_EQ(shr_xen_counters(x)->live_mappings, 0);
	xen_ring(0, 0);
	UT_ASSERT_EQ(shr_xen_ring_attach(x, 1, &r, NULL), 0);
	UT_ASSERT_EQ(shr_xen_counters(x)->live_mappings, 0);
	UT_ASSERT_EQ(shr_xen_counters(x)->ring_mappings, 1);
	shr_xen_ring_detach(x, r, true);
	UT_ASSERT_EQ(shr_xen_counters(x)->ring_mappings, 0);
	CU_ASSERT_FALSE(hv.ring_enabled);
	shr_xen_close(x);
}

/* ---- the sharing ring ------------------------------------------------------------ */

/* Proves the takeover of a ring a previous xenshared left enabled (xen.h,
 * docs/design.md section 7): with the domain paused, the requests it left
 * without a response (two of three here) are answered on the OLD ring at
 * their own index (vCPU and VCPU_PAUSED flag kept, nothing else), Xen is
 * made to consume them, and only then is the ring disabled, enabled
 * afresh and the domain unpaused: p r r d e u. */
static void test_ring_takeover(void)
{
	struct shr_xen *x = open_xen();
	struct shr_xen_ring *r = NULL;
	unsigned int answered = 0;

	xen_ring(3, 1);
	hv.ring_enabled = true;
	UT_ASSERT_EQ_FATAL(shr_xen_ring_attach(x, 7, &r, &answered), 0);
	UT_ASSERT_EQ(answered, 2);
	CU_ASSERT_STRING_EQUAL(hv.log, "eprrdeu");
	UT_ASSERT_EQ(hv.rsp_prod_at_disable, 3);
	for (unsigned int i = 1; i < 3; i++) {
		UT_ASSERT_EQ(hv.rsp_at_disable[i].vcpu_id, i);
		UT_ASSERT_EQ(hv.rsp_at_disable[i].flags, VM_EVENT_FLAG_VCPU_PAUSED);
		UT_ASSERT_EQ(hv.rsp_at_disable[i].reason, VM_EVENT_REASON_MEM_SHARING);
		UT_ASSERT_EQ(hv.rsp_at_disable[i].version, VM_EVENT_INTERFACE_VERSION);
	}
	/* slot 0 (answered before) untouched: it still holds request 0 */
	UT_ASSERT_EQ(hv.rsp_at_disable[0].flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_FOREIGN);
	CU_ASSERT_TRUE(hv.ring_enabled);
	UT_ASSERT_EQ(shr_xen_ring_port(r), 133);
	shr_xen_ring_detach(x, r, false);
	CU_ASSERT_TRUE(hv.ring_enabled);                   /* kept for the next one */
	shr_xen_close(x);
}

/* Proves a garbage index pair on the ring page (the page is the guest's)
 * makes the takeover answer at most one ring's worth; and a ring with
 * nothing left answers nothing and resumes no one twice. */
static void test_ring_takeover_bounded(void)
{
	vm_event_sring_t *sring = (vm_event_sring_t *)ring_page;
	struct shr_xen *x = open_xen();
	struct shr_xen_ring *r = NULL;
	vm_event_back_ring_t back;
	unsigned int answered = 0;

	xen_ring(0, 0);
	sring->req_prod = 100000;
	hv.ring_enabled = true;
	UT_ASSERT_EQ_FATAL(shr_xen_ring_attach(x, 7, &r, &answered), 0);
	BACK_RING_INIT(&back, sring, XC_PAGE_SIZE);
	UT_ASSERT_EQ(answered, RING_SIZE(&back));
	shr_xen_ring_detach(x, r, true);
	shr_xen_close(x);

	x = open_xen();
	xen_ring(2, 2);
	hv.ring_enabled = true;
	UT_ASSERT_EQ_FATAL(shr_xen_ring_attach(x, 7, &r, &answered), 0);
	UT_ASSERT_EQ(answered, 0);
	CU_ASSERT_STRING_EQUAL(hv.log, "eprdeu");
	shr_xen_ring_detach(x, r, true);
	shr_xen_close(x);
}

/* Proves the consumer's side of a fresh ring: a request Xen puts on it is
 * taken once with its vCPU, flags and reason; the response carries only
 * VCPU_PAUSED of its flags, lands at the request's index, and kicks Xen. */
static void test_ring_take_respond(void)
{
	vm_event_sring_t *sring = (vm_event_sring_t *)ring_page;
	struct shr_xen *x = open_xen();
	struct shr_xen_ring_req req;
	struct shr_xen_ring *r = NULL;
	vm_event_front_ring_t front;
	vm_event_request_t vreq = {
		.version = VM_EVENT_INTERFACE_VERSION, .vcpu_id = 3,
		.flags = VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_FOREIGN,
		.reason = VM_EVENT_REASON_MEM_SHARING,
	};
	vm_event_response_t rsp;

	xen_ring(0, 0);
	UT_ASSERT_EQ_FATAL(shr_xen_ring_attach(x, 7, &r, NULL), 0);
	UT_ASSERT_EQ(shr_xen_ring_take(r, &req), 0);
	/* Xen, the front end, after the engine initialised the ring */
	FRONT_RING_ATTACH(&front, sring, sring->req_prod, XC_PAGE_SIZE);
	memcpy(RING_GET_REQUEST(&front, front.req_prod_pvt), &vreq, sizeof(vreq));
	front.req_prod_pvt++;
	RING_PUSH_REQUESTS(&front);
	UT_ASSERT_EQ(shr_xen_ring_take(r, &req), 1);
	UT_ASSERT_EQ(req.vcpu_id, 3);
	UT_ASSERT_EQ(req.flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_FOREIGN);
	UT_ASSERT_EQ(req.reason, VM_EVENT_REASON_MEM_SHARING);
	UT_ASSERT_EQ(shr_xen_ring_take(r, &req), 0);
	UT_ASSERT_EQ(shr_xen_ring_respond(x, r, &req), 0);
	UT_ASSERT_EQ(sring->rsp_prod, 1);
	memcpy(&rsp, RING_GET_RESPONSE(&front, 0), sizeof(rsp));
	UT_ASSERT_EQ(rsp.vcpu_id, 3);
	UT_ASSERT_EQ(rsp.flags, VM_EVENT_FLAG_VCPU_PAUSED);
	UT_ASSERT_EQ(hv.notify_calls, 1);
	shr_xen_ring_detach(x, r, true);
	shr_xen_close(x);
}

UT_MAIN("xen", NULL, NULL,
	UT(test_cmpshr_verdicts),
	UT(test_share_verdicts),
	UT(test_probe),
	UT(test_map_counters),
	UT(test_ring_takeover),
	UT(test_ring_takeover_bounded),
	UT(test_ring_take_respond))
