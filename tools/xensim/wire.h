/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wire.h - the protocol between the xensim server and its clients (the
 * drop-in libxenctrl, libxenforeignmemory, libxenevtchn and libxenstore, and
 * the xensim command line).
 *
 * Transport: a Unix SOCK_SEQPACKET socket, path $XENSIM_SOCKET (default
 * SIM_WIRE_DEFAULT_SOCKET).  Seqpacket keeps message boundaries, so one
 * request is one message and one reply is one message.  Every message starts
 * with struct sim_wire_hdr; the payload that follows is op-specific and made
 * of the fixed structs below, then variable arrays or NUL-terminated strings
 * as each op says.  Replies carry the same op and seq, ret >= 0 on success or
 * a negative errno exactly as the hypervisor / xenstored would return it.
 *
 * Connections are of three kinds, told apart by the first message
 * (SIM_OP_HELLO):
 *  - CALLS: request/reply only (libxenctrl, libxenforeignmemory, the CLI,
 *    the request half of libxenevtchn and libxenstore).  The HELLO reply to
 *    a CALLS connection carries the host-memory memfd (SCM_RIGHTS) so the
 *    client can mmap frames read-only; a foreign mapping made by a
 *    connection holds frame references until unmapped or until the
 *    connection closes (the server then drops them: kill -9 of a client
 *    leaks nothing).
 *  - EVENTS: the server pushes SIM_OP_EVENT messages, never replies.  A
 *    libxenevtchn handle pairs one CALLS and one EVENTS connection through
 *    the cookie returned by the CALLS HELLO; xenevtchn_fd() is the EVENTS
 *    socket.
 *  - WATCHES: same, carrying SIM_OP_WATCH_EVENT for a libxenstore handle;
 *    xs_fileno() is that socket.
 *
 * Maximum message: SIM_WIRE_MAX_MSG bytes (map batches are limited so that
 * their reply fits).
 */
#ifndef XENSIM_WIRE_H
#define XENSIM_WIRE_H

#include <stdint.h>

#include "hv.h"

#define SIM_WIRE_DEFAULT_SOCKET "/run/xensim/xensim.sock"
#define SIM_WIRE_ENV_SOCKET "XENSIM_SOCKET"
#define SIM_WIRE_VERSION 1
#define SIM_WIRE_MAX_MSG (256 * 1024)
#define SIM_WIRE_MAX_MAP 4096          /* gfns per SIM_OP_MAP */
/*
 * Bulk payloads (a dirty bitmap, dm_op extents) travel inline up to this
 * many bytes: a Unix socket refuses a message larger than its send buffer
 * (net.core.wmem_default, 208 KiB on a stock kernel), whatever
 * SIM_WIRE_MAX_MSG says.  Larger ones go in a memfd or in several calls.
 */
#define SIM_WIRE_MAX_BULK (128 * 1024)

struct sim_wire_hdr {
	uint32_t op;
	uint32_t seq;
	int64_t ret;      /* replies: >= 0 or -errno; requests: 0 */
	uint32_t len;     /* payload bytes after the header */
	uint32_t pad;
};

enum sim_conn_kind { SIM_CONN_CALLS = 1, SIM_CONN_EVENTS = 2, SIM_CONN_WATCHES = 3 };

enum sim_wire_op {
	/* session */
	SIM_OP_HELLO = 1,            /* sim_wire_hello -> sim_wire_hello_reply (+ memfd for CALLS) */

	/* libxenctrl: domains and host */
	SIM_OP_DOMAIN_GETINFO = 10,  /* sim_wire_dom_range -> n x struct sim_dominfo, ret = n */
	SIM_OP_PHYSINFO,             /* -> sim_wire_physinfo */
	SIM_OP_DOMAIN_PAUSE,         /* sim_wire_dom */
	SIM_OP_DOMAIN_UNPAUSE,       /* sim_wire_dom */
	SIM_OP_DOMAIN_DESTROY,       /* sim_wire_dom */
	SIM_OP_DECREASE_RESERVATION, /* sim_wire_dom_nr */
	SIM_OP_GET_PARAM,            /* sim_wire_param -> sim_wire_u64 */
	SIM_OP_SHADOW_OP,            /* sim_wire_shadow_op -> sim_wire_shadow_reply, then
				      * its bitmap_len bytes of dirty bitmap, or a memfd
				      * holding them (in_memfd) when they do not fit */

