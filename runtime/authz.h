/*
 * authz.h - who the caller is, and which bindings they may see and use.
 *
 * Identity resolution proper (JWT, OIDC, API tokens) is a later issue; for
 * now a caller is anonymous (unauthenticated), or header_asserted when
 * gateway.server.trust_subject_header is on, the request came from one of
 * gateway.server.trusted_proxies and it carries x-mcpg-subject-id.
 *
 * A binding is usable when the caller's trust is at least its
 * minimum_trust, the caller holds every required scope and its allow_if (if
 * any) evaluates to true.  Unusable bindings are left out of lists and
 * answered as unknown on use, so their names do not leak.
 */
#ifndef MCPG_AUTHZ_H
#define MCPG_AUTHZ_H

#include <sys/socket.h>

#include "expr.h"
#include "rt.h"

#define MCPG_SUBJECT_MAX 256

struct mcpg_principal;

struct mcpg_identity {
	struct mcpg_identity_view view;
	char subject[MCPG_SUBJECT_MAX];
	/* A verified caller's claims (identity.h), which `view` points into; NULL otherwise. */
	struct mcpg_principal *principal;
};

/*
 * Fill `id` for a request from `peer` (may be NULL) that carried
 * x-mcpg-subject-id `subject_header` (NULL when absent).
 */
void mcpg_authz_identify(const struct mcpg_rt *rt, const struct sockaddr *peer,
			 const char *subject_header, struct mcpg_identity *id);

/* 1 when `peer` is inside one of gateway.server.trusted_proxies. */
int mcpg_authz_trusted_proxy(const struct mcpg_rt *rt, const struct sockaddr *peer);

/* 1 when the caller may see and use binding `b`. */
int mcpg_authz_allowed(const struct mcpg_rt *rt, const struct mcpg_binding *b,
		       const struct mcpg_identity_view *id);

/* The key max_sessions_per_tenant counts by: tenant, else subject, "" for anonymous. */
const char *mcpg_authz_tenant_key(const struct mcpg_identity_view *id);

#endif /* MCPG_AUTHZ_H */
