/*
 * u-coord.c - the coordinator API (runtime/coord.h) on the in-process
 * single_node implementation: KV with TTL, create, compare-and-set,
 * replace, delete, scan, leases with fencing tokens, and the bus.  The
 * redis and nats implementations run the same calls against real servers
 * in t6000, t6010 and t6100.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord.h"

#include "test.h"

static int delivered;
static char last[64];

static void
on_msg(const char *data, size_t len, void *arg)
{
	(void)arg;
	delivered++;
	snprintf(last, sizeof(last), "%.*s", (int)len, data);
}

static void
kv_basics(void)
{
	struct strbuf v = STRBUF_INIT;

	CHECK(mcpg_coord_get("a.1", &v) == 0);
	CHECK(mcpg_coord_put("a.1", "one", 3, 0) == 0);
	CHECK(mcpg_coord_get("a.1", &v) == 1);
	CHECK_STR(v.buf, "one");
	strbuf_reset(&v);
	CHECK(mcpg_coord_put("a.1", "uno", 3, 0) == 0);
	CHECK(mcpg_coord_get("a.1", &v) == 1);
	CHECK_STR(v.buf, "uno");
	strbuf_reset(&v);
	/* Binary values keep their NUL bytes. */
	CHECK(mcpg_coord_put("a.bin", "x\0y", 3, 0) == 0);
	CHECK(mcpg_coord_get("a.bin", &v) == 1);
	CHECK(v.len == 3 && !memcmp(v.buf, "x\0y", 3));
	strbuf_reset(&v);
	CHECK(mcpg_coord_del("a.1") == 1);
	CHECK(mcpg_coord_del("a.1") == 0);
	CHECK(mcpg_coord_get("a.1", &v) == 0);
	strbuf_release(&v);
}

static void
kv_ttl(void)
{
	struct strbuf v = STRBUF_INIT;

	CHECK(mcpg_coord_put("t.1", "soon", 4, 40) == 0);
	CHECK(mcpg_coord_get("t.1", &v) == 1);
	usleep(80 * 1000);
	CHECK(mcpg_coord_get("t.1", &v) == 0);
	/* An expired key can be created again. */
	CHECK(mcpg_coord_create("t.1", "again", 5, 0) == 1);
	strbuf_release(&v);
}

static void
kv_conditional(void)
{
	struct strbuf v = STRBUF_INIT;

	CHECK(mcpg_coord_create("c.1", "v1", 2, 0) == 1);
	CHECK(mcpg_coord_create("c.1", "v2", 2, 0) == 0);
	CHECK(mcpg_coord_cas("c.1", "nope", 4, "v3", 2, 0) == 0);
	CHECK(mcpg_coord_cas("c.1", "v1", 2, "v3", 2, 0) == 1);
	CHECK(mcpg_coord_get("c.1", &v) == 1);
	CHECK_STR(v.buf, "v3");
	CHECK(mcpg_coord_cas("c.missing", "v1", 2, "v3", 2, 0) == 0);
	CHECK(mcpg_coord_replace("c.missing", "r", 1, 0) == 0);
	CHECK(mcpg_coord_get("c.missing", &v) == 1 ? 0 : 1);
	CHECK(mcpg_coord_replace("c.1", "r", 1, 0) == 1);
	strbuf_reset(&v);
	CHECK(mcpg_coord_get("c.1", &v) == 1);
	CHECK_STR(v.buf, "r");
	strbuf_release(&v);
}

static void
count_key(const char *key, void *arg)
{
	(*(int *)arg)++;
	CHECK(!strncmp(key, "s.", 2));
}

static void
kv_scan(void)
{
	int n = 0;

	CHECK(mcpg_coord_put("s.1", "", 0, 0) == 0);
	CHECK(mcpg_coord_put("s.2", "", 0, 0) == 0);
	CHECK(mcpg_coord_put("s.3", "", 0, 30) == 0);
	CHECK(mcpg_coord_put("other", "", 0, 0) == 0);
	CHECK(mcpg_coord_scan("s.", count_key, &n) == 3 && n == 3);
	usleep(60 * 1000);
	n = 0;
	CHECK(mcpg_coord_scan("s.", count_key, &n) == 2 && n == 2);
}

static void
leases(void)
{
	uint64_t t1 = 0, t2 = 0, t3 = 0;

	CHECK(mcpg_coord_lease("duty", 1000, &t1) == 1);
	CHECK(t1 > 0);
	/* Renewing keeps the token. */
	CHECK(mcpg_coord_lease("duty", 1000, &t2) == 1);
	CHECK(t2 == t1);
	/* Released (by the right token only), the next taker gets a larger one. */
	mcpg_coord_lease_release("duty", t1 + 100);
	CHECK(mcpg_coord_lease("duty", 1000, &t2) == 1 && t2 == t1);
	mcpg_coord_lease_release("duty", t1);
	CHECK(mcpg_coord_lease("duty", 1000, &t3) == 1);
	CHECK(t3 > t1);
	/* A fenced delete works for the holder. */
	CHECK(mcpg_coord_put("f.1", "x", 1, 0) == 0);
	CHECK(mcpg_coord_del_fenced("f.1", "duty", t3) == 1);
	CHECK(mcpg_coord_del_fenced("f.1", "duty", t3) == 0);
	/* An expired lease changes hands too. */
	CHECK(mcpg_coord_lease("short", 20, &t1) == 1);
	usleep(50 * 1000);
	CHECK(mcpg_coord_lease("short", 20, &t2) == 1 && t2 > t1);
}

static void
bus_and_state(void)
{
	char err[128];

	CHECK(mcpg_coord_publish("hello", 5) == 0);
	CHECK(delivered == 1);
	CHECK_STR(last, "hello");
	CHECK_STR(mcpg_coord_kind(), "single_node");
	CHECK(!mcpg_coord_shared());
	CHECK(mcpg_coord_up());
	mcpg_coord_error(err, sizeof(err));
	CHECK(err[0] != '\0');
}

int
main(void)
{
	char err[256];

	if (mcpg_coord_start(NULL, on_msg, NULL, err, sizeof(err)) != 0) {
		printf("not ok - start: %s\n", err);
		return 1;
	}
	TEST(kv_basics);
	TEST(kv_ttl);
	TEST(kv_conditional);
	TEST(kv_scan);
	TEST(leases);
	TEST(bus_and_state);
	mcpg_coord_stop();
	/* Stopped: every call fails at once. */
	{
		struct strbuf v = STRBUF_INIT;

		test_failed_now = 0;
		CHECK(mcpg_coord_get("a", &v) == -1);
		CHECK(mcpg_coord_publish("x", 1) == -1);
		printf("%s - stopped_fails_fast\n", test_failed_now ? "not ok" : "ok");
		test_failed_now ? test_nfail++ : test_npass++;
	}
	return test_done();
}
