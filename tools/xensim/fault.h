/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fault.h - xensim's fault injection (`xensim start --faults SEED:RATE`):
 * the host makes its clients' calls fail the way Xen 4.17, privcmd and
 * xenstored can make them fail, at a given rate, deterministically for a
 * given seed and sequence of requests.  docs/xensim.md has the tables.
 *
 * A fault is drawn per eligible operation; which kind of operation decides
 * the draw stream (fault.c), so faults of one kind do not depend on how many
 * operations of another kind happened.  Every sim_fault_* function accepts
 * NULL (faults off) and then does nothing.
 */
#ifndef XENSIM_FAULT_H
#define XENSIM_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What fails.  The names (sim_fault_kind_name()) are the KINDS of --faults. */
enum sim_fault_kind {
	SIM_FK_HYPERCALL,    /* a libxenctrl call returns an error instead of succeeding */
	SIM_FK_MAP_CALL,     /* a whole xenforeignmemory_map() fails */
	SIM_FK_MAP_PAGE,     /* one page of a map is not mapped (err[i], as privcmd says) */
	SIM_FK_XS_TXN,       /* xs_transaction_end() of a commit answers EAGAIN */
	SIM_FK_EVT_DROP,     /* a sharing-ring or VIRQ_ENOMEM notification is lost */
	SIM_FK_EVT_DOUBLE,   /* ... or delivered twice */
	SIM_FK_NR
};

/* The operations a hypercall fault can hit (names: sim_fault_op_name()). */
enum sim_fault_op {
	SIM_FOP_GETINFO, SIM_FOP_PHYSINFO, SIM_FOP_PAUSE, SIM_FOP_UNPAUSE, SIM_FOP_DESTROY,
	SIM_FOP_DECREASE_RESERVATION, SIM_FOP_GET_PARAM, SIM_FOP_MEMSHR_CONTROL,
	SIM_FOP_NOMINATE, SIM_FOP_SHARE, SIM_FOP_ADD_TO_PHYSMAP, SIM_FOP_RANGE_SHARE,
	SIM_FOP_DEBUG_GFN, SIM_FOP_AUDIT, SIM_FOP_RING_ENABLE, SIM_FOP_RING_DISABLE,
	SIM_FOP_DOMAIN_RESUME, SIM_FOP_COMPARE_SHARE, SIM_FOP_COMPARE_SHARE_PAIR,
	SIM_FOP_ENOMEM_WAITERS, SIM_FOP_ENOMEM_RESUME, SIM_FOP_MAP, SIM_FOP_SHADOW_OP,
	SIM_FOP_DM_OP, SIM_FOP_PFN_TYPES,
	SIM_FOP_NR
};

/*
 * The state an operation is in when a fault is fired, which decides the
 * errors it may be given (fault.c's table):
 *  SIM_FC_CALL   the call as a whole, before it reaches the hypervisor:
 *                libxenctrl's hypercall buffer (or privcmd's mapping)
 *                cannot be allocated, -ENOMEM, whatever the call
 *  SIM_FC_FRESH  a nomination that would create a shared frame (the page
 *                can also have an extra reference, -E2BIG, or a writable
 *                type reference, -EINVAL, or Xen's xmalloc fails, -ENOMEM)
 *  SIM_FC_MERGE  a share that would merge two frames (a write to either
 *                page could have invalidated its handle: -10 / -9)
 */
#define SIM_FC_CALL  (1u << 0)
#define SIM_FC_FRESH (1u << 1)
#define SIM_FC_MERGE (1u << 2)

struct sim_fault_config {
	bool enabled;
	uint64_t seed;
	double rate;          /* probability per eligible operation, 0..1 */
	unsigned int kinds;   /* bit (1 << enum sim_fault_kind) per kind injected */
	double rates[SIM_FK_NR];   /* per kind: rate, or its own KIND=RATE */
};

/* "SEED:RATE[:KIND[=RATE],...]"; -EINVAL with a reason in err. */
int sim_fault_parse(const char *spec, struct sim_fault_config *out, char *err, size_t errlen);
const char *sim_fault_kind_name(enum sim_fault_kind k);
const char *sim_fault_op_name(enum sim_fault_op op);

struct sim_faults;

int sim_faults_create(const struct sim_fault_config *cfg, struct sim_faults **out);
void sim_faults_destroy(struct sim_faults *f);
/*
 * Requests of the xensim command line are never faulted, and draw nothing,
 * so the faults a client meets do not depend on who else asks the host.
 */
void sim_faults_set_active(struct sim_faults *f, bool active);

/*
 * One draw of kind k: true when a fault of that kind happens now; *pick
 * (if not NULL) then chooses among the errors allowed.  Kinds not enabled,
 * or an inactive injector, draw nothing and give false.
 */
bool sim_fault_draw(struct sim_faults *f, enum sim_fault_kind k, uint64_t *pick);
/* Counts (and logs, once) n faults of kind k that happened; what says where. */
__attribute__((format(printf, 4, 5)))
void sim_fault_note(struct sim_faults *f, enum sim_fault_kind k, uint64_t n, const char *what, ...);

/*
 * Hypercalls: sim_fault_arm() draws once for a call of op (the map ops
 * draw SIM_FK_MAP_CALL, the others SIM_FK_HYPERCALL); the call fires it at
 * the point where it would otherwise succeed, before it changes anything:
 * sim_fault_fire() returns 0, or the injected negative errno (counted and
 * logged), chosen among those the table allows op in state conds.  An
 * armed fault that is never fired (the call failed on its own first) is
 * dropped by sim_fault_disarm(), so a draw is spent per call either way.
 */
void sim_fault_arm(struct sim_faults *f, enum sim_fault_op op);
__attribute__((format(printf, 4, 5)))
int sim_fault_fire(struct sim_faults *f, enum sim_fault_op op, unsigned int conds,
		   const char *what, ...);
void sim_fault_disarm(struct sim_faults *f);

/* What has been injected, for `xensim info`. */
struct sim_fault_stats {
	uint32_t enabled;
	uint32_t kinds;
	uint64_t seed;
	double rate;
	double rates[SIM_FK_NR];
	uint64_t draws[SIM_FK_NR];      /* operations eligible so far */
	uint64_t injected[SIM_FK_NR];
	uint64_t by_op[SIM_FOP_NR];     /* SIM_FK_HYPERCALL and SIM_FK_MAP_CALL faults per op */
};
void sim_faults_stats(struct sim_faults *f, struct sim_fault_stats *out);

#endif /* XENSIM_FAULT_H */
