/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * estfmt.h - printing an xenshare-estimate report: a table for people and
 * one JSON object for scripts.  Pure: reads the report, writes to the FILE*
 * given (C locale, fixed decimals), so tests compare the output exactly.
 */
#ifndef XSE_ESTFMT_H
#define XSE_ESTFMT_H

#include <stdio.h>

#include "estimate.h"

int xse_format_text(FILE *out, const struct xse_guest *guests, size_t n,
		    const struct xse_report *rep);
int xse_format_json(FILE *out, const struct xse_guest *guests, size_t n,
		    const struct xse_report *rep);

#endif /* XSE_ESTFMT_H */
