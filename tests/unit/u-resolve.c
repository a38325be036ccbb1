/*
 * u-resolve.c - the NSS-free resolver of the static build (runtime/resolve.c):
 * /etc/hosts, localhost, numeric hosts, services, families and socket types.
 * DNS is off here (no_dns); t7000 resolves a name inside the root file system.
 */
#include "resolve.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
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

/* ------------------------------------------------------------------------
 * DNS, against a name server on a thread of this test.  Zone:
 *   a.test     CNAME b.test, which has A 10.0.0.1 and 10.0.0.2; no AAAA
 *   six.test   AAAA fd00::1 only
 *   trunc.test an answer count of 5 over one record cut short
 *   loop.test  a compression pointer to itself
 *   anything else: NXDOMAIN
 */

static int dns_fd = -1;
static struct sockaddr_in dns_addr;

static size_t
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return 2;
}

/* A resource record whose owner is the question name (pointer 0xc00c). */
static size_t
rr(unsigned char *p, unsigned type, const void *data, unsigned len)
{
	size_t n = 0;

	n += put16(p + n, 0xc00c);
	n += put16(p + n, type);
	n += put16(p + n, 1);
	n += put16(p + n, 0);
	n += put16(p + n, 60);
	n += put16(p + n, len);
	memcpy(p + n, data, len);
	return n + len;
}

static void *
dns_server(void *arg)
{
	unsigned char q[512], a[1024];

	for (;;) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		ssize_t n = recvfrom(dns_fd, q, sizeof(q), 0, (struct sockaddr *)&peer, &pl);
		char name[256] = "";
		size_t i = 12, k = 0, end;
		unsigned qtype, an = 0, rcode = 0;

		if (n < 17)
			break; /* the test's empty datagram: stop */
		while (i < (size_t)n && q[i] && k + q[i] + 1 < sizeof(name)) {
			if (k)
				name[k++] = '.';
			memcpy(name + k, q + i + 1, q[i]);
			k += q[i];
			i += 1 + q[i];
		}
		name[k] = '\0';
		end = i + 5;
		qtype = q[i + 1] << 8 | q[i + 2];
		memcpy(a, q, end);
		k = end;
		if (!strcmp(name, "a.test")) {
			static const unsigned char cname[] = { 1, 'b', 4, 't', 'e', 's', 't', 0 };
			static const unsigned char ip1[] = { 10, 0, 0, 1 }, ip2[] = { 10, 0, 0, 2 };

			k += rr(a + k, 5, cname, sizeof(cname));
			an = 1;
			if (qtype == 1) {
				k += rr(a + k, 1, ip1, 4);
				k += rr(a + k, 1, ip2, 4);
				an = 3;
			}
		} else if (!strcmp(name, "six.test")) {
			static const unsigned char ip6[16] = { 0xfd, [15] = 1 };

			if (qtype == 28) {
				k += rr(a + k, 28, ip6, 16);
				an = 1;
			}
		} else if (!strcmp(name, "trunc.test")) {
			static const unsigned char ip[] = { 10, 9, 9, 9 };

			k += rr(a + k, 1, ip, 4) - 3;
			an = 5;
		} else if (!strcmp(name, "loop.test")) {
			a[k++] = 0xc0;
			a[k] = (unsigned char)k - 1 + 0; /* points at itself */
			k++;
			an = 1;
		} else {
			rcode = 3;
		}
		put16(a + 2, 0x8180 | rcode);
		put16(a + 6, an);
		put16(a + 8, 0);
		put16(a + 10, 0);
		sendto(dns_fd, a, k, 0, (struct sockaddr *)&peer, pl);
	}
	return NULL;
}

static void
dns(void)
{
	struct mcpg_resolve_cfg cfg = { .hosts = "/nonexistent", .nameserver = &dns_addr };
	struct addrinfo h = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	char buf[64];

	CHECK(mcpg_getaddrinfo(&cfg, "a.test", "80", &h, &res, getaddrinfo) == 0);
	CHECK(res && count(res) == 2);
	if (res) {
		CHECK_STR(first_addr(res, buf, sizeof(buf)), "10.0.0.1");
		CHECK_STR(first_addr(res->ai_next, buf, sizeof(buf)), "10.0.0.2");
		freeaddrinfo(res);
	}
	res = NULL;
	CHECK(mcpg_getaddrinfo(&cfg, "six.test", "80", &h, &res, getaddrinfo) == 0);
	if (res) {
		CHECK_STR(first_addr(res, buf, sizeof(buf)), "fd00::1");
		CHECK(count(res) == 1);
		freeaddrinfo(res);
	}
	res = NULL;
	h.ai_family = AF_INET6;
	CHECK(mcpg_getaddrinfo(&cfg, "a.test", "80", &h, &res, getaddrinfo) == EAI_NONAME);
	h.ai_family = AF_UNSPEC;
	CHECK(mcpg_getaddrinfo(&cfg, "nx.test", "80", &h, &res, getaddrinfo) == EAI_NONAME);
	/* Broken answers are refused, not read past their end. */
	CHECK(mcpg_getaddrinfo(&cfg, "trunc.test", "80", &h, &res, getaddrinfo) != 0);
	CHECK(mcpg_getaddrinfo(&cfg, "loop.test", "80", &h, &res, getaddrinfo) != 0);
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

	{
		socklen_t l = sizeof(dns_addr);
		pthread_t th;

		dns_addr.sin_family = AF_INET;
		dns_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		dns_fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (dns_fd < 0 || bind(dns_fd, (struct sockaddr *)&dns_addr, sizeof(dns_addr)) ||
		    getsockname(dns_fd, (struct sockaddr *)&dns_addr, &l) ||
		    pthread_create(&th, NULL, dns_server, NULL))
			return 2;
		TEST(dns);
		sendto(dns_fd, "", 0, 0, (struct sockaddr *)&dns_addr, sizeof(dns_addr));
		pthread_join(th, NULL);
		close(dns_fd);
	}
	return test_done();
}
