/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * page_state.c - one domain's page table: allocation and the setters that
 * keep the state counts in step (see page_state.h for the state machine).
 *
 * Invariant: after every call, n_unique, n_source, n_shared, n_volatile and
 * n_zero_shared equal a recount of the state bytes (n_volatile: pages at a
 * level above 0 in a state that counts as volatile; n_zero_shared: SHARED
 * pages whose key_lo is the group's zero-page key).
 */
#include "page_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int shr_pages_alloc(struct shr_pages *p, uint32_t nr)
{
	memset(p, 0, sizeof(*p));
	p->key_lo = calloc(nr ? nr : 1, sizeof(*p->key_lo));
	p->pstate = calloc(nr ? nr : 1, 1);
	if (!p->key_lo || !p->pstate) {
		shr_pages_free(p);
		return -ENOMEM;
	}
	p->nr = nr;
	return 0;
}

void shr_pages_free(struct shr_pages *p)
{
	free(p->key_lo);
	free(p->pstate);
	shr_pages_look_free(p);
	p->key_lo = NULL;
	p->pstate = NULL;
	p->nr = 0;
}

int shr_pages_look_alloc(struct shr_pages *p)
{
	size_t words = ((size_t)p->nr + 63) / 64;

	if (p->look)
		return 0;
	p->look = malloc((words ? words : 1) * sizeof(*p->look));
	if (!p->look)
		return -ENOMEM;
	memset(p->look, 0xff, words * sizeof(*p->look));
	return 0;
}

void shr_pages_look_free(struct shr_pages *p)
{
	free(p->look);
	p->look = NULL;
}

void shr_pages_reset(struct shr_pages *p)
{
	memset(p->pstate, 0, p->nr);
	if (p->look)
		memset(p->look, 0xff, ((size_t)p->nr + 63) / 64 * sizeof(*p->look));
	p->n_unique = p->n_source = p->n_shared = p->n_volatile = p->n_zero_shared = 0;
}

/* The count a state adds to (NULL: not counted). */
static uint64_t *count_of(struct shr_pages *p, enum shr_pstate s)
{
	switch (s) {
	case SHR_PS_UNIQUE: return &p->n_unique;
	case SHR_PS_SOURCE: return &p->n_source;
	case SHR_PS_SHARED: return &p->n_shared;
	default: return NULL;
	}
}

void shr_pages_set(struct shr_pages *p, uint32_t gfn, enum shr_pstate s)
{
	uint8_t *b = &p->pstate[gfn];
	enum shr_pstate old = shr_ps_state(*b);
	bool zero = p->key_lo[gfn] == p->zero_lo;
	uint64_t *c;

	if ((c = count_of(p, old)))
		(*c)--;
	if (old == SHR_PS_SHARED && zero)
		p->n_zero_shared--;
	if ((c = count_of(p, s)))
		(*c)++;
	if (s == SHR_PS_SHARED && zero)
		p->n_zero_shared++;
	if (shr_ps_level(*b))
		p->n_volatile += (uint64_t)((int64_t)shr_ps_counts_volatile(s) -
					    (int64_t)shr_ps_counts_volatile(old));
	shr_ps_set_state(b, s);
	/* states that wait for another look, whether the guest writes or not */
	if (s == SHR_PS_NEW || s == SHR_PS_WATCH || s == SHR_PS_NOSHARE || s == SHR_PS_HOLE)
		shr_pages_look_at(p, gfn);
}

void shr_pages_back_off(struct shr_pages *p, uint32_t gfn)
{
	if (shr_ps_raise(&p->pstate[gfn]) &&
	    shr_ps_counts_volatile(shr_ps_state(p->pstate[gfn])))
		p->n_volatile++;
}

void shr_pages_calm(struct shr_pages *p, uint32_t gfn)
{
	if (shr_ps_lower(&p->pstate[gfn]) &&
	    shr_ps_counts_volatile(shr_ps_state(p->pstate[gfn])))
		p->n_volatile--;
}
