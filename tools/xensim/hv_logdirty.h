/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_logdirty.h - what the audit needs of log-dirty mode (hv_logdirty.c;
 * its operations are public in hv.h, its bitmap primitives in
 * hv_internal.h).
 */
#ifndef XENSIM_HV_LOGDIRTY_H
#define XENSIM_HV_LOGDIRTY_H

#include "hv_internal.h"

/* Checks d's log-dirty invariants (host lock held); returns the errors found. */
int sim_logdirty_audit(const struct sim_dom *d);

#endif /* XENSIM_HV_LOGDIRTY_H */
