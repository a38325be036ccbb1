/*
 * resolve.h - name resolution without NSS modules, for the static mcpg.
 *
 * A statically linked glibc resolves names through NSS modules it loads
 * with dlopen at run time (libnss_files, libnss_dns); an empty root file
 * system has none, so getaddrinfo() fails for every name.  The static link
 * wraps getaddrinfo (ld --wrap) with mcpg_getaddrinfo(), which reads
 * /etc/hosts itself and asks the name servers of /etc/resolv.conf with the
 * resolver glibc keeps in libc proper (res_nsearch: search list, ndots,
 * timeout and attempts as configured), so libcurl, hiredis and anything else
 * in the process resolve names the same way.  The dynamic build does not
 * use it.
 */
#ifndef MCPG_RESOLVE_H
#define MCPG_RESOLVE_H

#include <netdb.h>

struct sockaddr_in;

struct mcpg_resolve_cfg {
	const char *hosts;      /* "/etc/hosts" when NULL */
	int no_dns;             /* 1: /etc/hosts and localhost only (tests) */
	/* Tests: this name server (one try, 1 s) instead of resolv.conf's. */
	const struct sockaddr_in *nameserver;
};

/* getaddrinfo() with the same contract (results freed by freeaddrinfo),
 * except that service names other than "http" and "https" are refused
 * (EAI_SERVICE): /etc/services would need NSS too.  Numeric hosts, and a
 * NULL node, are passed to `numeric` (getaddrinfo itself, or the real one
 * behind the wrapper), which needs no NSS for them. */
int mcpg_getaddrinfo(const struct mcpg_resolve_cfg *cfg, const char *node,
		     const char *service, const struct addrinfo *hints,
		     struct addrinfo **res,
		     int (*numeric)(const char *, const char *, const struct addrinfo *,
				    struct addrinfo **));

#endif /* MCPG_RESOLVE_H */
