/*
 * test.h - a tiny unit-test harness for tests/unit/u-*.c.
 *
 * Each CHECK prints nothing when it holds; a failing one prints its place.
 * A case is a function run by TEST(); it reports "ok - name" or
 * "not ok - name".  main() ends with test_done(), which returns the exit
 * status for tests/run.
 */
#ifndef MCPG_TEST_H
#define MCPG_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_now, test_npass, test_nfail;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			if (!test_failed_now)                                \
				test_failed_now = 1;                         \
			printf("    %s:%d: CHECK(%s) failed\n", __FILE__,    \
			       __LINE__, #cond);                             \
		}                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		if (!a_ || !b_ || strcmp(a_, b_)) {                          \
			test_failed_now = 1;                                 \
			printf("    %s:%d: '%s' != '%s'\n", __FILE__, __LINE__, \
			       a_ ? a_ : "(null)", b_ ? b_ : "(null)");     \
		}                                                            \
	} while (0)

#define TEST(fn, ...)                                                        \
	do {                                                                 \
		test_failed_now = 0;                                         \
		fn(__VA_ARGS__);                                             \
		printf("%s - %s\n", test_failed_now ? "not ok" : "ok", #fn); \
		if (test_failed_now)                                         \
			test_nfail++;                                        \
		else                                                         \
			test_npass++;                                        \
		fflush(stdout);                                              \
	} while (0)

/* Like TEST, with a case name given at run time (table-driven cases). */
#define TEST_NAMED(name, fn, ...)                                            \
	do {                                                                 \
		test_failed_now = 0;                                         \
		fn(__VA_ARGS__);                                             \
		printf("%s - %s\n", test_failed_now ? "not ok" : "ok", name); \
		if (test_failed_now)                                         \
			test_nfail++;                                        \
		else                                                         \
			test_npass++;                                        \
		fflush(stdout);                                              \
	} while (0)

static inline int
test_done(void)
{
	return test_nfail ? 1 : 0;
}

#endif /* MCPG_TEST_H */