	/* libxenctrl: memory sharing */
	SIM_OP_MEMSHR_CONTROL = 30,  /* sim_wire_dom_nr (nr = enable) */
	SIM_OP_NOMINATE_GFN,         /* sim_wire_gfn -> sim_wire_u64 (handle) */
	SIM_OP_SHARE_GFNS,           /* sim_wire_share */
	SIM_OP_ADD_TO_PHYSMAP,       /* sim_wire_share (ch ignored) */
	SIM_OP_RANGE_SHARE,          /* sim_wire_range */
	SIM_OP_DEBUG_GFN,            /* sim_wire_gfn */
	SIM_OP_AUDIT,
	SIM_OP_FREED_PAGES,          /* ret = count */
	SIM_OP_USED_FRAMES,          /* ret = count */
	SIM_OP_RING_ENABLE,          /* sim_wire_dom -> sim_wire_u64 (port) */
	SIM_OP_RING_DISABLE,         /* sim_wire_dom */
	SIM_OP_DOMAIN_RESUME,        /* sim_wire_dom */
	SIM_OP_COMPARE_SHARE,        /* u32 n, pad, n x xenshare_cmpshr_pair_t -> the same array with results */
	SIM_OP_ENOMEM_WAITERS,       /* -> ret = n, n x uint32_t domid */
	SIM_OP_ENOMEM_RESUME,        /* sim_wire_dom -> ret = vCPUs resumed */
	SIM_OP_PFN_TYPES,            /* sim_wire_map (writable 0) + n x uint64_t gfn
					-> n x uint64_t XEN_DOMCTL_PFINFO_* type */

	/* libxenforeignmemory */
	SIM_OP_MAP = 50,             /* sim_wire_map + n x uint64_t gfn -> n x uint64_t mfn, n x int32_t err */
	SIM_OP_UNMAP,                /* u32 n, pad, n x uint64_t mfn */

	/* libxenevtchn (on the CALLS half; events arrive on the EVENTS half) */
	SIM_OP_EVTCHN_BIND_INTERDOMAIN = 60, /* sim_wire_evtchn (domid, port) -> ret = local port */
	SIM_OP_EVTCHN_BIND_VIRQ,     /* sim_wire_evtchn (port = virq) -> ret = local port */
	SIM_OP_EVTCHN_UNBIND,        /* sim_wire_evtchn (port) */
	SIM_OP_EVTCHN_NOTIFY,        /* sim_wire_evtchn (port) */
	SIM_OP_EVENT,                /* pushed on EVENTS: sim_wire_evtchn (port) */

	/* libxendevicemodel */
	SIM_OP_DM_MODIFIED_MEMORY = 70, /* sim_wire_dm_op + n x struct sim_dm_extent */

	/* libxenstore (paths and values are NUL-terminated strings) */
	SIM_OP_XS_READ = 80,         /* path -> value bytes (ret = length) */
	SIM_OP_XS_WRITE,             /* path\0 value (value may hold NULs: length from len) */
	SIM_OP_XS_MKDIR,             /* path */
	SIM_OP_XS_RM,                /* path */
	SIM_OP_XS_DIRECTORY,         /* path -> names, each NUL-terminated, ret = count */
	SIM_OP_XS_GET_PERMS,         /* path -> n x struct sim_wire_xs_perm, ret = n */
	SIM_OP_XS_SET_PERMS,         /* u32 n, pad, n x perm, path */
	SIM_OP_XS_WATCH,             /* path\0 token\0 */
	SIM_OP_XS_UNWATCH,           /* path\0 token\0 */
	SIM_OP_XS_WATCH_EVENT,       /* pushed on WATCHES: path\0 token\0 */
	SIM_OP_XS_TRANSACTION_START, /* -> ret = transaction id */
	SIM_OP_XS_TRANSACTION_END,   /* sim_wire_u64 (id), sim_wire_u64 (abort) */
	SIM_OP_XS_GET_DOMAIN_PATH,   /* sim_wire_dom -> string */
	SIM_OP_XS_INTRODUCE,         /* reserved */

	/* xensim command line (server control); 200 and above belong to the CLI */
	SIM_OP_CLI_FIRST = 200,
	/*
	 * Every CLI op answers a failure with ret = -errno and, as payload, a
	 * NUL-terminated message for the user (other ops carry no payload on
	 * failure).  Only dom0 connections may use them (-EPERM).
	 */
	SIM_OP_CLI_CREATE = SIM_OP_CLI_FIRST,
				     /* sim_wire_cli_create, file name\0, base dir\0,
				      * data_len bytes of xl.cfg text, nr_overrides x "key=value\0"
				      * -> ret = domid */
	SIM_OP_CLI_VERIFY,           /* -> ret = mismatches, min(ret, SIM_WIRE_MAX_MISMATCH) x struct sim_mismatch */
	SIM_OP_CLI_STOP,             /* -> ret = 0, then the server stops its guests and exits */
	SIM_OP_CLI_GUESTS,           /* -> ret = n, n x struct sim_wire_cli_guest (xensim-created domains) */
	SIM_OP_CLI_RESIDUE,          /* -> struct sim_wire_cli_residue (leak checks, `info`) */
	SIM_OP_CLI_FRAMES,           /* -> ret = number of shared frames; the reply passes a
				      * memfd whose whole content is the records of
				      * sim_hv_shared_frames() (`frames`) */
	SIM_OP_CLI_FAULTS,           /* -> struct sim_fault_stats (fault.h; `info`) */
	SIM_OP_CLI_STORM,            /* sim_wire_cli_storm -> ret = pages the storm writes */
};

