/*
 * identity.c - bearer credentials to verified identities (see identity.h).
 */
#include "identity.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "jwks.h"
#include "jwt.h"
#include "mcp.h"

#define MAX_API_TOKEN 512   /* longer than any token `mcpgc token add` mints */
#define MAX_CLAIM_ITEMS 256 /* groups or scopes taken from one token */

/* One verifier: the static jwks, its URL form, or one OIDC provider. */
struct ident_src {
	const char *provider;      /* "jwks" or the issuer */
	const char *iss;           /* required iss, or NULL */
	const char **auds;         /* accepted aud values; none: aud unchecked */
	size_t naud;
	int64_t skew;
	const struct mcpg_claim_mappings *cm;
	struct mcpg_keyset *ks;    /* static key set, or */
	struct mcpg_jwks_src *remote;
};

struct mcpg_ident {
	uint64_t serial;          /* this snapshot's, for cache entries */
	int any;                  /* some identity source is configured */
	int by_iss;               /* OIDC: pick the source by the token's iss */
	const char *jwt_header;   /* jwks.header_name, when not authorization */
	const char *jwt_prefix;
	size_t nsrc;
	struct ident_src *src;
};

static atomic_ullong ident_serial;

struct mcpg_auth_hooks mcpg_auth_hooks;

/* ------------------------------------------------------------------------
 * Principals
 */

void
mcpg_principal_put(struct mcpg_principal *p)
{
	if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		free(p);
}

static void
principal_hold(struct mcpg_principal *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

/* Point `id` at `p` (taking over the caller's reference). */
static void
identity_set(struct mcpg_identity *id, struct mcpg_principal *p)
{
	id->view = p->view;
	snprintf(id->subject, sizeof(id->subject), "%s", p->view.subject_id);
	id->view.subject_id = id->subject;
	id->principal = p;
}

void
mcpg_identity_copy(struct mcpg_identity *dst, const struct mcpg_identity *src)
{
	*dst = *src;
	dst->view.subject_id = dst->subject;
	if (dst->principal)
		principal_hold(dst->principal);
}

void
mcpg_identity_release(struct mcpg_identity *id)
{
	if (!id->principal)
		return;
	mcpg_principal_put(id->principal);
	id->principal = NULL;
	memset(&id->view, 0, sizeof(id->view));
	id->subject[0] = '\0';
	id->view.subject_id = id->subject;
	id->view.auth_provider = "anonymous";
}

/* The value at dotted `path` in `claims`, or NULL. */
static const json_t *
claim_at(const json_t *claims, const char *path)
{
	char seg[256];
	const json_t *v = claims;

	while (v && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		/* A claim literally named "a.b" wins over the path a -> b. */
		if (v == claims && json_object_get(v, path))
			return json_object_get(v, path);
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		v = json_object_get(v, seg);
		path += n + (dot != NULL);
	}
	return v;
}

struct strs {
	const char *v[MAX_CLAIM_ITEMS];
	size_t len[MAX_CLAIM_ITEMS];
	size_t n, bytes;
};

static void
strs_add(struct strs *s, const char *p, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->len[i] == len && !memcmp(s->v[i], p, len))
			return;
	if (!len || s->n == MAX_CLAIM_ITEMS)
		return;
	s->v[s->n] = p;
	s->len[s->n++] = len;
	s->bytes += len + 1;
}

/* Strings (or lists of strings) at each of `paths`; `split` cuts strings on spaces. */
static void
collect(const struct mcpg_image *img, const json_t *claims, const struct mcpg_list *paths,
	int split, struct strs *out)
{
	const uint32_t *p = (const uint32_t *)(const void *)(img->data + paths->ref);

	for (uint32_t i = 0; i < paths->n; i++) {
		const json_t *v = claim_at(claims, mcpg_str(img, p[i]));
		size_t m = json_is_array(v) ? json_array_size(v) : 1;

		for (size_t k = 0; k < m; k++) {
			const char *s = json_string_value(json_is_array(v) ? json_array_get(v, k) : v);

			if (!s)
				continue;
			if (!split) {
				strs_add(out, s, strlen(s));
				continue;
			}
			while (*s) {
				size_t n = strcspn(s, " ");

				strs_add(out, s, n);
				s += n;
				s += strspn(s, " ");
			}
		}
	}
}

