/*
 * u-ratelimit.c - the per-IP token buckets of runtime/ratelimit.c with a
 * hand-made snapshot (no trusted proxies, so the peer is the client): burst,
 * refill and Retry-After of the anonymous limiter, the failed-auth limiter,
 * and the fixed table under a flood of distinct addresses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#include "test.h"

static struct mcpg_config cfg;
static struct mcpg_rt rt;

static struct sockaddr_in
v4(uint32_t a)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(a);
	return s;
}

#define SA(x) ((const struct sockaddr *)&(x))

static void
set_limits(uint64_t per_min, uint64_t burst, uint64_t fail_per_min, uint64_t fail_burst)
{
	cfg.gateway.server.anonymous_rate_limit_per_min = per_min;
	cfg.gateway.server.anonymous_rate_limit_burst = burst;
	cfg.gateway.server.failed_auth_rate_limit_per_min = fail_per_min;
	cfg.gateway.server.failed_auth_rate_limit_burst = fail_burst;
}

static void
burst_then_refill(void)
{
	struct sockaddr_in a = v4(0xc0000201); /* 192.0.2.1 */
	int64_t t = 1000000;

	set_limits(60, 3, 10, 20);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t) == 0);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t) == 0);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t) == 0);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t) == 1); /* 1 token a second */
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t + 500) == 1);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t + 1000) == 0);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t + 1000) > 0);
	/* Lowering the burst by reload clamps what a bucket holds. */
	set_limits(60, 1, 10, 20);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t + 100000) == 0);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t + 100000) > 0);
}

static void
retry_after(void)
{
	struct sockaddr_in a = v4(0xc0000202);
	int64_t t = 2000000;

	set_limits(6, 1, 10, 20); /* one token every 10 s */
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t) == 0);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t) == 10);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t + 4000) == 6);
	set_limits(0, 1, 10, 20); /* 0 disables */
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t + 4000) == 0);
}

static void
ipv6(void)
{
	struct sockaddr_in6 a, b;
	int64_t t = 3000000;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", &a.sin6_addr);
	b = a;
	inet_pton(AF_INET6, "2001:db8::2", &b.sin6_addr);
	set_limits(60, 1, 10, 20);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t) == 0);
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t) > 0);
	CHECK(mcpg_ratelimit_take(&rt, SA(b), NULL, t) == 0);
	CHECK(mcpg_ratelimit_take(&rt, NULL, NULL, t) == 0); /* no address: not limited */
}

static void
failed_auth(void)
{
	struct sockaddr_in a = v4(0xc6336401), b = v4(0xc6336402);
	int64_t t = 4000000;

	set_limits(60, 3, 60, 2);
	CHECK(mcpg_authfail_blocked(&rt, SA(a), NULL, t) == 0);
	mcpg_authfail_note(&rt, SA(a), NULL, t);
	CHECK(mcpg_authfail_blocked(&rt, SA(a), NULL, t) == 0);
	mcpg_authfail_note(&rt, SA(a), NULL, t);
	CHECK(mcpg_authfail_blocked(&rt, SA(a), NULL, t) == 1);
	CHECK(mcpg_authfail_blocked(&rt, SA(a), NULL, t) == 1); /* asking costs nothing */
	CHECK(mcpg_authfail_blocked(&rt, SA(b), NULL, t) == 0);
	CHECK(mcpg_authfail_blocked(&rt, SA(a), NULL, t + 1000) == 0);
	/* The anonymous bucket of the same address is separate. */
	CHECK(mcpg_ratelimit_take(&rt, SA(a), NULL, t) == 0);
	set_limits(60, 3, 0, 2);
	mcpg_authfail_note(&rt, SA(b), NULL, t);
	mcpg_authfail_note(&rt, SA(b), NULL, t);
	mcpg_authfail_note(&rt, SA(b), NULL, t);
	CHECK(mcpg_authfail_blocked(&rt, SA(b), NULL, t) == 0); /* 0 disables */
}

static long
metric(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;
	long v = -1;

	mcpg_ratelimit_metrics(&sb);
	p = strstr(sb.buf, name);
	if (p)
		v = strtol(p + strlen(name), NULL, 10);
	strbuf_release(&sb);
	return v;
}

static void
flood_is_bounded(void)
{
	struct sockaddr_in victim = v4(0xcb007101);
	int64_t t = 5000000;
	long cap = MCPG_RATELIMIT_SETS * MCPG_RATELIMIT_WAYS;

	set_limits(1, 2, 10, 20);
	CHECK(mcpg_ratelimit_take(&rt, SA(victim), NULL, t) == 0);
	CHECK(mcpg_ratelimit_take(&rt, SA(victim), NULL, t) == 0);
	CHECK(mcpg_ratelimit_take(&rt, SA(victim), NULL, t) > 0);
	for (uint32_t i = 0; i < 100000; i++) {
		struct sockaddr_in a = v4(0x0a000000 + i);

		mcpg_ratelimit_take(&rt, SA(a), NULL, t + 1);
	}
	CHECK(metric("mcpg_ratelimit_entries{table=\"anonymous\"} ") <= cap);
	CHECK(metric("mcpg_ratelimit_capacity{table=\"anonymous\"} ") == cap);
	CHECK(metric("mcpg_ratelimit_evictions_total{table=\"anonymous\"} ") >= 100000 - cap);
	/* The throttled address kept its empty bucket: the fullest were replaced. */
	CHECK(mcpg_ratelimit_take(&rt, SA(victim), NULL, t + 2) > 0);
}

int
main(void)
{
	rt.cfg = &cfg;
	TEST(burst_then_refill);
	TEST(retry_after);
	TEST(ipv6);
	TEST(failed_auth);
	TEST(flood_is_bounded);
	return test_done();
}
