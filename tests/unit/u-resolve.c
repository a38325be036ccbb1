/*
 * u-resolve.c - the NSS-free resolver of the static build (runtime/resolve.c):
 * /etc/hosts, localhost, numeric hosts, services, families and socket types.
 * DNS is off here (no_dns); t7000 resolves a name inside the root file system.
 */
#include "resolve.h"
#include "test.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>

static char hosts[] = "/tmp/u-resolve-hosts-XXXXXX";

static int
count(const struct addrinfo *ai)
{
	int n = 0;

	for (; ai; ai = ai->ai_next)
		n++;
	return n;
}

static const char *
first_addr(const struct addrinfo *ai, char *buf, size_t len)
{
	const void *a = ai->ai_family == AF_INET
				? (const void *)&((const struct sockaddr_in *)ai->ai_addr)->sin_addr
				: (const void *)&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

	return inet_ntop(ai->ai_family, a, buf, (socklen_t)len);
}

static int
port_of(const struct addrinfo *ai)
{
	return ntohs(((const struct sockaddr_in *)ai->ai_addr)->sin_port);
}

static void
hosts_file(void)
{
	struct mcpg_resolve_cfg cfg = { .hosts = hosts, .no_dns = 1 };
	struct addrinfo h = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	char buf[64];

	CHECK(mcpg_getaddrinfo(&cfg, "Backend.Test.", "8080", &h, &res, getaddrinfo) == 0);
	CHECK(res && count(res) == 2);
	if (res) {
		CHECK_STR(first_addr(res, buf, sizeof(buf)), "10.1.2.3");
		CHECK(port_of(res) == 8080 && res->ai_socktype == SOCK_STREAM);
		CHECK(res->ai_next && res->ai_next->ai_family == AF_INET6);
		freeaddrinfo(res);
	}
	res = NULL;
	h.ai_family = AF_INET6;
	CHECK(mcpg_getaddrinfo(&cfg, "alias2", "https", &h, &res, getaddrinfo) == 0);
	if (res) {
		CHECK_STR(first_addr(res, buf, sizeof(buf)), "fd00::7");
		CHECK(count(res) == 1 && port_of(res) == 443);
		freeaddrinfo(res);
	}
	res = NULL;
	CHECK(mcpg_getaddrinfo(&cfg, "commented", NULL, NULL, &res, getaddrinfo) == EAI_NONAME);
	CHECK(mcpg_getaddrinfo(&cfg, "nowhere.invalid", "80", NULL, &res, getaddrinfo) == EAI_NONAME);
}

static void
localhost_and_numeric(void)
{
	struct mcpg_resolve_cfg cfg = { .hosts = "/nonexistent", .no_dns = 1 };
	struct addrinfo h = { .ai_family = AF_INET, .ai_flags = AI_CANONNAME }, *res = NULL;
	char buf[64];

	CHECK(mcpg_getaddrinfo(&cfg, "api.localhost", "9", &h, &res, getaddrinfo) == 0);
	if (res) {
		CHECK_STR(first_addr(res, buf, sizeof(buf)), "127.0.0.1");
		/* No socket type asked: one stream and one datagram entry. */
		CHECK(count(res) == 2 && res->ai_next->ai_socktype == SOCK_DGRAM);
		CHECK_STR(res->ai_canonname, "api.localhost");
		freeaddrinfo(res);
	}
	res = NULL;
	CHECK(mcpg_getaddrinfo(&cfg, "192.0.2.5", "http", NULL, &res, getaddrinfo) == 0);
	if (res) {
		CHECK_STR(first_addr(res, buf, sizeof(buf)), "192.0.2.5");
		CHECK(port_of(res) == 80);
		freeaddrinfo(res);
	}
	res = NULL;
	CHECK(mcpg_getaddrinfo(&cfg, "::1", "1", NULL, &res, getaddrinfo) == 0);
	if (res)
		freeaddrinfo(res);
	CHECK(mcpg_getaddrinfo(&cfg, "localhost", "smtp", NULL, &res, getaddrinfo) == EAI_SERVICE);
	h.ai_flags = AI_NUMERICSERV;
	CHECK(mcpg_getaddrinfo(&cfg, "localhost", "http", &h, &res, getaddrinfo) == EAI_NONAME);
	h.ai_family = 12345;
	CHECK(mcpg_getaddrinfo(&cfg, "localhost", "1", &h, &res, getaddrinfo) == EAI_FAMILY);
	CHECK(mcpg_getaddrinfo(&cfg, "", "1", NULL, &res, getaddrinfo) == EAI_NONAME);
}

int
main(void)
{
	int fd = mkstemp(hosts);
	static const char text[] = "# test hosts\n"
				   "10.1.2.3\tbackend.test alias1\n"
				   "fd00::7 backend.test alias2   # trailing comment\n"
				   "not-an-address backend.test\n"
				   "# 10.9.9.9 commented\n";

	if (fd < 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)sizeof(text) - 1)
		return 2;
	close(fd);
	TEST(hosts_file);
	TEST(localhost_and_numeric);
	unlink(hosts);
	return test_done();
}
