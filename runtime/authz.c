/*
 * authz.c - caller identity (for now) and per-binding access checks (see
 * authz.h).
 */
#include "authz.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
expr_str(void *ctx, uint32_t ref)
{
	const struct mcpg_image *img = ctx;

	if (!ref || (ref & MCPG_STRREF_IPOL) || ref >= img->strs_len)
		return NULL;
	return mcpg_str(img, ref);
}

/* Parse "addr[/len]" into a family, 16 address bytes and a prefix length. */
static int
parse_cidr(const char *s, int *family, unsigned char a[16], int *plen)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	char *end;
	long l;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1)
		*family = AF_INET, *plen = 32;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		*family = AF_INET6, *plen = 128;
	else
		return -1;
	if (slash) {
		l = strtol(slash + 1, &end, 10);
		if (*end || l < 0 || l > *plen)
			return -1;
		*plen = (int)l;
	}
	return 0;
}

static int
prefix_match(const unsigned char *a, const unsigned char *b, int plen)
{
	int full = plen / 8, rest = plen % 8;

	if (memcmp(a, b, (size_t)full))
		return 0;
	if (!rest)
		return 1;
	return ((a[full] ^ b[full]) & (0xff00 >> rest) & 0xff) == 0;
}

int
mcpg_authz_trusted_proxy(const struct mcpg_rt *rt, const struct sockaddr *peer)
{
	const struct mcpg_image *img = &rt->img;
	uint32_t n;
	const uint32_t *list = mcpg_server_trusted_proxies(img, &rt->cfg->gateway.server, &n);
	unsigned char pa[16] = { 0 };
	int pfam;

	if (!peer || !n)
		return 0;
	if (peer->sa_family == AF_INET) {
		memcpy(pa, &((const struct sockaddr_in *)(const void *)peer)->sin_addr, 4);
		pfam = AF_INET;
	} else if (peer->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			memcpy(pa, a6->s6_addr + 12, 4);
			pfam = AF_INET;
		} else {
			memcpy(pa, a6->s6_addr, 16);
			pfam = AF_INET6;
		}
	} else {
		return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		unsigned char ca[16];
		int fam, plen;

		if (parse_cidr(mcpg_str(img, list[i]), &fam, ca, &plen) == 0 && fam == pfam &&
		    prefix_match(pa, ca, plen))
			return 1;
	}
	return 0;
}

void
mcpg_authz_identify(const struct mcpg_rt *rt, const struct sockaddr *peer,
		    const char *subject_header, struct mcpg_identity *id)
{
	memset(&id->view, 0, sizeof(id->view));
	id->subject[0] = '\0';
	id->principal = NULL;
	id->view.trust_level = MCPG_TRUST_UNAUTHENTICATED;
	id->view.auth_provider = "anonymous";
	id->view.subject_id = id->subject;
	if (subject_header && *subject_header && rt->cfg->gateway.server.trust_subject_header &&
	    strlen(subject_header) < sizeof(id->subject) &&
	    mcpg_authz_trusted_proxy(rt, peer)) {
		snprintf(id->subject, sizeof(id->subject), "%s", subject_header);
		id->view.trust_level = MCPG_TRUST_HEADER_ASSERTED;
		id->view.auth_provider = "header";
	}
}

int
mcpg_authz_allowed(const struct mcpg_rt *rt, const struct mcpg_binding *b,
		   const struct mcpg_identity_view *id)
{
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_binding_governance *g = b->governance;
	uint32_t nscopes;
	const uint32_t *scopes;

	if (id->trust_level < (int)g->minimum_trust)
		return 0;
	scopes = mcpg_binding_governance_required_scopes(img, g, &nscopes);
	for (uint32_t i = 0; i < nscopes; i++) {
		const char *want = mcpg_str(img, scopes[i]);
		size_t k;

		for (k = 0; k < id->nscopes && strcmp(id->scopes[k], want); k++)
			;
		if (k == id->nscopes)
			return 0;
	}
	if (g->allow_if) {
		const struct mcpg_img_expr *e = &img->expr[g->allow_if - 1];

		if (mcpg_expr_eval(img->code + e->code_off, e->code_len, id, expr_str,
				   (void *)img) != 1)
			return 0;
	}
	return 1;
}

const char *
mcpg_authz_tenant_key(const struct mcpg_identity_view *id)
{
	if (id->trust_level == MCPG_TRUST_UNAUTHENTICATED)
		return "";
	if (id->tenant && *id->tenant)
		return id->tenant;
	return id->subject_id ? id->subject_id : "";
}
