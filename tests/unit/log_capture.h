/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log_capture.h - a libshare log sink for the unit tests that counts what
 * the engine says (every level, debug included), so a test can expect a
 * warning, or its absence, by its words.
 */
#ifndef LOG_CAPTURE_H
#define LOG_CAPTURE_H

#include "libshare/log.h"

/* Messages go to the counting sink (and to stderr with UT_LOG=1 set). */
void log_capture(void);
void log_clear(void);
/* Messages at level or more severe (SHR_LOG_WARNING: warnings and errors)
 * since log_clear(), whose text contains substr ("" for any). */
unsigned int log_count(enum shr_log_level level, const char *substr);

#endif /* LOG_CAPTURE_H */
