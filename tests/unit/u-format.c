/*
 * u-format.c - the string format checkers (runtime/format.c) and the
 * loopback test used by cross-field rules.  Table-driven: each row is one
 * input and the expected outcome; a failing row prints itself.
 */
#include "format.h"
#include "test.h"

struct row {
	enum mcpg_format f;
	const char *s;
	const char *schemes;
	int ok;
};

static const struct row rows[] = {
	/* socket_addr */
	{ MCPG_FMT_SOCKET_ADDR, "127.0.0.1:8787", NULL, 1 },
	{ MCPG_FMT_SOCKET_ADDR, "0.0.0.0:1", NULL, 1 },
	{ MCPG_FMT_SOCKET_ADDR, "localhost:65535", NULL, 1 },
	{ MCPG_FMT_SOCKET_ADDR, "redis.internal:6379", NULL, 1 },
	{ MCPG_FMT_SOCKET_ADDR, "nats_1:4222", NULL, 1 },
	{ MCPG_FMT_SOCKET_ADDR, "[::1]:8787", NULL, 1 },
	{ MCPG_FMT_SOCKET_ADDR, "[::]:80", NULL, 1 },
	{ MCPG_FMT_SOCKET_ADDR, "[2001:db8::1]:443", NULL, 1 },
	{ MCPG_FMT_SOCKET_ADDR, "127.0.0.1", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "127.0.0.1:", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, ":8080", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "127.0.0.1:0", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "127.0.0.1:65536", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "127.0.0.1:123456", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "127.0.0.1:80a", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "127.0.0.1:-1", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "256.0.0.1:80", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "01.2.3.4:80", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "1.2.3:80", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "::1:8080", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "[::1]", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "[::1]8080", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "[::g]:80", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "[::1:80", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "-bad.host:80", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "bad-.host:80", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "a..b:80", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "sp ace:80", NULL, 0 },
	{ MCPG_FMT_SOCKET_ADDR, "", NULL, 0 },
	/* url */
	{ MCPG_FMT_URL, "https://example.com", NULL, 1 },
	{ MCPG_FMT_URL, "https://example.com/path?q=1#f", NULL, 1 },
	{ MCPG_FMT_URL, "http://127.0.0.1:8080/mcp", NULL, 1 },
	{ MCPG_FMT_URL, "http://[::1]:8080/", NULL, 1 },
	{ MCPG_FMT_URL, "redis://user:pw@redis:6379/0", NULL, 1 },
	{ MCPG_FMT_URL, "nats://nats:4222", "nats tls", 1 },
	{ MCPG_FMT_URL, "HTTPS://example.com", "http https", 1 },
	{ MCPG_FMT_URL, "ftp://example.com", "http https", 0 },
	{ MCPG_FMT_URL, "https://example.com", "http", 0 },
	{ MCPG_FMT_URL, "example.com", NULL, 0 },
	{ MCPG_FMT_URL, "https:/example.com", NULL, 0 },
	{ MCPG_FMT_URL, "https://", NULL, 0 },
	{ MCPG_FMT_URL, "https:///path", NULL, 0 },
	{ MCPG_FMT_URL, "https://exa mple.com", NULL, 0 },
	{ MCPG_FMT_URL, "https://example.com:0/", NULL, 0 },
	{ MCPG_FMT_URL, "https://example.com:/", NULL, 0 },
	{ MCPG_FMT_URL, "https://[::1/", NULL, 0 },
	{ MCPG_FMT_URL, "1http://x", NULL, 0 },
	{ MCPG_FMT_URL, "://x", NULL, 0 },
	{ MCPG_FMT_URL, "https://user@", NULL, 0 },
	/* abs_path */
	{ MCPG_FMT_ABS_PATH, "/", NULL, 1 },
	{ MCPG_FMT_ABS_PATH, "/mcp", NULL, 1 },
	{ MCPG_FMT_ABS_PATH, "/a/b-c_d.e", NULL, 1 },
	{ MCPG_FMT_ABS_PATH, "mcp", NULL, 0 },
	{ MCPG_FMT_ABS_PATH, "", NULL, 0 },
	{ MCPG_FMT_ABS_PATH, "/a b", NULL, 0 },
	{ MCPG_FMT_ABS_PATH, "/a\tb", NULL, 0 },
	/* file_path */
	{ MCPG_FMT_FILE_PATH, "audit.jsonl", NULL, 1 },
	{ MCPG_FMT_FILE_PATH, "/var/lib/mcpg/my file.img", NULL, 1 },
	{ MCPG_FMT_FILE_PATH, "", NULL, 0 },
	/* cidr */
	{ MCPG_FMT_CIDR, "10.0.0.0/8", NULL, 1 },
	{ MCPG_FMT_CIDR, "192.168.1.1", NULL, 1 },
	{ MCPG_FMT_CIDR, "0.0.0.0/0", NULL, 1 },
	{ MCPG_FMT_CIDR, "10.0.0.0/32", NULL, 1 },
	{ MCPG_FMT_CIDR, "::1/128", NULL, 1 },
	{ MCPG_FMT_CIDR, "fd00::/8", NULL, 1 },
	{ MCPG_FMT_CIDR, "::ffff:10.0.0.1", NULL, 1 },
	{ MCPG_FMT_CIDR, "10.0.0.0/33", NULL, 0 },
	{ MCPG_FMT_CIDR, "::/129", NULL, 0 },
	{ MCPG_FMT_CIDR, "10.0.0.0/", NULL, 0 },
	{ MCPG_FMT_CIDR, "10.0.0.0/a", NULL, 0 },
	{ MCPG_FMT_CIDR, "10.0.0.0/0008", NULL, 0 },
	{ MCPG_FMT_CIDR, "10.0.0/8", NULL, 0 },
	{ MCPG_FMT_CIDR, "example.com/8", NULL, 0 },
	{ MCPG_FMT_CIDR, "", NULL, 0 },
	/* host */
	{ MCPG_FMT_HOST, "example.com", NULL, 1 },
	{ MCPG_FMT_HOST, "example.com.", NULL, 1 },
	{ MCPG_FMT_HOST, "localhost", NULL, 1 },
	{ MCPG_FMT_HOST, "10.1.2.3", NULL, 1 },
	{ MCPG_FMT_HOST, "::1", NULL, 1 },
	{ MCPG_FMT_HOST, "[::1]", NULL, 1 },
	{ MCPG_FMT_HOST, "", NULL, 0 },
	{ MCPG_FMT_HOST, "ex ample.com", NULL, 0 },
	{ MCPG_FMT_HOST, "example.com:80", NULL, 0 },
	{ MCPG_FMT_HOST, "1.2.3.4.5", NULL, 0 },
	{ MCPG_FMT_HOST, "[::1", NULL, 0 },
	{ MCPG_FMT_HOST, "a.-b.com", NULL, 0 },
	{ MCPG_FMT_HOST, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", NULL, 0 },
	/* none */
	{ MCPG_FMT_NONE, "", NULL, 1 },
	{ MCPG_FMT_NONE, "anything at all", NULL, 1 },
};

static void
format_table(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		const char *why = "unset";
		int rc = mcpg_format_check(r->f, r->s, r->schemes, &why);

		if ((rc == 0) != r->ok) {
			test_failed_now = 1;
			printf("    %s '%s' [%s]: got %s (%s)\n", mcpg_format_name(r->f), r->s,
			       r->schemes ? r->schemes : "", rc == 0 ? "ok" : "bad",
			       why ? why : "no reason");
		}
		/* A rejection always says why; an acceptance leaves why NULL. */
		if (rc == 0)
			CHECK(why == NULL);
		else
			CHECK(why != NULL && why[0]);
	}
}

