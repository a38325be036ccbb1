/*
 * resolve.c - getaddrinfo without NSS modules (see resolve.h).
 *
 * Order: numeric hosts as they are; then /etc/hosts; then "localhost" and
 * names under ".localhost" (RFC 6761) as the loopback addresses; then DNS,
 * A before AAAA, through res_nsearch, which applies resolv.conf's search
 * list, ndots, timeout and attempts (Kubernetes' "svc.cluster.local"
 * search domains work as they do with glibc's own NSS dns module).
 */
#include "resolve.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define MAX_ADDRS 32

struct addrs {
	int n;
	struct {
		int family;
		unsigned char a[16];
	} v[MAX_ADDRS];
};

static void
add_addr(struct addrs *as, int family, const void *a)
{
	for (int i = 0; i < as->n; i++)
		if (as->v[i].family == family &&
		    !memcmp(as->v[i].a, a, family == AF_INET ? 4 : 16))
			return;
	if (as->n == MAX_ADDRS)
		return;
	as->v[as->n].family = family;
	memcpy(as->v[as->n].a, a, family == AF_INET ? 4 : 16);
	as->n++;
}

static int
family_ok(int want, int family)
{
	return want == AF_UNSPEC || want == family;
}

/* Compare a host name ignoring case and one trailing dot on either side. */
static int
same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && !strncasecmp(a, b, la);
}

static void
from_hosts(const char *path, const char *name, int want, struct addrs *as)
{
	char line[1024];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *save, *tok, *hash = strchr(line, '#');
		unsigned char a[16];
		int family;

		if (hash)
			*hash = '\0';
		if (!(tok = strtok_r(line, " \t\r\n", &save)))
			continue;
		if (inet_pton(AF_INET, tok, a) == 1)
			family = AF_INET;
		else if (inet_pton(AF_INET6, tok, a) == 1)
			family = AF_INET6;
		else
			continue;
		if (!family_ok(want, family))
			continue;
		while ((tok = strtok_r(NULL, " \t\r\n", &save)))
			if (same_name(tok, name)) {
				add_addr(as, family, a);
				break;
			}
	}
	fclose(f);
}

static int
is_localhost(const char *name)
{
	size_t n = strlen(name);

	if (n && name[n - 1] == '.')
		n--;
	return (n == 9 && !strncasecmp(name, "localhost", 9)) ||
	       (n > 10 && !strncasecmp(name + n - 10, ".localhost", 10));
}

/* One DNS question; the A or AAAA records of the answer go to `as`.
 * Returns 0, or the resolver's h_errno (HOST_NOT_FOUND, NO_DATA,
 * TRY_AGAIN, NO_RECOVERY). */
static int
from_dns(res_state st, const char *name, int type, struct addrs *as)
{
	unsigned char ans[4096];
	const unsigned char *p, *end;
	int n, qd, an, len = type == ns_t_a ? 4 : 16;

	n = res_nsearch(st, name, ns_c_in, type, ans, sizeof(ans));
	if (n < 0)
		return st->res_h_errno ? st->res_h_errno : NO_RECOVERY;
	if (n < HFIXEDSZ)
		return NO_RECOVERY;
	if (n > (int)sizeof(ans))
		n = sizeof(ans); /* truncated: use what arrived */
	end = ans + n;
	qd = ans[4] << 8 | ans[5];
	an = ans[6] << 8 | ans[7];
	p = ans + HFIXEDSZ;
	while (qd-- > 0) {
		int k = dn_skipname(p, end);

		if (k < 0 || end - p < k + QFIXEDSZ)
			return NO_RECOVERY;
		p += k + QFIXEDSZ;
	}
	/* CNAME records come first in the answer; only addresses matter. */
	while (an-- > 0) {
		int k = dn_skipname(p, end), rtype, rclass, rdlen;

		if (k < 0 || end - p < k + RRFIXEDSZ)
			break;
		p += k;
		rtype = p[0] << 8 | p[1];
		rclass = p[2] << 8 | p[3];
		rdlen = p[8] << 8 | p[9];
		p += RRFIXEDSZ;
		if (end - p < rdlen)
			break;
		if (rtype == type && rclass == ns_c_in && rdlen == len)
			add_addr(as, type == ns_t_a ? AF_INET : AF_INET6, p);
		p += rdlen;
	}
	return as->n ? 0 : NO_DATA;
}

static int
service_port(const char *service, int flags, unsigned *port)
{
	char *end;
	unsigned long v;

	*port = 0;
	if (!service)
		return 0;
	v = strtoul(service, &end, 10);
	if (*service && isdigit((unsigned char)*service) && !*end && v <= 65535) {
		*port = (unsigned)v;
		return 0;
	}
	if (flags & AI_NUMERICSERV)
		return EAI_NONAME;
	if (!strcmp(service, "http"))
		*port = 80;
	else if (!strcmp(service, "https"))
		*port = 443;
	else
		return EAI_SERVICE;
	return 0;
}

/* One result node: the addrinfo and its sockaddr in one malloc block, as
 * glibc lays them out, so that glibc's freeaddrinfo frees it. */
