/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * clock.h - the daemon's one notion of "now": CLOCK_MONOTONIC, so that
 * timeouts, rate limits and uptimes never jump with the wall clock.
 * Header-only so the unit-tested modules need nothing linked for it.
 */
#ifndef XSD_CLOCK_H
#define XSD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t xsd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline double xsd_now_s(void)
{
	return (double)xsd_now_ns() * 1e-9;
}

#endif /* XSD_CLOCK_H */
