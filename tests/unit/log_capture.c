/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log_capture.c - the counting log sink of the unit tests (see
 * log_capture.h).  Messages are kept whole (truncated to 240 bytes) in a
 * growing array until log_clear(); the engine is single-threaded.
 */
#include "log_capture.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct log_msg {
	enum shr_log_level level;
	char text[240];
};

static struct {
	struct log_msg *v;
	unsigned int n, cap;
	bool echo;
} lg;

static void log_sink(enum shr_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (lg.echo)
		fprintf(stderr, "  log %d: %s\n", (int)level, msg);
	if (lg.n == lg.cap) {
		unsigned int cap = lg.cap ? 2 * lg.cap : 256;
		struct log_msg *v = realloc(lg.v, cap * sizeof(*v));

		if (!v) {
			fprintf(stderr, "core_fixture: out of memory for the log\n");
			abort();
		}
		lg.v = v;
		lg.cap = cap;
	}
	lg.v[lg.n].level = level;
	snprintf(lg.v[lg.n].text, sizeof(lg.v[lg.n].text), "%s", msg);
	lg.n++;
}

void log_capture(void)
{
	const char *e = getenv("UT_LOG");

	lg.echo = e && *e == '1';
	shr_log_set_level(SHR_LOG_DEBUG);
	shr_log_set_sink(log_sink, NULL);
	log_clear();
}

void log_clear(void)
{
	lg.n = 0;
}

unsigned int log_count(enum shr_log_level level, const char *substr)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < lg.n; i++)
		if (lg.v[i].level <= level && strstr(lg.v[i].text, substr))
			n++;
	return n;
}