#define SIM_WIRE_MAX_MISMATCH 1024

struct sim_wire_cli_create {
	uint32_t nr_overrides;
	uint32_t data_len;
};

/* What the simulation knows about a guest beyond struct sim_dominfo. */
/* `xensim storm`: the domain's vCPUs rewrite permille/1000 of its shared gfns */
struct sim_wire_cli_storm {
	uint32_t domid;
	uint32_t permille;
};

struct sim_wire_cli_guest {
	uint32_t domid;
	uint32_t vcpus_running;      /* writer threads alive */
	uint64_t writes;             /* guest page writes done by its vCPU threads */
	uint64_t storm_pages;        /* pages the last storm was given (0: none) */
	uint64_t storm_written;      /* of those, written so far */
	uint32_t storm_running;      /* storm threads alive */
	uint32_t pad;
	uint64_t write_rate;         /* sim_write_rate */
	uint64_t working_set;        /* sim_working_set */
	char mem_sharing[16];        /* "" when the key was absent */
	char mem_sharing_group[64];
};

/* sim_hv_get_residue(): what clients left mapped or nominated */
struct sim_wire_cli_residue {
	uint64_t foreign_mappings;
	uint64_t nominated_unshared, nominated_unmerged;
	uint64_t freed_pages, used_frames, sum_shr_pages;   /* one snapshot */
	uint64_t unshare_enomem;
	uint64_t frame_merge_preemptions;
};

struct sim_wire_hello {
	uint32_t version;        /* SIM_WIRE_VERSION */
	uint32_t kind;           /* enum sim_conn_kind */
	uint64_t cookie;         /* EVENTS/WATCHES: the cookie of the CALLS connection */
	uint32_t as_domid;       /* caller's domain for xenstore permissions (0 = dom0) */
	uint32_t flags;          /* SIM_HELLO_* */
};

/* The xensim command line, the test harness's eyes: never fault-injected. */
#define SIM_HELLO_CLI 1u

struct sim_wire_hello_reply {
	uint64_t cookie;         /* names this CALLS connection */
	uint64_t nr_frames;      /* size of the memfd in frames */
	uint32_t patched;        /* hypervisor has the hypervisor-patch/ series */
	uint32_t pad;
};

struct sim_wire_dom { uint32_t domid; uint32_t pad; };
struct sim_wire_dom_nr { uint32_t domid; uint32_t pad; uint64_t nr; };
struct sim_wire_dom_range { uint32_t first; uint32_t max; };
struct sim_wire_u64 { uint64_t v; };
struct sim_wire_param { uint32_t domid; int32_t param; };
struct sim_wire_gfn { uint32_t domid; uint32_t pad; uint64_t gfn; };
struct sim_wire_share {
	uint32_t sdom, cdom;
	uint64_t sgfn, sh, cgfn, ch;
};
struct sim_wire_range { uint32_t sdom, cdom; uint64_t first_gfn, last_gfn; };
struct sim_wire_physinfo { uint64_t total_pages, free_pages, nr_cpus, cpu_khz; };
struct sim_wire_map { uint32_t domid; uint32_t writable; uint32_t n; uint32_t pad; };
struct sim_wire_evtchn { uint32_t domid; uint32_t port; };
/* XEN_DOMCTL_shadow_op; bitmap: 1 for a non-null dirty_bitmap handle */
struct sim_wire_shadow_op { uint32_t domid, op, mode, bitmap; uint64_t pages; };
/*
 * Bytes of the bitmap after bitmap_len are zero up to ceil(pages / 8):
 * only those that can hold a set bit (the domain's p2m) travel.
 */
struct sim_wire_shadow_reply {
	uint64_t pages;
	uint32_t fault_count, dirty_count;
	uint64_t bitmap_len;
	uint32_t in_memfd;
	uint32_t pad;
};
struct sim_wire_dm_op { uint32_t domid; uint32_t n; };   /* n extents follow */
#define SIM_WIRE_MAX_DM_EXTENTS (SIM_WIRE_MAX_BULK / sizeof(struct sim_dm_extent))
struct sim_wire_xs_perm { uint32_t id; uint32_t perms; };  /* XS_PERM_* of xenstore_lib.h */

#endif /* XENSIM_WIRE_H */
