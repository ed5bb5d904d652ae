/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ut_common.h - the one CUnit runner of the unit tests.
 *
 * A unit binary lists its tests with UT(), which derives each test's name
 * from its function (test_remove_mid_pass runs as "remove mid pass"), and
 * hands the list to UT_MAIN(), or to UT_RUN() from a main() of its own when
 * it has set-up to do first.  The runner registers one suite, runs it with
 * CUnit's verbose report and summary, and returns the number of failed
 * assertions plus suites whose set-up or clean-up failed (at most 255) as
 * the exit status, so `make unit` stops on the first binary with a failure.
 *
 * UT_ASSERT_EQ(got, want) is CU_ASSERT_EQUAL that reports both values on
 * failure; UT_ASSERT_EQ_FATAL ends the test there.
 */
#ifndef UT_COMMON_H
#define UT_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <CUnit/CUnit.h>

struct ut_test {
	const char *fn_name;         /* the function's name: the test's is derived from it */
	CU_TestFunc fn;
};

#define UT(fn) { #fn, fn }

int ut_run(const char *suite, CU_InitializeFunc init, CU_CleanupFunc clean,
	   const struct ut_test *tests, size_t n);

#define UT_RUN(suite, init, clean, tests) \
	ut_run((suite), (init), (clean), (tests), sizeof(tests) / sizeof((tests)[0]))

/* main() of a binary without set-up of its own: UT_MAIN("suite", init,
 * clean, UT(test_a), UT(test_b), ...). */
#define UT_MAIN(suite, init, clean, ...)                                        \
	int main(void)                                                          \
	{                                                                       \
		static const struct ut_test ut_tests_[] = { __VA_ARGS__ };      \
		return UT_RUN((suite), (init), (clean), ut_tests_);             \
	}

void ut_assert_eq(long long got, long long want, const char *expr, const char *file,
		  unsigned int line, bool fatal);

#define UT_ASSERT_EQ(got, want) \
	ut_assert_eq((long long)(got), (long long)(want), #got " == " #want, __FILE__, \
		     __LINE__, false)
#define UT_ASSERT_EQ_FATAL(got, want) \
	ut_assert_eq((long long)(got), (long long)(want), #got " == " #want, __FILE__, \
		     __LINE__, true)

#endif /* UT_COMMON_H */