static void
format_why(void)
{
	const char *why;

	CHECK(mcpg_format_check(MCPG_FMT_SOCKET_ADDR, "h:99999", NULL, &why) == -1);
	CHECK_STR(why, "port must be a number 1..65535");
	CHECK(mcpg_format_check(MCPG_FMT_SOCKET_ADDR, "h", NULL, &why) == -1);
	CHECK_STR(why, "missing port");
	CHECK(mcpg_format_check(MCPG_FMT_SOCKET_ADDR, "fe80::1:80", NULL, &why) == -1);
	CHECK_STR(why, "an IPv6 address needs brackets: [ADDRESS]:PORT");
	CHECK(mcpg_format_check(MCPG_FMT_URL, "ftp://h", "http https", &why) == -1);
	CHECK_STR(why, "scheme not allowed here");
	CHECK(mcpg_format_check(MCPG_FMT_CIDR, "10.0.0.0/40", NULL, &why) == -1);
	CHECK_STR(why, "prefix length must be 0..32");
	CHECK(mcpg_format_check(MCPG_FMT_ABS_PATH, "x", NULL, NULL) == -1);
	CHECK(mcpg_format_check(MCPG_FMT__COUNT, "x", NULL, &why) == -1);
}

static void
format_names(void)
{
	CHECK_STR(mcpg_format_name(MCPG_FMT_SOCKET_ADDR), "socket_addr");
	CHECK_STR(mcpg_format_name(MCPG_FMT_HOST), "host");
	CHECK(mcpg_format_name(MCPG_FMT__COUNT) == NULL);
	for (int f = 0; f < MCPG_FMT__COUNT; f++)
		CHECK(mcpg_format_name(f) != NULL);
}

static void
loopback(void)
{
	static const char *const yes[] = {
		"localhost", "LocalHost", "localhost.", "localhost:8787", "127.0.0.1",
		"127.1.2.3", "127.0.0.1:8787", "::1", "[::1]", "[::1]:8787",
		"::ffff:127.0.0.1", "[::ffff:127.0.0.2]:80", "0:0:0:0:0:0:0:1",
	};
	static const char *const no[] = {
		"", "0.0.0.0", "0.0.0.0:8787", "::", "[::]:8787", "10.0.0.1", "128.0.0.1",
		"localhost.example.com", "mylocalhost", "example.com:80", "[::1]:0",
		"127.0.0.1:99999", "127.0.0.01", "::2", "[::1", "::ffff:10.0.0.1",
		"localhost:", "127.0.0.1:x",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!mcpg_is_loopback_host(yes[i])) {
			test_failed_now = 1;
			printf("    '%s' should be loopback\n", yes[i]);
		}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (mcpg_is_loopback_host(no[i])) {
			test_failed_now = 1;
			printf("    '%s' should not be loopback\n", no[i]);
		}
}

int
main(void)
{
	TEST(format_table);
	TEST(format_why);
	TEST(format_names);
	TEST(loopback);
	return test_done();
}