static char *
put_str(char **at, const char *s, size_t len)
{
	char *r = *at;

	memcpy(r, s, len);
	r[len] = '\0';
	*at += len + 1;
	return r;
}

/* A principal from verified claims, or NULL (no usable subject). */
static struct mcpg_principal *
principal_from_claims(const struct mcpg_image *img, const struct ident_src *src,
		      const json_t *claims, int64_t until, const char **why)
{
	const struct mcpg_claim_mappings *cm = src->cm;
	const char *sub = json_string_value(claim_at(claims, mcpg_str(img, cm->subject_claim)));
	const char *tenant = cm->tenant_claim
				     ? json_string_value(claim_at(claims, mcpg_str(img, cm->tenant_claim)))
				     : NULL;
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	struct strs *g = calloc(2, sizeof(*g)), *sc = g ? g + 1 : NULL;
	struct mcpg_principal *p = NULL;
	size_t size;
	char *at;
	const char **arr;

	*why = "token has no subject claim";
	if (!g || !sub || !*sub || strlen(sub) >= MCPG_SUBJECT_MAX)
		goto out;
	collect(img, claims, &cm->group_claim_paths, 0, g);
	collect(img, claims, &cm->scope_claim_paths, 1, sc);
	size = sizeof(*p) + (g->n + sc->n) * sizeof(char *) + g->bytes + sc->bytes +
	       strlen(sub) + 1 + (tenant ? strlen(tenant) + 1 : 0) + (iss ? strlen(iss) + 1 : 0) +
	       strlen(src->provider) + 1;
	p = calloc(1, size);
	if (!p) {
		*why = "out of memory";
		goto out;
	}
	atomic_init(&p->refs, 1);
	p->until = until;
	arr = (const char **)(void *)(p + 1);
	at = (char *)(arr + g->n + sc->n);
	p->view.trust_level = MCPG_TRUST_VERIFIED;
	p->view.subject_id = put_str(&at, sub, strlen(sub));
	p->view.tenant = tenant ? put_str(&at, tenant, strlen(tenant)) : NULL;
	p->view.issuer = iss ? put_str(&at, iss, strlen(iss)) : NULL;
	p->view.auth_provider = strcmp(src->provider, "jwks") ? "oidc" : "jwks";
	for (size_t i = 0; i < g->n; i++)
		arr[i] = put_str(&at, g->v[i], g->len[i]);
	for (size_t i = 0; i < sc->n; i++)
		arr[g->n + i] = put_str(&at, sc->v[i], sc->len[i]);
	p->view.groups = arr;
	p->view.ngroups = g->n;
	p->view.scopes = arr + g->n;
	p->view.nscopes = sc->n;
out:
	free(g);
	return p;
}

static struct mcpg_principal *
principal_from_token(const struct mcpg_image *img, const struct mcpg_img_tok *t)
{
	const char *sub = mcpg_str(img, t->id);
	size_t n = strlen(sub);
	struct mcpg_principal *p = calloc(1, sizeof(*p) + n + 1);

	if (!p)
		return NULL;
	atomic_init(&p->refs, 1);
	p->until = t->expires_at ? t->expires_at : INT64_MAX;
	memcpy(p + 1, sub, n + 1);
	p->view.trust_level = MCPG_TRUST_VERIFIED;
	p->view.subject_id = (const char *)(p + 1);
	p->view.auth_provider = "api_token";
	return p;
}

/* ------------------------------------------------------------------------
 * The verified-token cache: 4-way sets, keyed by SHA-256 of the token.
 */

#define CACHE_SETS 1024
#define CACHE_WAYS 4

struct centry {
	unsigned char key[32];
	uint64_t ident_serial; /* snapshot */
	uint64_t ks_serial;    /* key set it verified against (0: API token or static) */
	int src;               /* index into the snapshot's sources, -1 for API tokens */
	struct mcpg_principal *p;
};

static struct cset {
	pthread_mutex_t lock;
	unsigned next;
	struct centry e[CACHE_WAYS];
} cache[CACHE_SETS] = {
	/* Initialised statically, not at load: zero bytes in .bss that are
	 * not touched until a token is seen, rather than 300 KB of pages
	 * faulted in at boot by every gateway, with identity or without. */
	[0 ... CACHE_SETS - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER },
};

static struct cset *
cache_set(const unsigned char key[32])
{
	uint32_t h;

	memcpy(&h, key, sizeof(h));
	return &cache[h % CACHE_SETS];
}

