/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fault.c - deterministic fault injection for xensim's clients.
 *
 * DOC: Overview
 *
 * `xensim start --faults SEED:RATE[:KINDS]` makes the host refuse a share
 * RATE of its clients' operations with errors they could meet on a real Xen
 * 4.17 host, so that a daemon's error paths run as often as its happy paths.
 *
 * Determinism: draw n of kind k hits when splitmix64(seed, k, n) / 2^64 <
 * RATE (or the kind's own rate, KIND=RATE).  A draw is a pure function of (seed, kind, n) and each kind counts
 * its own draws, so the faults of one kind depend only on the sequence of
 * operations of that kind: a client that repeats its requests meets the
 * same faults, whatever the guests' vCPUs or the command line do meanwhile
 * (requests of the command line draw nothing, sim_faults_set_active()).
 * Operations draw whether or not the fault can then be fired, so the
 * sequence of draws does not depend on the host's state either.
 *
 * What may fail, and how (sim_fault_ops[]): a fault is only ever fired at
 * the point where the operation would otherwise succeed, before it changes
 * anything, and it is an error real Xen 4.17 (or libxenctrl, privcmd) gives
 * that operation in that state:
 *  - any libxenctrl or libxendevicemodel call can fail with ENOMEM before
 *    it reaches Xen, when its hypercall buffer cannot be allocated
 *    (SIM_FC_CALL);
 *  - nominate of a page that would become shared can also meet a transient
 *    extra reference (-E2BIG, a backend's mapping), a writable type
 *    reference (-EINVAL, a writable grant mapping) or Xen's xmalloc
 *    failing (-ENOMEM) (SIM_FC_FRESH); the batched compare-and-share gives
 *    those per pair;
 *  - share of two valid handles can find either handle invalidated by a
 *    write racing the call (-10 source, -9 client) (SIM_FC_MERGE);
 *  - a foreign map fails as a whole (-ENOMEM: privcmd's mmap or ioctl), or
 *    per page, as privcmd's err[] reports a page it could not map (-ENOMEM:
 *    dom0's p2m pool; -ENOENT: a page being paged by Xen's mem_paging).
 * Not injected, because Xen cannot produce them here: nominate's -EBUSY
 * (only a dying domain, and xensim's destroy is atomic), ring enable's
 * -EBUSY (only an enabled ring), -EFAULT (a caller's bad buffer), errors of
 * the counters that take no buffer (sharing_freed_pages, used_frames).
 * xenstored answers EAGAIN only to a transaction end that commits, so that
 * is the only xenstore fault; it never loses a watch event, so watches are
 * never faulted.  Event channel notifications (a sharing ring's port,
 * VIRQ_ENOMEM) are dropped or doubled: Xen merges notifications of a port
 * that is already pending and may deliver spurious ones, so a consumer
 * must drain its ring and re-check its waiters on any event, never count
 * events.
 *
 * Thread safety: one mutex; the model fires under its own lock, the server
 * from its poll loop.
 */
#include "fault.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* XENMEM_SHARING_OP_S/C_HANDLE_INVALID, the share op's errors */
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif
#include <xen/xen.h>
#include <xen/memory.h>

struct sim_fault_err {
	int err;
	unsigned int conds;    /* SIM_FC_*: the states in which Xen can give it */
};

#define SIM_FAULT_MAX_ERRS 3

static const struct {
	const char *name;
	enum sim_fault_kind kind;
	struct sim_fault_err errs[SIM_FAULT_MAX_ERRS];
} sim_fault_ops[SIM_FOP_NR] = {
#define CALL_ENOMEM { { -ENOMEM, SIM_FC_CALL } }
	[SIM_FOP_GETINFO] = { "getinfo", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_PHYSINFO] = { "physinfo", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_PAUSE] = { "pause", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_UNPAUSE] = { "unpause", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_DESTROY] = { "destroy", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_DECREASE_RESERVATION] = { "decrease_reservation", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_GET_PARAM] = { "get_param", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_MEMSHR_CONTROL] = { "memshr_control", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_NOMINATE] = { "nominate", SIM_FK_HYPERCALL, {
		{ -ENOMEM, SIM_FC_CALL | SIM_FC_FRESH }, { -E2BIG, SIM_FC_FRESH },
		{ -EINVAL, SIM_FC_FRESH } } },
	[SIM_FOP_SHARE] = { "share", SIM_FK_HYPERCALL, {
		{ -ENOMEM, SIM_FC_CALL }, { XENMEM_SHARING_OP_S_HANDLE_INVALID, SIM_FC_MERGE },
		{ XENMEM_SHARING_OP_C_HANDLE_INVALID, SIM_FC_MERGE } } },
	[SIM_FOP_ADD_TO_PHYSMAP] = { "add_to_physmap", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_RANGE_SHARE] = { "range_share", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_DEBUG_GFN] = { "debug_gfn", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_AUDIT] = { "audit", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_RING_ENABLE] = { "ring_enable", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_RING_DISABLE] = { "ring_disable", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_DOMAIN_RESUME] = { "domain_resume", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_COMPARE_SHARE] = { "compare_share", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_COMPARE_SHARE_PAIR] = { "compare_share_pair", SIM_FK_HYPERCALL, {
		{ -ENOMEM, SIM_FC_FRESH }, { -E2BIG, SIM_FC_FRESH }, { -EINVAL, SIM_FC_FRESH } } },
	[SIM_FOP_ENOMEM_WAITERS] = { "enomem_waiters", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_ENOMEM_RESUME] = { "enomem_resume", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_MAP] = { "map", SIM_FK_MAP_CALL, CALL_ENOMEM },
	[SIM_FOP_SHADOW_OP] = { "shadow_op", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_PFN_TYPES] = { "pfn_types", SIM_FK_HYPERCALL, CALL_ENOMEM },
	[SIM_FOP_DM_OP] = { "dm_op", SIM_FK_HYPERCALL, CALL_ENOMEM },
#undef CALL_ENOMEM
};

static const char *const sim_fault_kind_names[SIM_FK_NR] = {
	[SIM_FK_HYPERCALL] = "hypercall",
	[SIM_FK_MAP_CALL] = "map-call",
	[SIM_FK_MAP_PAGE] = "map-page",
	[SIM_FK_XS_TXN] = "xenstore",
	[SIM_FK_EVT_DROP] = "event-drop",
	[SIM_FK_EVT_DOUBLE] = "event-double",
};

struct sim_faults {
	pthread_mutex_t lock;
	struct sim_fault_config cfg;
	bool active;
	/* the armed hypercall fault (sim_fault_arm() .. fire/disarm) */
	bool armed;
	enum sim_fault_op armed_op;
	uint64_t armed_pick;
	uint64_t draws[SIM_FK_NR];
	uint64_t injected[SIM_FK_NR];
	uint64_t by_op[SIM_FOP_NR];
};

const char *sim_fault_kind_name(enum sim_fault_kind k)
{
	return k < SIM_FK_NR ? sim_fault_kind_names[k] : "?";
}

const char *sim_fault_op_name(enum sim_fault_op op)
{
	return op < SIM_FOP_NR ? sim_fault_ops[op].name : "?";
}

/* ---- --faults SEED:RATE[:KINDS] --------------------------------------------- */

/* "KIND[=RATE],...": the kinds, each at rate (or its own), into out. */
static int sim_fault_kinds_parse(const char *s, struct sim_fault_config *out, char *err,
				 size_t errlen)
{
	char *copy = strdup(s), *rest = copy, *tok;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	out->kinds = 0;
	while ((tok = strsep(&rest, ","))) {
		char *eq = strchr(tok, '='), *end;
		double rate = out->rate;
		unsigned int bits = 0;

		if (eq) {
			*eq = '\0';
			errno = 0;
			rate = strtod(eq + 1, &end);
			if (errno || end == eq + 1 || *end || !(rate >= 0 && rate <= 1)) {
				snprintf(err, errlen, "rate \"%s\" of %s is not a probability between 0 and 1",
					 eq + 1, tok);
				rc = -EINVAL;
				break;
			}
		}

		if (!strcmp(tok, "all"))
			bits = (1u << SIM_FK_NR) - 1;
		else if (!strcmp(tok, "map"))
			bits = 1u << SIM_FK_MAP_CALL | 1u << SIM_FK_MAP_PAGE;
		else if (!strcmp(tok, "events"))
			bits = 1u << SIM_FK_EVT_DROP | 1u << SIM_FK_EVT_DOUBLE;
		for (unsigned int k = 0; !bits && k < SIM_FK_NR; k++)
			if (!strcmp(tok, sim_fault_kind_names[k]))
				bits = 1u << k;
		if (!bits) {
			snprintf(err, errlen, "unknown fault kind \"%s\" (hypercall, map-call, map-page, "
				 "map, xenstore, event-drop, event-double, events, all)", tok);
			rc = -EINVAL;
			break;
		}
		out->kinds |= bits;
		for (unsigned int k = 0; k < SIM_FK_NR; k++)
			if (bits & (1u << k))
				out->rates[k] = rate;
	}
	if (!rc && !out->kinds) {
		snprintf(err, errlen, "no fault kind given after the rate");
		rc = -EINVAL;
	}
	free(copy);
	return rc;
}

int sim_fault_parse(const char *spec, struct sim_fault_config *out, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':'), *kinds;
	char num[64], *end;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(num)) {
		snprintf(err, errlen, "\"%s\" is not SEED:RATE[:KINDS]", spec);
		return -EINVAL;
	}
	n = (size_t)(colon - spec);
	memcpy(num, spec, n);
	num[n] = '\0';
	errno = 0;
	out->seed = strtoull(num, &end, 0);
	if (errno || *end || num[0] == '-') {
		snprintf(err, errlen, "seed \"%s\" is not a number (0 .. 2^64-1)", num);
		return -EINVAL;
	}
	kinds = strchr(colon + 1, ':');
	n = kinds ? (size_t)(kinds - colon - 1) : strlen(colon + 1);
	if (!n || n >= sizeof(num)) {
		snprintf(err, errlen, "\"%s\": the rate is missing or too long", spec);
		return -EINVAL;
	}
	memcpy(num, colon + 1, n);
	num[n] = '\0';
	errno = 0;
	out->rate = strtod(num, &end);
	if (errno || *end || !(out->rate >= 0 && out->rate <= 1)) {
		snprintf(err, errlen, "rate \"%s\" is not a probability between 0 and 1", num);
		return -EINVAL;
	}
	out->kinds = (1u << SIM_FK_NR) - 1;
	for (unsigned int k = 0; k < SIM_FK_NR; k++)
		out->rates[k] = out->rate;
	if (kinds && sim_fault_kinds_parse(kinds + 1, out, err, errlen)) {
		out->kinds = 0;
		return -EINVAL;
	}
	out->enabled = true;
	return 0;
}

/* ---- the injector ------------------------------------------------------------- */

int sim_faults_create(const struct sim_fault_config *cfg, struct sim_faults **out)
{
	struct sim_faults *f;

	*out = NULL;
	if (!cfg->enabled)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	f->cfg = *cfg;
	f->active = true;
	*out = f;
	return 0;
}

void sim_faults_destroy(struct sim_faults *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void sim_faults_set_active(struct sim_faults *f, bool active)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->active = active;
	pthread_mutex_unlock(&f->lock);
}

static uint64_t sim_fault_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Draw n of kind k (f->lock held). */
static bool sim_fault_draw_locked(struct sim_faults *f, enum sim_fault_kind k, uint64_t *pick)
{
	uint64_t h;

	if (!f->active || !(f->cfg.kinds & (1u << k)))
		return false;
	h = sim_fault_mix(sim_fault_mix(f->cfg.seed ^ sim_fault_mix(k + 1)) ^ f->draws[k]++);
	if (pick)
		*pick = sim_fault_mix(h);
	/* the top 53 bits as a uniform double in [0, 1) */
	return (double)(h >> 11) * 0x1.0p-53 < f->cfg.rates[k];
}

bool sim_fault_draw(struct sim_faults *f, enum sim_fault_kind k, uint64_t *pick)
{
	bool hit;

	if (!f)
		return false;
	pthread_mutex_lock(&f->lock);
	hit = sim_fault_draw_locked(f, k, pick);
	pthread_mutex_unlock(&f->lock);
	return hit;
}

static const char *sim_fault_errname(int err)
{
	const char *name;

	if (err == XENMEM_SHARING_OP_S_HANDLE_INVALID)
		return "XENMEM_SHARING_OP_S_HANDLE_INVALID";
	if (err == XENMEM_SHARING_OP_C_HANDLE_INVALID)
		return "XENMEM_SHARING_OP_C_HANDLE_INVALID";
	name = strerrorname_np(-err);
	return name ? name : "?";
}

/* Counts n faults and logs them (f->lock held); what is already formatted. */
static void sim_fault_log(struct sim_faults *f, enum sim_fault_kind k, uint64_t n, const char *what)
{
	f->injected[k] += n;
	fprintf(stderr, "xensim fault: %s #%llu: %s\n", sim_fault_kind_names[k],
		(unsigned long long)f->injected[k], what);
}

void sim_fault_note(struct sim_faults *f, enum sim_fault_kind k, uint64_t n, const char *what, ...)
{
	char buf[256];
	va_list ap;

	if (!f)
		return;
	va_start(ap, what);
	vsnprintf(buf, sizeof(buf), what, ap);
	va_end(ap);
	pthread_mutex_lock(&f->lock);
	sim_fault_log(f, k, n, buf);
	pthread_mutex_unlock(&f->lock);
}

void sim_fault_arm(struct sim_faults *f, enum sim_fault_op op)
{
	if (!f || op >= SIM_FOP_NR)
		return;
	pthread_mutex_lock(&f->lock);
	f->armed = sim_fault_draw_locked(f, sim_fault_ops[op].kind, &f->armed_pick);
	f->armed_op = op;
	pthread_mutex_unlock(&f->lock);
}

int sim_fault_fire(struct sim_faults *f, enum sim_fault_op op, unsigned int conds,
		   const char *what, ...)
{
	const struct sim_fault_err *e = NULL;
	unsigned int n = 0, i;
	char buf[256], line[320];
	va_list ap;
	int err = 0;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->lock);
	if (!f->armed || f->armed_op != op)
		goto out;
	f->armed = false;
	for (i = 0; i < SIM_FAULT_MAX_ERRS; i++)
		if (sim_fault_ops[op].errs[i].err && (sim_fault_ops[op].errs[i].conds & conds))
			n++;
	if (!n)
		goto out;   /* nothing Xen could answer in this state */
	n = (unsigned int)(f->armed_pick % n);
	for (i = 0; i < SIM_FAULT_MAX_ERRS; i++) {
		e = &sim_fault_ops[op].errs[i];
		if (e->err && (e->conds & conds) && n-- == 0)
			break;
	}
	err = e->err;
	va_start(ap, what);
	vsnprintf(buf, sizeof(buf), what, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s %s: %s", sim_fault_ops[op].name, buf, sim_fault_errname(err));
	f->by_op[op]++;
	sim_fault_log(f, sim_fault_ops[op].kind, 1, line);
out:
	pthread_mutex_unlock(&f->lock);
	return err;
}

void sim_fault_disarm(struct sim_faults *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->armed = false;
	pthread_mutex_unlock(&f->lock);
}

void sim_faults_stats(struct sim_faults *f, struct sim_fault_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	out->enabled = 1;
	out->kinds = f->cfg.kinds;
	out->seed = f->cfg.seed;
	out->rate = f->cfg.rate;
	memcpy(out->rates, f->cfg.rates, sizeof(out->rates));
	memcpy(out->draws, f->draws, sizeof(out->draws));
	memcpy(out->injected, f->injected, sizeof(out->injected));
	memcpy(out->by_op, f->by_op, sizeof(out->by_op));
	pthread_mutex_unlock(&f->lock);
}
