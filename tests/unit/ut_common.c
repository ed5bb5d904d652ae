/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ut_common.c - the one CUnit runner of the unit tests (see ut_common.h).
 *
 * Every unit binary is linked with this file (mk/rules.mk, add_unit_test).
 * The exit status is the failure count so a failing binary fails `make
 * unit`; it is capped at 255 because an exit status is 8 bits and 256
 * failures must not read as success.  A registry that cannot be set up is
 * a failure too (status 1, with CUnit's message).
 */
#include "ut_common.h"

#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

/* test_remove_mid_pass -> "remove mid pass" */
static void test_name(const char *fn_name, char *out, size_t size)
{
	size_t i = 0;

	if (!strncmp(fn_name, "test_", 5))
		fn_name += 5;
	for (; fn_name[i] && i + 1 < size; i++)
		out[i] = fn_name[i] == '_' ? ' ' : fn_name[i];
	out[i] = 0;
}

int ut_run(const char *suite, CU_InitializeFunc init, CU_CleanupFunc clean,
	   const struct ut_test *tests, size_t n)
{
	unsigned int failed;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "%s: CUnit registry: %s\n", suite, CU_get_error_msg());
		return 1;
	}
	s = CU_add_suite(suite, init, clean);
	if (!s)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		char name[128];

		test_name(tests[i].fn_name, name, sizeof(name));
		if (!CU_add_test(s, name, tests[i].fn))
			goto fail;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS && CU_get_error() != CUE_SINIT_FAILED &&
	    CU_get_error() != CUE_SCLEAN_FAILED)
		goto fail;
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed > 255 ? 255 : (int)failed;

fail:
	fprintf(stderr, "%s: CUnit set-up failed: %s\n", suite, CU_get_error_msg());
	CU_cleanup_registry();
	return 1;
}

void ut_assert_eq(long long got, long long want, const char *expr, const char *file,
		  unsigned int line, bool fatal)
{
	char msg[512];

	if (got == want) {
		CU_assertImplementation(CU_TRUE, line, expr, file, "", CU_FALSE);
		return;
	}
	snprintf(msg, sizeof(msg), "%s: got %lld, want %lld", expr, got, want);
	CU_assertImplementation(CU_FALSE, line, msg, file, "", fatal ? CU_TRUE : CU_FALSE);
}
