/*
 * u-fedmap.c - the in-process federation state store (runtime/fedmap.c):
 * put/get/take/del, expiry, prefix and suffix scans with deletion.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fedmap.h"

#include "test.h"

static void
put_get_take(void)
{
	char *v;

	CHECK(mcpg_fedmap_put("a", "1", 0) == 0);
	v = mcpg_fedmap_get("a");
	CHECK_STR(v, "1");
	free(v);
	CHECK(mcpg_fedmap_put("a", "2", 0) == 0);
	v = mcpg_fedmap_take("a");
	CHECK_STR(v, "2");
	free(v);
	CHECK(mcpg_fedmap_get("a") == NULL);
	CHECK(mcpg_fedmap_take("a") == NULL);
	CHECK(mcpg_fedmap_put("b", "x", 0) == 0);
	CHECK(mcpg_fedmap_del("b") == 1);
	CHECK(mcpg_fedmap_del("b") == 0);
}

static void
expiry(void)
{
	struct timespec ts = { 0, 30 * 1000000 };
	char *v;

	CHECK(mcpg_fedmap_put("ttl", "v", 10) == 0);
	CHECK(mcpg_fedmap_put("keep", "v", 10000) == 0);
	nanosleep(&ts, NULL);
	CHECK(mcpg_fedmap_get("ttl") == NULL);
	v = mcpg_fedmap_get("keep");
	CHECK_STR(v, "v");
	free(v);
	CHECK(mcpg_fedmap_scan("ttl", NULL, 0, NULL, NULL) == 0);
	mcpg_fedmap_clear();
	CHECK(mcpg_fedmap_get("keep") == NULL);
}

static void
count(const char *key, const char *val, void *arg)
{
	(void)key;
	(void)val;
	(*(int *)arg)++;
}

static void
scans(void)
{
	int n = 0;

	mcpg_fedmap_put("sub\x1fup\x1fu1\x1fs1", "1", 0);
	mcpg_fedmap_put("sub\x1fup\x1fu1\x1fs2", "1", 0);
	mcpg_fedmap_put("sub\x1fup\x1fu2\x1fs1", "1", 0);
	mcpg_fedmap_put("sreq\x1fs1\x1f\"g1\"", "{}", 0);
	CHECK(mcpg_fedmap_scan("sub\x1fup\x1fu1\x1f", NULL, 0, count, &n) == 2);
	CHECK(n == 2);
	/* Everything of session s1, by suffix; then only s2's is left. */
	CHECK(mcpg_fedmap_scan("sub\x1f", "\x1fs1", 1, NULL, NULL) == 2);
	CHECK(mcpg_fedmap_scan("sub\x1f", NULL, 0, NULL, NULL) == 1);
	CHECK(mcpg_fedmap_scan("sreq\x1fs1\x1f", NULL, 1, NULL, NULL) == 1);
	CHECK(mcpg_fedmap_scan("", NULL, 0, NULL, NULL) == 1);
	mcpg_fedmap_clear();
	CHECK(mcpg_fedmap_scan("", NULL, 0, NULL, NULL) == 0);
}

int
main(void)
{
	TEST(put_get_take);
	TEST(expiry);
	TEST(scans);
	return test_done();
}