/* The cached principal for `key` (with a reference), or NULL. */
static struct mcpg_principal *
cache_get(const unsigned char key[32], uint64_t serial, int *src, uint64_t *ks_serial,
	  int64_t now)
{
	struct cset *s = cache_set(key);
	struct mcpg_principal *p = NULL;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < CACHE_WAYS; i++) {
		struct centry *e = &s->e[i];

		if (e->p && e->ident_serial == serial && !memcmp(e->key, key, 32)) {
			if (now < e->p->until) {
				p = e->p;
				principal_hold(p);
				*src = e->src;
				*ks_serial = e->ks_serial;
			}
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return p;
}

static void
cache_put(const unsigned char key[32], uint64_t serial, int src, uint64_t ks_serial,
	  struct mcpg_principal *p, int64_t now)
{
	struct cset *s = cache_set(key);
	struct centry *victim = NULL;
	struct mcpg_principal *old;

	pthread_mutex_lock(&s->lock);
	/* Same key, then an empty or dead slot, then round robin. */
	for (int i = 0; i < CACHE_WAYS && !victim; i++)
		if (s->e[i].p && !memcmp(s->e[i].key, key, 32))
			victim = &s->e[i];
	for (int i = 0; i < CACHE_WAYS && !victim; i++)
		if (!s->e[i].p || s->e[i].ident_serial != serial || now >= s->e[i].p->until)
			victim = &s->e[i];
	if (!victim)
		victim = &s->e[s->next++ % CACHE_WAYS];
	old = victim->p;
	memcpy(victim->key, key, 32);
	victim->ident_serial = serial;
	victim->ks_serial = ks_serial;
	victim->src = src;
	principal_hold(p);
	victim->p = p;
	pthread_mutex_unlock(&s->lock);
	mcpg_principal_put(old);
}

/* ------------------------------------------------------------------------
 * API tokens
 */

const struct mcpg_img_tok *
mcpg_apitoken_find(const struct mcpg_image *img, const char *tok, size_t len)
{
	unsigned char h[32];
	uint32_t lo = 0, hi = img->toks_nr;

	SHA256((const unsigned char *)tok, len, h);
	/* Ordering leaks only the digest's position, not the token. */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (memcmp(img->toks[mid].hash, h, 32) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	if (lo < img->toks_nr && CRYPTO_memcmp(img->toks[lo].hash, h, 32) == 0)
		return &img->toks[lo];
	return NULL;
}

/* ------------------------------------------------------------------------
 * Authentication
 */

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static void
fail(struct mcpg_auth_result *res, int status, const char *why)
{
	res->outcome = status == 503 ? MCPG_AUTH_UNAVAILABLE : MCPG_AUTH_INVALID;
	res->status = status;
	res->retry_after = status == 503;
	res->reason = why;
}

/* The key serial a cached entry from source `i` must still match. */
static uint64_t
src_serial(const struct ident_src *s, int64_t mono)
{
	return s->remote ? mcpg_jwks_serial(s->remote, mono) : s->ks ? s->ks->serial : 0;
}

static void
auth_jwt(const struct mcpg_rt *rt, const char *tok, size_t len, struct mcpg_identity *id,
	 struct mcpg_auth_result *res)
{
	const struct mcpg_ident *st = rt->ident;
	unsigned char key[32];
	int64_t now = now_s(), mono = mcpg_mono_ms();
	struct mcpg_principal *p;
	struct mcpg_jwt t;
	struct mcpg_keyset *ks = NULL;
	const struct ident_src *src = NULL;
	enum mcpg_jwt_status jst;
	uint64_t kserial = 0;
	int si = -1, stale = 0;
	const char *why;

	res->kind = "jwt";
	if (!st->nsrc) {
		fail(res, 401, "JWTs are not accepted here");
		return;
	}
	if (len > MCPG_JWT_MAX_LEN) {
		fail(res, 401, mcpg_jwt_status_text(MCPG_JWT_TOO_LONG));
		return;
	}
	SHA256((const unsigned char *)tok, len, key);
	p = cache_get(key, st->serial, &si, &kserial, now);
	if (p) {
		if (si >= 0 && (size_t)si < st->nsrc && src_serial(&st->src[si], mono) == kserial) {
			res->provider = st->src[si].provider;
			res->outcome = MCPG_AUTH_OK;
			identity_set(id, p);
			return;
		}
		mcpg_principal_put(p); /* the key set changed since: verify again */
	}
	jst = mcpg_jwt_decode(tok, len, &t);
	if (jst) {
		fail(res, 401, mcpg_jwt_status_text(jst));
		return;
	}
	if (st->by_iss) {
		for (size_t i = 0; i < st->nsrc && !src; i++)
			if (t.iss && !strcmp(t.iss, st->src[i].provider))
				src = &st->src[i];
		if (!src) {
			fail(res, 401, "unknown issuer");
			goto out;
		}
	} else {
		src = &st->src[0];
	}
	si = (int)(src - st->src);
	res->provider = src->provider;
	if (src->remote) {
		ks = mcpg_jwks_keys(src->remote, mono, &stale);
		if (!ks) {
			if (stale)
				fail(res, 401, "the issuer's key set is stale");
			else
				fail(res, 503, "the issuer's keys are not loaded yet");
			goto out;
		}
	} else {
		ks = src->ks;
		mcpg_keyset_hold(ks);
	}
	jst = mcpg_jwt_verify(&t, tok, ks);
	if (jst == MCPG_JWT_UNKNOWN_KID && src->remote)
		mcpg_jwks_kick(src->remote, mono);
	if (!jst)
		jst = mcpg_jwt_check_claims(&t, src->iss, src->auds, src->naud, now, src->skew);
	if (jst) {
		fail(res, 401, mcpg_jwt_status_text(jst));
		goto out;
	}
	p = principal_from_claims(&rt->img, src, t.claims, mcpg_jwt_exp(&t) + src->skew, &why);
	if (!p) {
		fail(res, 401, why);
		goto out;
	}
	cache_put(key, st->serial, si, ks->serial, p, now);
	res->outcome = MCPG_AUTH_OK;
	identity_set(id, p);
out:
	mcpg_keyset_put(ks);
	mcpg_jwt_free(&t);
}

static void
auth_api_token(const struct mcpg_rt *rt, const char *tok, size_t len, struct mcpg_identity *id,
	       struct mcpg_auth_result *res)
{
	const struct mcpg_img_tok *t;
	struct mcpg_principal *p;
	unsigned char key[32];
	int64_t now = now_s();
	uint64_t ks;
	int si;

	res->kind = "api_token";
	res->provider = "api_token";
	if (!rt->img.toks_nr || len > MAX_API_TOKEN) {
		fail(res, 401, "unknown token");
		return;
	}
	SHA256((const unsigned char *)tok, len, key);
	p = cache_get(key, rt->ident->serial, &si, &ks, now);
	if (p) {
		res->outcome = MCPG_AUTH_OK;
		identity_set(id, p);
		return;
	}
	t = mcpg_apitoken_find(&rt->img, tok, len);
	if (!t) {
		fail(res, 401, "unknown token");
		return;
	}
	if (t->expires_at && now >= t->expires_at) {
		fail(res, 401, "token expired");
		return;
	}
	p = principal_from_token(&rt->img, t);
	if (!p) {
		fail(res, 503, "out of memory");
		return;
	}
	cache_put(key, rt->ident->serial, -1, 0, p, now);
	res->outcome = MCPG_AUTH_OK;
	identity_set(id, p);
}

/* `v` starts with `prefix`, case-insensitively: the rest, else NULL. */
static const char *
after_prefix(const char *v, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncasecmp(v, prefix, n) ? NULL : v + n;
}

void
mcpg_identity_authenticate(const struct mcpg_rt *rt, mcpg_header_fn *hdr, void *ctx,
			   const struct sockaddr *peer, struct mcpg_identity *id,
			   struct mcpg_auth_result *res)
{
	const struct mcpg_ident *st = rt->ident;
	const char *v = NULL, *tok = NULL;
	size_t len, dots = 0;

	memset(res, 0, sizeof(*res));
	res->outcome = MCPG_AUTH_NONE;
	id->principal = NULL;
	mcpg_authz_identify(rt, peer, hdr(ctx, "x-mcpg-subject-id"), id);
	if (!st || !st->any)
		return;
	if (st->jwt_header && (v = hdr(ctx, st->jwt_header)))
		tok = after_prefix(v, st->jwt_prefix);
	else if ((v = hdr(ctx, "authorization")))
		tok = after_prefix(v, st->jwt_header ? "Bearer " : st->jwt_prefix);
	if (!v)
		return;
	if (!tok) {
		res->kind = "unknown";
		fail(res, 401, "unsupported authorization scheme");
		return;
	}
	tok += strspn(tok, " ");
	len = strlen(tok);
	while (len && tok[len - 1] == ' ')
		len--;
	if (!len) {
		res->kind = "unknown";
		fail(res, 401, "empty token");
		return;
	}
	if (mcpg_auth_hooks.auth_gate &&
	    (res->retry_after = mcpg_auth_hooks.auth_gate(rt, peer, hdr(ctx, "x-forwarded-for")))) {
		res->outcome = MCPG_AUTH_LIMITED;
		res->status = 429;
		res->reason = "too many failed authentication attempts";
		return;
	}
	for (size_t i = 0; i < len; i++)
		dots += tok[i] == '.';
	memset(&id->view, 0, sizeof(id->view));
	id->subject[0] = '\0';
	id->view.subject_id = id->subject;
	id->view.auth_provider = "anonymous";
	if (dots == 2)
		auth_jwt(rt, tok, len, id, res);
	else
		auth_api_token(rt, tok, len, id, res);
}

int
mcpg_identity_owner(const struct mcpg_identity *id, unsigned char out[32])
{
	const struct mcpg_identity_view *v = &id->view;
	const char *iss = v->issuer ? v->issuer : "";
	EVP_MD_CTX *c;
	int ok;

	if (!id->principal || v->trust_level != MCPG_TRUST_VERIFIED)
		return 0;
	c = EVP_MD_CTX_new();
	/* NULs between the parts: ("a", "bc") and ("ab", "c") differ. */
	ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(c, v->auth_provider, strlen(v->auth_provider) + 1) &&
	     EVP_DigestUpdate(c, iss, strlen(iss) + 1) &&
	     EVP_DigestUpdate(c, v->subject_id, strlen(v->subject_id)) &&
	     EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
	/* Out of memory: an owned session nobody matches, never an open one. */
	if (!ok)
		memset(out, 0xff, 32);
	return 1;
}

int
mcpg_identity_owns(const unsigned char owner[32], int owned, const struct mcpg_identity *id)
{
	unsigned char mine[32];

	if (!owned)
		return 1;
	return id && mcpg_identity_owner(id, mine) && !memcmp(owner, mine, 32);
}

/* ------------------------------------------------------------------------
 * Per-snapshot state
 */

static uint32_t
alg_mask(const struct mcpg_image *img, const struct mcpg_list *l, int allow_hmac)
{
	const uint8_t *a = img->data + l->ref;
	uint32_t m = 0;

	for (uint32_t i = 0; i < l->n; i++)
		if (allow_hmac || a[i] < MCPG_JWT_ALG_HS256)
			m |= 1u << a[i];
	return m;
}

static int
load_jwks(struct mcpg_rt *rt, struct mcpg_ident *st, const struct mcpg_jwks *j, char *err,
	  size_t errlen)
{
	const struct mcpg_image *img = &rt->img;
	struct ident_src *s = &st->src[0];
	uint32_t allowed = alg_mask(img, &j->allowed_algs, 0);
	const char *json = mcpg_jwks_keys_json(img, j), *hn = mcpg_jwks_header_name(img, j);

	st->nsrc = 1;
	s->provider = "jwks";
	s->iss = mcpg_jwks_issuer(img, j);
	s->skew = (int64_t)j->clock_skew_secs;
	s->cm = &j->claim_mappings;
	if (j->audience) {
		s->auds = calloc(1, sizeof(char *));
		if (!s->auds)
			return -1;
		s->auds[0] = mcpg_jwks_audience(img, j);
		s->naud = 1;
	}
	if (strcasecmp(hn, "authorization"))
		st->jwt_header = hn;
	st->jwt_prefix = mcpg_jwks_header_prefix(img, j);
	if (j->url) {
		struct mcpg_jwks_cfg c = {
			.jwks_uri = mcpg_jwks_url(img, j), .allowed = allowed,
			.refresh_ms = 300000, .timeout_ms = 5000, .max_stale_ms = 3600000,
		};

		s->remote = mcpg_jwks_get(&c);
		return s->remote ? 0 : -1;
	}
	if (!json && !img->keys) {
		snprintf(err, errlen, "governance.access.jwks: the image holds no key set");
		return -1;
	}
	s->ks = mcpg_keyset_parse(json ? json : img->keys, json ? strlen(json) : img->keys_len,
				  allowed, err, errlen);
	return s->ks ? 0 : -1;
}

static int
load_oidc(struct mcpg_rt *rt, struct mcpg_ident *st, const struct mcpg_oidc_oauth *o)
{
	const struct mcpg_image *img = &rt->img;
	uint32_t n;
	const struct mcpg_oidc_provider *p = mcpg_oidc_oauth_providers(img, o, &n);

	st->by_iss = 1;
	for (uint32_t i = 0; i < n; i++) {
		struct ident_src *s = &st->src[i];
		const struct mcpg_oidc_jwks *v = mcpg_oidc_verification_oidc_jwks(img, &p[i].verification);
		uint32_t naud;
		const uint32_t *auds = mcpg_oidc_provider_audiences(img, &p[i], &naud);
		char disc[2048];
		struct mcpg_jwks_cfg c = { 0 };

		st->nsrc++;
		s->provider = s->iss = mcpg_oidc_provider_issuer(img, &p[i]);
		s->skew = (int64_t)p[i].clock_skew_secs;
		s->cm = &p[i].claim_mappings;
		if (naud) {
			s->auds = calloc(naud, sizeof(char *));
			if (!s->auds)
				return -1;
			for (uint32_t k = 0; k < naud; k++)
				s->auds[k] = mcpg_str(img, auds[k]);
			s->naud = naud;
		}
		if (!v)
			return -1;
		if (p[i].discovery_uri) {
			snprintf(disc, sizeof(disc), "%s", mcpg_oidc_provider_discovery_uri(img, &p[i]));
		} else {
			size_t il = strlen(s->iss);

			/* No doubled slash when the issuer ends in one. */
			snprintf(disc, sizeof(disc), "%s%s.well-known/openid-configuration", s->iss,
				 il && s->iss[il - 1] == '/' ? "" : "/");
		}
		c.discovery_uri = disc;
		c.issuer = s->iss;
		c.allowed = alg_mask(img, &v->allowed_algs, v->allow_hmac);
		c.refresh_ms = (int64_t)v->refresh_interval_secs * 1000;
		c.timeout_ms = (int64_t)v->timeout_ms;
		c.max_stale_ms = (int64_t)v->max_staleness_secs * 1000;
		s->remote = mcpg_jwks_get(&c);
		if (!s->remote)
			return -1;
	}
	return 0;
}

int
mcpg_identity_load(struct mcpg_rt *rt, char *err, size_t errlen)
{
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_access *a = &rt->cfg->governance.access;
	const struct mcpg_jwks *j = mcpg_access_jwks(img, a);
	const struct mcpg_oidc_oauth *o = mcpg_access_oidc_oauth(img, a);
	struct mcpg_ident *st = calloc(1, sizeof(*st));
	size_t nsrc = j ? 1 : o ? o->providers.n : 0;
	int rc = 0;

	if (!st)
		goto oom;
	rt->ident = st;
	st->serial = atomic_fetch_add(&ident_serial, 1) + 1;
	st->any = j || o || mcpg_access_api_tokens(img, a);
	st->jwt_prefix = "Bearer ";
	if (nsrc && !(st->src = calloc(nsrc, sizeof(*st->src))))
		goto oom;
	if (j)
		rc = load_jwks(rt, st, j, err, errlen);
	else if (o)
		rc = load_oidc(rt, st, o);
	if (rc < 0 && !err[0])
		goto oom;
	return rc;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void
mcpg_identity_free(struct mcpg_rt *rt)
{
	struct mcpg_ident *st = rt->ident;

	if (!st)
		return;
	for (size_t i = 0; i < st->nsrc; i++) {
		mcpg_keyset_put(st->src[i].ks);
		mcpg_jwks_put(st->src[i].remote);
		free(st->src[i].auds);
	}
	free(st->src);
	free(st);
	rt->ident = NULL;
}

int
mcpg_identity_ready(const struct mcpg_rt *rt)
{
	const struct mcpg_ident *st = rt->ident;

	for (size_t i = 0; st && i < st->nsrc; i++)
		if (st->src[i].remote && !mcpg_jwks_loaded(st->src[i].remote))
			return 0;
	return 1;
}
