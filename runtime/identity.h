/*
 * identity.h - who presented what: bearer JWTs (governance.access.jwks or
 * oidc_oauth) and API tokens (governance.access.api_tokens), turned into a
 * verified identity, or refused.
 *
 * The credential is read from jwks.header_name (with header_prefix) when a
 * static or URL key set is configured, else from Authorization: Bearer.  A
 * token with exactly two dots is a JWT, anything else an API token.  The
 * outcomes (reference/mcpg.md 3.7):
 *
 *   nothing presented  MCPG_AUTH_NONE: anonymous, or header_asserted from a
 *                      trusted proxy (authz.c, as before)
 *   valid              MCPG_AUTH_OK: verified, subject/groups/scopes/tenant
 *                      from the claim mappings (an API token: its id)
 *   presented, bad     MCPG_AUTH_INVALID: HTTP 401 with WWW-Authenticate:
 *                      Bearer error="invalid_token"; never a downgrade
 *   keys not loaded    MCPG_AUTH_UNAVAILABLE: HTTP 503 (an OIDC provider
 *                      whose first key set has not arrived yet)
 *   held back          MCPG_AUTH_LIMITED: HTTP 429, when the auth_gate hook
 *                      (failed-auth limiter) says the client must wait
 *
 * With no identity source configured, credentials are not looked at.
 *
 * A verified identity is a reference-counted, immutable mcpg_principal.
 * Verified tokens are cached (a fixed table keyed by the SHA-256 of the
 * token text) until their exp, for the snapshot and key set they were
 * verified under, so a repeated token costs one hash and one lookup; a
 * reload or a changed key set makes the entries miss.
 */
#ifndef MCPG_IDENTITY_H
#define MCPG_IDENTITY_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "authz.h"
#include "rt.h"

/* A verified caller.  Everything the view points at lives in this allocation. */
struct mcpg_principal {
	atomic_int refs;
	int64_t until; /* Unix seconds: no longer valid from then on */
	struct mcpg_identity_view view;
};

void mcpg_principal_put(struct mcpg_principal *p);

enum mcpg_auth_outcome {
	MCPG_AUTH_NONE,
	MCPG_AUTH_OK,
	MCPG_AUTH_INVALID,
	MCPG_AUTH_UNAVAILABLE,
	MCPG_AUTH_LIMITED, /* the auth_gate hook refused to look at the credential */
};

struct mcpg_auth_result {
	enum mcpg_auth_outcome outcome;
	int status;           /* HTTP status for INVALID (401), UNAVAILABLE (503), LIMITED (429) */
	int retry_after;      /* seconds, with 503 and 429 */
	const char *reason;   /* static text, why it failed */
	const char *provider; /* "jwks", the OIDC issuer, "api_token"; NULL when unknown */
	const char *kind;     /* "jwt" or "api_token"; NULL for NONE */
};

/* Reads one request header (case-insensitive name); NULL when absent. */
typedef const char *mcpg_header_fn(void *ctx, const char *name);

/*
 * Hooks for the audit ledger and the failed-authentication limiter (issue
 * 5, items 5 and 6), set once at start by their owners; NULL members do
 * nothing.
 *
 *   auth_gate    called when a credential is presented, before it is looked
 *                at: seconds the client must wait (the request is answered
 *                429 with Retry-After, MCPG_AUTH_LIMITED), or 0 to go on.
 *                `xff` is the X-Forwarded-For header or NULL.
 *   auth_failed  called by http.c once per refused credential (INVALID or
 *                UNAVAILABLE), before the answer is sent.
 */
struct mcpg_auth_hooks {
	int (*auth_gate)(const struct mcpg_rt *rt, const struct sockaddr *peer, const char *xff);
	void (*auth_failed)(const struct mcpg_rt *rt, const char *rid, const struct sockaddr *peer,
			    const char *xff, const struct mcpg_auth_result *res);
};

extern struct mcpg_auth_hooks mcpg_auth_hooks;

/*
 * Authenticate a request from `peer`: fills `id` (always usable: anonymous
 * unless OK or header-asserted) and `res`.  On OK `id` holds a principal
 * reference: mcpg_identity_release() it.
 */
void mcpg_identity_authenticate(const struct mcpg_rt *rt, mcpg_header_fn *hdr, void *ctx,
				const struct sockaddr *peer, struct mcpg_identity *id,
				struct mcpg_auth_result *res);

/* Copy `src` into `dst`, taking another principal reference. */
void mcpg_identity_copy(struct mcpg_identity *dst, const struct mcpg_identity *src);
/* Drop the principal reference of `id` (if any); `id` becomes anonymous. */
void mcpg_identity_release(struct mcpg_identity *id);

/*
 * Who owns a session a caller starts: for a verified caller a digest of
 * its provider, issuer and subject in `out` and 1; 0 for anyone else.
 * mcpg_identity_owns() says whether `id` may use a session with that owner
 * (any caller may use an unowned one).
 */
int mcpg_identity_owner(const struct mcpg_identity *id, unsigned char out[32]);
int mcpg_identity_owns(const unsigned char owner[32], int owned, const struct mcpg_identity *id);

/*
 * Per-snapshot state, built by mcpg_rt_load(): key sets from the image
 * (keys_json, keys_file), references to remote sources, the token index.
 * Returns 0, or -1 with a one-line message in `err`.
 */
int mcpg_identity_load(struct mcpg_rt *rt, char *err, size_t errlen);
void mcpg_identity_free(struct mcpg_rt *rt);

/* 1 when every remote key source of `rt` has loaded a key set (/ready). */
int mcpg_identity_ready(const struct mcpg_rt *rt);

/*
 * Look up an API token (its text, `len` bytes) in the image: the entry, or
 * NULL.  Binary search over the sorted SHA-256 digests, constant-time final
 * compare.
 */
const struct mcpg_img_tok *mcpg_apitoken_find(const struct mcpg_image *img, const char *tok,
					      size_t len);

#endif /* MCPG_IDENTITY_H */