static struct addrinfo *
node_new(int family, const unsigned char *a, unsigned port, int socktype, int protocol)
{
	struct addrinfo *ai = calloc(1, sizeof(*ai) + sizeof(struct sockaddr_in6));

	if (!ai)
		return NULL;
	ai->ai_family = family;
	ai->ai_socktype = socktype;
	ai->ai_protocol = protocol;
	ai->ai_addr = (struct sockaddr *)(ai + 1);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ai->ai_addr;

		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
		memcpy(&in->sin_addr, a, 4);
		ai->ai_addrlen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ai->ai_addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		memcpy(&in6->sin6_addr, a, 16);
		ai->ai_addrlen = sizeof(*in6);
	}
	return ai;
}

static int
build_list(const struct addrs *as, const char *node, unsigned port,
	   const struct addrinfo *hints, struct addrinfo **res)
{
	static const struct {
		int socktype, protocol;
	} kinds[] = { { SOCK_STREAM, IPPROTO_TCP }, { SOCK_DGRAM, IPPROTO_UDP } };
	struct addrinfo *head = NULL, **tail = &head;

	for (int i = 0; i < as->n; i++)
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			int st = kinds[k].socktype, proto = kinds[k].protocol;
			struct addrinfo *ai;

			if (hints && hints->ai_socktype && hints->ai_socktype != st)
				continue;
			if (hints && hints->ai_protocol && hints->ai_protocol != proto)
				continue;
			if (!(ai = node_new(as->v[i].family, as->v[i].a, port, st, proto))) {
				freeaddrinfo(head);
				return EAI_MEMORY;
			}
			*tail = ai;
			tail = &ai->ai_next;
		}
	if (!head)
		return EAI_NONAME;
	if (hints && (hints->ai_flags & AI_CANONNAME) && !(head->ai_canonname = strdup(node))) {
		freeaddrinfo(head);
		return EAI_MEMORY;
	}
	*res = head;
	return 0;
}

int
mcpg_getaddrinfo(const struct mcpg_resolve_cfg *cfg, const char *node,
		 const char *service, const struct addrinfo *hints,
		 struct addrinfo **res,
		 int (*numeric)(const char *, const char *, const struct addrinfo *,
				struct addrinfo **))
{
	int want = hints ? hints->ai_family : AF_UNSPEC, flags = hints ? hints->ai_flags : 0;
	unsigned char a[16];
	struct addrs as = { 0 };
	unsigned port;
	int rc;

	if ((rc = service_port(service, flags, &port)))
		return rc;
	if (want != AF_UNSPEC && want != AF_INET && want != AF_INET6)
		return EAI_FAMILY;
	if (!node || (flags & AI_NUMERICHOST) || inet_pton(AF_INET, node, a) == 1 ||
	    inet_pton(AF_INET6, node, a) == 1 || strchr(node, '%')) {
		struct addrinfo h = { .ai_flags = AI_NUMERICSERV };
		char ps[8];

		if (hints)
			h = *hints;
		h.ai_flags |= AI_NUMERICSERV | (node ? AI_NUMERICHOST : 0);
		snprintf(ps, sizeof(ps), "%u", port);
		return numeric(node, service ? ps : NULL, &h, res);
	}
	if (!*node)
		return EAI_NONAME;
	from_hosts(cfg && cfg->hosts ? cfg->hosts : "/etc/hosts", node, want, &as);
	if (!as.n && is_localhost(node)) {
		static const unsigned char lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };

		if (family_ok(want, AF_INET))
			add_addr(&as, AF_INET, lo4);
		if (family_ok(want, AF_INET6))
			add_addr(&as, AF_INET6, lo6);
	}
	if (!as.n && !(cfg && cfg->no_dns)) {
		struct __res_state st;
		int e4 = NO_DATA, e6 = NO_DATA;

		memset(&st, 0, sizeof(st));
		if (res_ninit(&st) < 0)
			return EAI_SYSTEM;
		if (cfg && cfg->nameserver) {
			st.nscount = 1;
			st.nsaddr_list[0] = *cfg->nameserver;
			st.retrans = 1;
			st.retry = 1;
		}
		if (family_ok(want, AF_INET))
			e4 = from_dns(&st, node, ns_t_a, &as);
		/* A name that does not exist for A does not exist for AAAA either. */
		if (family_ok(want, AF_INET6) && e4 != HOST_NOT_FOUND)
			e6 = from_dns(&st, node, ns_t_aaaa, &as);
		res_nclose(&st);
		if (!as.n)
			return e4 == TRY_AGAIN || e6 == TRY_AGAIN ? EAI_AGAIN : EAI_NONAME;
	}
	if (!as.n)
		return EAI_NONAME;
	return build_list(&as, node, port, hints, res);
}

#ifdef MCPG_STATIC_RESOLVER
/* The static link passes -Wl,--wrap=getaddrinfo: every call in the program
 * and its archives lands here, and __real_getaddrinfo is glibc's. */
int __real_getaddrinfo(const char *, const char *, const struct addrinfo *,
		       struct addrinfo **);
int __wrap_getaddrinfo(const char *, const char *, const struct addrinfo *,
		       struct addrinfo **);

int
__wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		   struct addrinfo **res)
{
	return mcpg_getaddrinfo(NULL, node, service, hints, res, __real_getaddrinfo);
}
#endif
