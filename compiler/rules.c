/*
 * rules.c - the schema's named cross-field rules, and the check summary
 * (see rules.h).
 *
 * Last step of `mcpgc check` and `build`: the walk (validate.c) has checked
 * every value on its own and the image verified, so a rule reads typed
 * records through the generated accessors (generated/mcpg_config.h) and
 * only judges how values fit together.  It reports at the place in the
 * merged tree that set the offending value (rule_loc()), with a note for
 * the second place, and says "(default)" for a value no layer set.
 *
 * Strings behind ${env.NAME} (IPOL strrefs) are only known at boot.  A rule
 * skips them, and mcpg checks the same rule again on the resolved values;
 * with `check --env` (MCC_V_ENV) they are resolved here from the
 * environment and judged like literal text (text()).
 *
 * The rule table at the bottom maps the names of `rule NAME` declarations
 * to functions, in schema order, so diagnostics come out in a stable order.
 */
#include "rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "arena.h"
#include "format.h"
#include "image.h"
#include "interp.h"
#include "mcpg_config.h"
#include "validate.h"

/* One local binding of any of the four lists. */
enum binding_kind { B_TOOL, B_RESOURCE, B_TEMPLATE, B_PROMPT };

struct binding {
	enum binding_kind kind;
	const char *list;                          /* "tools" ... */
	uint32_t index;                            /* in that list */
	const char *name;                          /* NULL: behind ${env.*} */
	const struct mcpg_binding_governance *gov;
	const struct mcpg_retry *retry;            /* NULL: none (always for prompts) */
	const struct mcpg_union_slot *backend;     /* NULL for prompts */
	const void *rec;                           /* the struct mcpg_tool etc. */
};

struct rule_ctx {
	const struct mcpg_image *img;
	const struct mcpg_config *cfg;
	const struct mcc_node *root;
	unsigned vflags;
	struct mcc_diag *d;
	struct binding *b; /* every local binding, list by list, in order */
	size_t nb;
};

/* ---- Places in the merged tree ------------------------------------------ */

/* The node a layer set at `path`, or NULL (not set, or reset with null). */
static const struct mcc_node *
node_at(const struct rule_ctx *c, const char *path)
{
	const struct mcc_node *n = mcc_node_at(c->root, path);

	return n && !mcc_node_is_null(n) ? n : NULL;
}

/*
 * Where `path` was set in the merged tree, or where its closest present
 * ancestor was; a config that sets nothing there gets no location.
 */
static struct mcc_loc
rule_loc(const struct rule_ctx *c, const char *path)
{
	char *p = mcc_strdup(path);

	for (;;) {
		const struct mcc_node *n = mcc_node_at(c->root, p);
		char *dot, *br;

		if (n)
			return n->loc;
		dot = strrchr(p, '.');
		br = strrchr(p, '[');
		if (br && (!dot || br > dot))
			dot = br;
		if (!dot)
			break;
		*dot = '\0';
	}
	return c->root ? c->root->loc : MCC_NOLOC;
}

/* " (default)" when no layer set `path`, else "". */
static const char *
dflt(const struct rule_ctx *c, const char *path)
{
	return node_at(c, path) ? "" : " (default)";
}

/* A note "'PATH' was set here" when a layer set it. */
static void
note_set(struct rule_ctx *c, const char *path)
{
	const struct mcc_node *n = node_at(c, path);

	if (n)
		mcc_note(c->d, n->loc, "'%s' was set here", path);
}

/* A note "'PATH' was reset with null here" when a layer did that. */
static void
note_reset(struct rule_ctx *c, const char *path)
{
	const struct mcc_node *n = mcc_node_at(c->root, path);

	if (n && mcc_node_is_null(n))
		mcc_note(c->d, n->loc, "'%s' was reset with null here", path);
}

/* Whether node `a` was written after `b`: a later layer, or further down. */
static int
is_later(const struct mcc_node *a, const struct mcc_node *b)
{
	if (a->layer != b->layer)
		return a->layer > b->layer;
	if (a->loc.line != b->loc.line)
		return a->loc.line > b->loc.line;
	return a->loc.col > b->loc.col;
}

/*
 * Two keys that must not both be set (both are): the error goes to the one
 * written later, the note to the other.  `ashow`/`bshow` are how each is
 * named in the message ("x.allow_y: true"), NULL for just the path.
 */
static void
conflict(struct rule_ctx *c, const char *a, const char *ashow, const char *b,
	 const char *bshow, const char *why)
{
	const struct mcc_node *na = node_at(c, a), *nb = node_at(c, b);

	if (na && nb && is_later(na, nb)) {
		const char *t = a, *ts = ashow;

		a = b, ashow = bshow, b = t, bshow = ts;
	}
	/* Now `b` is the later one (or the only one the tree has). */
	mcc_error(c->d, rule_loc(c, b), "'%s' cannot be combined with '%s'%s",
		  bshow ? bshow : b, ashow ? ashow : a, why ? why : "");
	note_set(c, a);
}

/* ---- Values --------------------------------------------------------------- */

/* The segments of IPOL or TMPL entry `off`/`n` as compiler segments. */
static void
img_segs(const struct rule_ctx *c, uint32_t off, uint32_t n, struct mcc_segs *out)
{
	out->v = mcc_alloc((n ? n : 1) * sizeof(*out->v));
	out->nr = out->alloc = n;
	for (uint32_t i = 0; i < n; i++) {
		const struct mcpg_img_seg *s = &c->img->segs[off + i];

		out->v[i].kind = (enum mcpg_seg_kind)s->kind;
		out->v[i].text = mcpg_str(c->img, s->str);
		out->v[i].len = mcpg_str_len(c->img, s->str);
	}
}

/*
 * The text of string `ref`, or NULL when it is absent or cannot be known
 * now: a value with ${env.*} is resolved only under `check --env` (the
 * walk has already reported unset variables), else mcpg judges it at boot.
 */
static const char *
text(const struct rule_ctx *c, uint32_t ref)
{
	const struct mcpg_img_ipol *ip;
	struct mcc_segs segs;
	char *out;

	if (!ref)
		return NULL;
	if (!(ref & MCPG_STRREF_IPOL))
		return mcpg_str(c->img, ref);
	if (!(c->vflags & MCC_V_ENV))
		return NULL;
	ip = &c->img->ipol[ref & ~MCPG_STRREF_IPOL];
	img_segs(c, ip->seg_off, ip->seg_n, &segs);
	if (mcc_interp_resolve_env(&segs, &out, NULL))
		return NULL;
	return out;
}

/* The TMPL entry of a template slot (1 + index; 0 is absent). */
static const struct mcpg_img_tmpl *
tmpl(const struct rule_ctx *c, uint32_t slot)
{
	return slot ? &c->img->tmpl[slot - 1] : NULL;
}

/* The YAML spelling of value `v` of enum type `type` ("jwt_alg"). */
static const char *
enum_text(const struct rule_ctx *c, const char *type, unsigned v)
{
	const struct mcpg_schema *s = c->img->schema;

	for (uint32_t i = 0; i < s->ntypes; i++)
		if (s->types[i].kind == MCPG_K_ENUM && !strcmp(s->types[i].name, type) &&
		    v < s->types[i].count)
			return s->values[s->types[i].first + v].text;
	return "?";
}

/* The YAML spelling of tag `tag` (1 + variant index) of union type `type`. */
static const char *
variant_text(const struct rule_ctx *c, const char *type, uint32_t tag)
{
	const struct mcpg_schema *s = c->img->schema;

	for (uint32_t i = 0; i < s->ntypes; i++)
		if (s->types[i].kind == MCPG_K_UNION && !strcmp(s->types[i].name, type) &&
		    tag >= 1 && tag <= s->types[i].count)
			return s->variants[s->types[i].first + tag - 1].text;
	return "?";
}

/* "an object", "an array" ... for a JSON value. */
static const char *
json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

/*
 * host[:port] of a URL (userinfo dropped, so a password in it is never
 * printed), or NULL when it has no "://".
 */
static const char *
url_authority(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at;

	if (!p)
		return NULL;
	p += 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	while (at) {
		p = at + 1;
		at = memchr(p, '@', (size_t)(end - p));
	}
	return mcc_strndup(p, (size_t)(end - p));
}

static int
has_prefix_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

/* ---- Bindings and identity ------------------------------------------------ */

static void
add_binding(struct rule_ctx *c, enum binding_kind kind, const char *list, uint32_t i,
	    uint32_t name, const struct mcpg_binding_governance *gov,
	    const struct mcpg_retry *retry, const struct mcpg_union_slot *backend,
	    const void *rec)
{
	struct binding *b = &c->b[c->nb++];

	b->kind = kind;
	b->list = list;
	b->index = i;
	b->name = text(c, name);
	b->gov = gov;
	b->retry = retry;
	b->backend = backend;
	b->rec = rec;
}

/* Fill c->b with the bindings of the four lists. */
static void
collect_bindings(struct rule_ctx *c)
{
	const struct mcpg_image *img = c->img;
	const struct mcpg_capabilities *caps = &c->cfg->mcp.capabilities;
	uint32_t nt, nr, nrt, np;
	const struct mcpg_tool *t = mcpg_capabilities_tools(img, caps, &nt);
	const struct mcpg_resource *r = mcpg_capabilities_resources(img, caps, &nr);
	const struct mcpg_resource_template *rt =
		mcpg_capabilities_resource_templates(img, caps, &nrt);
	const struct mcpg_prompt *p = mcpg_capabilities_prompts(img, caps, &np);

	c->b = mcc_alloc(((size_t)nt + nr + nrt + np + 1) * sizeof(*c->b));
	for (uint32_t i = 0; i < nt; i++)
		add_binding(c, B_TOOL, "tools", i, t[i].name, &t[i].governance,
			    mcpg_tool_retry(img, &t[i]), &t[i].backend, &t[i]);
	for (uint32_t i = 0; i < nr; i++)
		add_binding(c, B_RESOURCE, "resources", i, r[i].name, &r[i].governance,
			    mcpg_resource_retry(img, &r[i]), &r[i].backend, &r[i]);
	for (uint32_t i = 0; i < nrt; i++)
		add_binding(c, B_TEMPLATE, "resource_templates", i, rt[i].name,
			    &rt[i].governance, mcpg_resource_template_retry(img, &rt[i]),
			    &rt[i].backend, &rt[i]);
	for (uint32_t i = 0; i < np; i++)
		add_binding(c, B_PROMPT, "prompts", i, p[i].name, &p[i].governance, NULL,
			    NULL, &p[i]);
}

/*
 * "mcp.capabilities.tools[2]", or with `sub` "mcp.capabilities.tools[2].SUB".
 * Made only when a message needs it: a rule runs over every binding.
 */
static const char *
bpath(const struct binding *b, const char *sub)
{
	return mcc_printf("mcp.capabilities.%s[%u]%s%s", b->list, b->index, sub ? "." : "",
			  sub ? sub : "");
}

/* Whether a token verifier is configured: callers can become verified. */
static int
has_verifier(const struct rule_ctx *c)
{
	const struct mcpg_access *a = &c->cfg->governance.access;

	return a->jwks || a->oidc_oauth || a->api_tokens;
}

/* The highest trust level any caller can reach (reference 3.7). */
static enum mcpg_trust_level
trust_ceiling(const struct rule_ctx *c)
{
	if (has_verifier(c))
		return MCPG_TRUST_LEVEL_VERIFIED;
	if (c->cfg->gateway.server.trust_subject_header)
		return MCPG_TRUST_LEVEL_HEADER_ASSERTED;
	return MCPG_TRUST_LEVEL_UNAUTHENTICATED;
}

/* ---- gateway.server ------------------------------------------------------- */

/*
 * An identity source here is a token verifier or trust_subject_header:
 * with either, a caller who presents nothing is unauthenticated and sees
 * only the bindings whose floor says so, which the second test catches.
 */
static void
anonymous_needs_loopback(struct rule_ctx *c)
{
	const struct mcpg_server *srv = &c->cfg->gateway.server;
	const char *path = "gateway.server.bind_address";
	const char *bind = text(c, srv->bind_address);
	const char *open = NULL, *open_name = NULL;
	const struct mcc_node *n;
	uint32_t nu;
	const struct mcpg_upstream *u = mcpg_mcp_upstreams(c->img, &c->cfg->mcp, &nu);

	if (!bind || srv->allow_anonymous_public_bind || mcpg_is_loopback_host(bind))
		return;
	for (size_t i = 0; i < c->nb && !open; i++)
		if (c->b[i].gov->minimum_trust == MCPG_TRUST_LEVEL_UNAUTHENTICATED)
			open = bpath(&c->b[i], NULL), open_name = c->b[i].name;
	for (uint32_t i = 0; i < nu && !open; i++)
		if (u[i].governance.minimum_trust == MCPG_TRUST_LEVEL_UNAUTHENTICATED)
			open = mcc_printf("mcp.upstreams[%u]", i), open_name = text(c, u[i].name);
	if (!open && trust_ceiling(c) != MCPG_TRUST_LEVEL_UNAUTHENTICATED)
		return;

	mcc_error(c->d, rule_loc(c, path),
		  "'%s': anonymous access on non-loopback address '%s' needs "
		  "'gateway.server.allow_anonymous_public_bind: true'%s",
		  path, bind, open ? "" : " or an identity source");
	if (open)
		mcc_note(c->d, rule_loc(c, mcc_path_key(open, "governance.minimum_trust")),
			 "'%s'%s admits unauthenticated callers here", open,
			 open_name ? mcc_printf(" ('%s')", open_name) : "");
	n = node_at(c, path);
	if (n && n->overrode && n->overrode->kind == MCC_N_SCALAR)
		mcc_note(c->d, n->overrode->loc, "it overrides '%s' set here", n->overrode->text);
}

/* The routes of the main listener: mcp_path, health_path, /ready, metrics. */
static void
routes_distinct(struct rule_ctx *c)
{
	const struct mcpg_server *srv = &c->cfg->gateway.server;
	const struct mcpg_observability *o = &c->cfg->observability;
	struct {
		const char *path, *route;
	} r[4] = {
		{ "gateway.server.mcp_path", text(c, srv->mcp_path) },
		{ "gateway.server.health_path", text(c, srv->health_path) },
		{ NULL, "/ready" },
		{ NULL, NULL },
	};
	uint32_t ns;
	const struct mcpg_union_slot *s = mcpg_metrics_sinks(c->img, &o->metrics, &ns);
	const struct mcpg_prometheus_sink *prom =
		ns ? mcpg_metrics_sink_prometheus(c->img, s) : NULL;

	if (o->enabled && o->metrics.enabled && prom && !prom->bind) {
		r[3].path = "observability.metrics.sinks[0].config.path";
		r[3].route = text(c, prom->path);
	}
	for (int j = 1; j < 4; j++) {
		for (int i = 0; i < j; i++) {
			int blame = j, other = i;
			const struct mcc_node *ni, *nj;

			if (!r[i].route || !r[j].route || strcmp(r[i].route, r[j].route))
				continue;
			/* Blame the route a layer set last; a default or /ready is the other. */
			ni = r[i].path ? node_at(c, r[i].path) : NULL;
			nj = r[j].path ? node_at(c, r[j].path) : NULL;
			if (!r[j].path || (ni && (!nj || is_later(ni, nj))))
				blame = i, other = j;
			if (!r[other].path) {
				mcc_error(c->d, rule_loc(c, r[blame].path),
					  "'%s': route '%s'%s is reserved for the readiness probe",
					  r[blame].path, r[blame].route, dflt(c, r[blame].path));
				continue;
			}
			mcc_error(c->d, rule_loc(c, r[blame].path),
				  "'%s': route '%s'%s is also '%s'%s", r[blame].path,
				  r[blame].route, dflt(c, r[blame].path), r[other].path,
				  dflt(c, r[other].path));
			note_set(c, r[other].path);
		}
	}
}

static void
subject_header_needs_proxy(struct rule_ctx *c)
{
	const struct mcpg_server *srv = &c->cfg->gateway.server;

	if (!srv->trust_subject_header || srv->trusted_proxies.n)
		return;
	mcc_error(c->d, rule_loc(c, "gateway.server.trust_subject_header"),
		  "'gateway.server.trust_subject_header': true needs at least one "
		  "'gateway.server.trusted_proxies' entry, or anyone can assert a subject");
	note_set(c, "gateway.server.trusted_proxies");
}

static void
client_cert_needs_ca(struct rule_ctx *c)
{
	const struct mcpg_server_tls *tls = mcpg_server_tls(c->img, &c->cfg->gateway.server);
	const char *mode = "gateway.server.tls.client_cert_required";
	const char *ca = "gateway.server.tls.client_ca_certs_path";

	if (!tls)
		return;
	if (tls->client_cert_required != MCPG_CLIENT_CERT_MODE_NONE && !tls->client_ca_certs_path) {
		mcc_error(c->d, rule_loc(c, mode), "'%s': '%s' needs '%s'", mode,
			  enum_text(c, "client_cert_mode", tls->client_cert_required), ca);
		note_reset(c, ca);
	} else if (tls->client_cert_required == MCPG_CLIENT_CERT_MODE_NONE &&
		   tls->client_ca_certs_path) {
		mcc_error(c->d, rule_loc(c, ca), "'%s' is set, but '%s' is 'none'%s", ca, mode,
			  dflt(c, mode));
		note_set(c, mode);
	}
}

/* ---- cluster -------------------------------------------------------------- */

static void
plaintext_coordinator_needs_ack(struct rule_ctx *c)
{
	const struct mcpg_redis_cluster *redis = mcpg_cluster_redis(c->img, &c->cfg->cluster);
	const struct mcpg_nats_cluster *nats = mcpg_cluster_nats(c->img, &c->cfg->cluster);

	if (redis && !redis->allow_insecure_transport) {
		const char *url = text(c, redis->url);
		const char *host = url ? url_authority(url) : NULL;

		if (host && has_prefix_ci(url, "redis://") && !mcpg_is_loopback_host(host))
			mcc_error(c->d, rule_loc(c, "cluster.url"),
				  "'cluster.url': plaintext redis:// to non-loopback host '%s' "
				  "needs 'cluster.allow_insecure_transport: true' (or use "
				  "rediss://)", host);
	}
	if (nats && !nats->allow_insecure_transport && !nats->tls.require_tls) {
		uint32_t n;
		const uint32_t *srv = mcpg_nats_cluster_servers(c->img, nats, &n);

		for (uint32_t i = 0; i < n; i++) {
			const char *url = text(c, srv[i]);
			const char *host = url ? url_authority(url) : NULL;
			const char *spath = mcc_printf("cluster.servers[%u]", i);

			if (!host || !has_prefix_ci(url, "nats://") || mcpg_is_loopback_host(host))
				continue;
			mcc_error(c->d, rule_loc(c, "cluster.tls.require_tls"),
				  "'cluster.tls.require_tls': false sends plaintext to "
				  "non-loopback server '%s' and needs "
				  "'cluster.allow_insecure_transport: true'", host);
			mcc_note(c->d, rule_loc(c, spath), "'%s' was set here", spath);
			break;
		}
	}
}

static void
redis_tls_needs_rediss(struct rule_ctx *c)
{
	const struct mcpg_redis_cluster *redis = mcpg_cluster_redis(c->img, &c->cfg->cluster);
	const char *url = redis ? text(c, redis->url) : NULL;

	if (!url || !redis->tls || has_prefix_ci(url, "rediss://"))
		return;
	mcc_error(c->d, rule_loc(c, "cluster.tls"),
		  "'cluster.tls' is only valid with a rediss:// url");
	note_set(c, "cluster.url");
}

/* ---- governance.access ---------------------------------------------------- */

#define JWKS "governance.access.jwks"

static void
jwks_xor_oidc(struct rule_ctx *c)
{
	const struct mcpg_access *a = &c->cfg->governance.access;

	if (a->jwks && a->oidc_oauth)
		conflict(c, JWKS, NULL, "governance.access.oidc_oauth", NULL,
			 "; use one of them");
}

static void
jwks_needs_key_source(struct rule_ctx *c)
{
	const struct mcpg_jwks *j = mcpg_access_jwks(c->img, &c->cfg->governance.access);
	const char *src[3] = { JWKS ".url", JWKS ".keys_json", JWKS ".keys_file" };
	int set[3], nset;

	if (!j)
		return;
	set[0] = j->url != 0, set[1] = j->keys_json != 0, set[2] = j->keys_file != 0;
	nset = set[0] + set[1] + set[2];
	if (!nset) {
		mcc_error(c->d, rule_loc(c, JWKS),
			  "'" JWKS "' needs one of 'url', 'keys_json' and 'keys_file'");
		return;
	}
	for (int i = 0; i < 3; i++)
		for (int k = i + 1; k < 3; k++)
			if (set[i] && set[k])
				conflict(c, src[i], NULL, src[k], NULL,
					 "; a key set has exactly one source");
}

/* A base64url value (no padding) of exactly `want` bytes, or any length > 0 when 0. */
static int
b64url_ok(const json_t *v, size_t want)
{
	const char *s = json_string_value(v);
	size_t len, rem;

	if (!s || !*s)
		return 0;
	len = strlen(s);
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != len)
		return 0;
	rem = len % 4;
	if (rem == 1)
		return 0;
	return !want || len / 4 * 3 + (rem ? rem - 1 : 0) == want;
}

/* Whether `alg` verifies with a key of type `kty` (on curve `crv`). */
static int
alg_fits(unsigned alg, const char *kty, const char *crv)
{
	switch (alg) {
	case MCPG_JWT_ALG_RS256:
	case MCPG_JWT_ALG_RS384:
	case MCPG_JWT_ALG_RS512:
	case MCPG_JWT_ALG_PS256:
	case MCPG_JWT_ALG_PS384:
	case MCPG_JWT_ALG_PS512:
		return !strcmp(kty, "RSA");
	case MCPG_JWT_ALG_ES256:
		return !strcmp(kty, "EC") && crv && !strcmp(crv, "P-256");
	case MCPG_JWT_ALG_ES384:
		return !strcmp(kty, "EC") && crv && !strcmp(crv, "P-384");
	case MCPG_JWT_ALG_EDDSA:
		return !strcmp(kty, "OKP") && crv && !strcmp(crv, "Ed25519");
	}
	return 0; /* HS*: never from a static key set */
}

/*
 * Why JWK `k` cannot verify tokens under `algs`, or NULL when it can.  A
 * key with "alg" is pinned to it; one without serves any allowed
 * algorithm its type fits.
 */
static const char *
jwk_unusable(const struct rule_ctx *c, const json_t *k, const uint8_t *algs, uint32_t nalgs)
{
	const char *kty = json_string_value(json_object_get(k, "kty"));
	const char *crv = json_string_value(json_object_get(k, "crv"));
	const char *use = json_string_value(json_object_get(k, "use"));
	const json_t *alg = json_object_get(k, "alg");

	if (!json_is_object(k))
		return mcc_printf("is %s, not an object", json_kind(k));
	if (!kty)
		return "has no \"kty\"";
	if (use && strcmp(use, "sig"))
		return mcc_printf("\"use\" is '%s', not 'sig'", use);
	if (!strcmp(kty, "RSA")) {
		if (!b64url_ok(json_object_get(k, "n"), 0) ||
		    !b64url_ok(json_object_get(k, "e"), 0))
			return "RSA key needs base64url \"n\" and \"e\"";
	} else if (!strcmp(kty, "EC")) {
		size_t len = !crv ? 0 : !strcmp(crv, "P-256") ? 32 : !strcmp(crv, "P-384") ? 48 : 0;

		if (!len)
			return mcc_printf("EC curve '%s' is not supported (P-256, P-384)",
					  crv ? crv : "");
		if (!b64url_ok(json_object_get(k, "x"), len) ||
		    !b64url_ok(json_object_get(k, "y"), len))
			return mcc_printf("%s key needs base64url \"x\" and \"y\" of %zu bytes",
					  crv, len);
	} else if (!strcmp(kty, "OKP")) {
		if (!crv || strcmp(crv, "Ed25519"))
			return mcc_printf("OKP curve '%s' is not supported (Ed25519)",
					  crv ? crv : "");
		if (!b64url_ok(json_object_get(k, "x"), 32))
			return "Ed25519 key needs a base64url \"x\" of 32 bytes";
	} else if (!strcmp(kty, "oct")) {
		return "symmetric (oct) keys are never accepted from a static key set";
	} else {
		return mcc_printf("key type '%s' is not supported", kty);
	}
	if (alg) {
		const char *a = json_string_value(alg);

		if (!a)
			return "\"alg\" is not a string";
		for (uint32_t i = 0; i < nalgs; i++)
			if (!strcmp(a, enum_text(c, "jwt_alg", algs[i])))
				return alg_fits(algs[i], kty, crv)
					       ? NULL
					       : mcc_printf("alg '%s' does not fit key type '%s'",
							    a, kty);
		return mcc_printf("alg '%s' is not in allowed_algs", a);
	}
	for (uint32_t i = 0; i < nalgs; i++)
		if (alg_fits(algs[i], kty, crv))
			return NULL;
	return mcc_printf("no algorithm in allowed_algs fits key type '%s'%s", kty,
			  crv ? mcc_printf(" (curve '%s')", crv) : "");
}

/* Check one static key set; `what` names it in messages ("key set 'f'"). */
static void
check_key_set(struct rule_ctx *c, const char *path, const char *what, const char *json,
	      size_t len, const struct mcpg_jwks *j)
{
	struct mcc_loc loc = rule_loc(c, path);
	uint32_t nalgs;
	const uint8_t *algs = mcpg_jwks_allowed_algs(c->img, j, &nalgs);
	json_error_t err;
	json_t *set = json_loadb(json, len, 0, &err), *keys;
	char *list = "";
	size_t nkeys;

	if (!set) {
		mcc_error(c->d, loc, "'%s': %s is not valid JSON (line %d, column %d: %s)", path,
			  what, err.line, err.column, err.text);
		return;
	}
	keys = json_object_get(set, "keys");
	if (!json_is_object(set) || !json_is_array(keys)) {
		mcc_error(c->d, loc, "'%s': %s is not a JWK Set (an object with a \"keys\" array)",
			  path, what);
		goto out;
	}
	nkeys = json_array_size(keys);
	if (!nkeys) {
		mcc_error(c->d, loc, "'%s': %s has no keys", path, what);
		goto out;
	}
	for (size_t i = 0; i < nkeys; i++)
		if (!jwk_unusable(c, json_array_get(keys, i), algs, nalgs))
			goto out;
	for (uint32_t i = 0; i < nalgs; i++)
		list = mcc_printf("%s%s%s", list, i ? ", " : "", enum_text(c, "jwt_alg", algs[i]));
	mcc_error(c->d, loc, "'%s': %s has no key usable with allowed_algs [%s]%s", path, what,
		  list, dflt(c, JWKS ".allowed_algs"));
	/* Why each key fails; a big set gets the first few. */
	for (size_t i = 0; i < nkeys && i < 8; i++) {
		const json_t *k = json_array_get(keys, i);
		const char *kid = json_string_value(json_object_get(k, "kid"));

		mcc_note(c->d, loc, "keys[%zu]%s: %s", i,
			 kid ? mcc_printf(" (kid '%s')", kid) : "",
			 jwk_unusable(c, k, algs, nalgs));
	}
	if (nkeys > 8)
		mcc_note(c->d, loc, "%zu more keys are not usable either", nkeys - 8);
	note_set(c, JWKS ".allowed_algs");
out:
	json_decref(set);
}

/*
 * The whole of file `path`, or NULL with errno set.  Small files only:
 * a key set of more than a few MiB is a mistake.
 */
char *
mcc_read_small_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t alloc = 4096, n = 0;
	char *buf;

	if (!f)
		return NULL;
	buf = mcc_alloc(alloc);
	for (;;) {
		size_t got = fread(buf + n, 1, alloc - n, f);

		n += got;
		if (got == 0)
			break;
		if (n == alloc) {
			if (alloc >= 16 << 20) {
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			buf = mcc_grow(buf, alloc, alloc * 2, 1);
			alloc *= 2;
		}
	}
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		errno = e ? e : EIO;
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* `file` relative to the directory of the config file that set it. */
const char *
mcc_config_relative(struct mcc_loc loc, const char *file)
{
	const char *slash;

	if (file[0] == '/' || !loc.file || !(slash = strrchr(loc.file, '/')))
		return file;
	return mcc_printf("%.*s/%s", (int)(slash - loc.file), loc.file, file);
}

static void
jwks_keys_usable(struct rule_ctx *c)
{
	const struct mcpg_jwks *j = mcpg_access_jwks(c->img, &c->cfg->governance.access);
	const char *json, *file;

	if (!j)
		return;
	/* Both keys are literal: the walk refused ${env.*} in them. */
	if ((json = mcpg_jwks_keys_json(c->img, j)))
		check_key_set(c, JWKS ".keys_json", "the key set", json, strlen(json), j);
	if ((file = mcpg_jwks_keys_file(c->img, j))) {
		const char *key = JWKS ".keys_file";
		const char *p = mcc_config_relative(rule_loc(c, key), file);
		size_t len = 0;
		char *buf = mcc_read_small_file(p, &len);

		if (!buf)
			mcc_error(c->d, rule_loc(c, key), "'%s': cannot read '%s': %s", key, p,
				  strerror(errno));
		else
			check_key_set(c, key, mcc_printf("key set '%s'", p), buf, len, j);
	}
}

static void
jwks_audience_required(struct rule_ctx *c)
{
	const struct mcpg_jwks *j = mcpg_access_jwks(c->img, &c->cfg->governance.access);

	if (!j)
		return;
	if (!j->audience && !j->allow_missing_audience)
		mcc_error(c->d, rule_loc(c, JWKS),
			  "'" JWKS "' needs 'audience' (or 'allow_missing_audience: true' to "
			  "accept tokens for any audience)");
	else if (j->audience && j->allow_missing_audience)
		conflict(c, JWKS ".audience", NULL, JWKS ".allow_missing_audience",
			 JWKS ".allow_missing_audience: true", NULL);
}

static void
oidc_audience_required(struct rule_ctx *c)
{
	const struct mcpg_access *acc = &c->cfg->governance.access;
	const struct mcpg_oidc_oauth *o = mcpg_access_oidc_oauth(c->img, acc);
	uint32_t n = 0;
	const struct mcpg_oidc_provider *p = o ? mcpg_oidc_oauth_providers(c->img, o, &n) : NULL;

	for (uint32_t i = 0; i < n && !c->d->stopped; i++) {
		const char *pp = mcc_printf("governance.access.oidc_oauth.providers[%u]", i);
		const char *aud = mcc_path_key(pp, "audiences");
		const char *any = mcc_path_key(pp, "allow_any_audience");

		if (!p[i].audiences.n && !p[i].allow_any_audience)
			mcc_error(c->d, rule_loc(c, aud),
				  "'%s' needs 'audiences' (or 'allow_any_audience: true' to accept "
				  "tokens for any audience)", pp);
		else if (p[i].audiences.n && p[i].allow_any_audience)
			conflict(c, aud, NULL, any, mcc_printf("%s: true", any), NULL);
	}
}

static int
is_hmac(unsigned alg)
{
	return alg == MCPG_JWT_ALG_HS256 || alg == MCPG_JWT_ALG_HS384 || alg == MCPG_JWT_ALG_HS512;
}

static void
hmac_needs_allow(struct rule_ctx *c)
{
	const struct mcpg_access *a = &c->cfg->governance.access;
	const struct mcpg_jwks *j = mcpg_access_jwks(c->img, a);
	const struct mcpg_oidc_oauth *o = mcpg_access_oidc_oauth(c->img, a);
	uint32_t n = 0, np = 0;
	const uint8_t *algs = j ? mcpg_jwks_allowed_algs(c->img, j, &n) : NULL;
	const struct mcpg_oidc_provider *p = o ? mcpg_oidc_oauth_providers(c->img, o, &np) : NULL;

	for (uint32_t i = 0; i < n; i++) {
		const char *ap = mcc_printf(JWKS ".allowed_algs[%u]", i);

		if (is_hmac(algs[i]))
			mcc_error(c->d, rule_loc(c, ap),
				  "'%s': '%s' is never accepted from a static key set", ap,
				  enum_text(c, "jwt_alg", algs[i]));
	}
	for (uint32_t i = 0; i < np && !c->d->stopped; i++) {
		const struct mcpg_oidc_jwks *v =
			mcpg_oidc_verification_oidc_jwks(c->img, &p[i].verification);
		const char *vp =
			mcc_printf("governance.access.oidc_oauth.providers[%u].verification", i);

		algs = v ? mcpg_oidc_jwks_allowed_algs(c->img, v, &n) : NULL;
		for (uint32_t k = 0; v && !v->allow_hmac && k < n; k++) {
			const char *ap = mcc_printf("%s.allowed_algs[%u]", vp, k);

			if (is_hmac(algs[k]))
				mcc_error(c->d, rule_loc(c, ap),
					  "'%s': '%s' needs '%s.allow_hmac: true'", ap,
					  enum_text(c, "jwt_alg", algs[k]), vp);
		}
	}
}

/* ---- governance.audit ----------------------------------------------------- */

static void
audit_required_needs_sink(struct rule_ctx *c)
{
	const struct mcpg_audit *a = &c->cfg->governance.audit;
	const char *req = "governance.audit.required";

	if (!a->enabled || !a->required || a->sinks.n)
		return;
	mcc_error(c->d, rule_loc(c, "governance.audit.sinks"),
		  "'governance.audit.sinks' is empty, but the audit ledger is enabled and "
		  "required%s; add a sink or set '%s: false'",
		  node_at(c, req) ? "" : " (default)", req);
	note_set(c, req);
}

/* ---- Bindings ------------------------------------------------------------- */

/*
 * A note at each identity source a layer reset with null: the usual way
 * an override leaves a floor of `floor` without a source.
 */
static void
note_sources_reset(struct rule_ctx *c, enum mcpg_trust_level floor)
{
	const char *tsh = "gateway.server.trust_subject_header";
	const struct mcc_node *n = mcc_node_at(c->root, tsh);

	note_reset(c, "governance.access.jwks");
	note_reset(c, "governance.access.oidc_oauth");
	note_reset(c, "governance.access.api_tokens");
	if (floor == MCPG_TRUST_LEVEL_VERIFIED)
		return;
	note_reset(c, tsh);
	if (n && n->kind == MCC_N_SCALAR && n->overrode)
		mcc_note(c->d, n->loc, "'%s' was set to %s here", tsh, n->text);
}

static void
trust_floor_reachable(struct rule_ctx *c)
{
	enum mcpg_trust_level top = trust_ceiling(c);
	int reported = 0;
	uint32_t nu;
	const struct mcpg_upstream *u = mcpg_mcp_upstreams(c->img, &c->cfg->mcp, &nu);

	for (size_t i = 0; i < c->nb + nu && !c->d->stopped; i++) {
		const struct binding *b = i < c->nb ? &c->b[i] : NULL;
		const struct mcpg_upstream *up = b ? NULL : &u[i - c->nb];
		enum mcpg_trust_level floor =
			b ? b->gov->minimum_trust : up->governance.minimum_trust;
		const char *path, *name, *fp;

		if (floor <= top)
			continue;
		path = b ? bpath(b, NULL) : mcc_printf("mcp.upstreams[%zu]", i - c->nb);
		name = b ? b->name : text(c, up->name);
		fp = mcc_path_key(path, "governance.minimum_trust");
		mcc_error(c->d, rule_loc(c, mcc_path_key(path, "name")),
			  "'%s'%s: minimum_trust '%s'%s is unreachable: %s", path,
			  name ? mcc_printf(" ('%s')", name) : "",
			  enum_text(c, "trust_level", floor), dflt(c, fp),
			  floor == MCPG_TRUST_LEVEL_VERIFIED
				  ? "no identity source (jwks, oidc_oauth or api_tokens) is "
				    "configured"
				  : "it needs an identity source or "
				    "'gateway.server.trust_subject_header: true'");
		note_set(c, fp);
		if (!reported++)
			note_sources_reset(c, floor);
	}
}

/* A binding name as written, for the duplicate check. */
struct named {
	const struct mcc_node *n; /* the name's node in the tree */
	const char *name;         /* its text (resolved under --env) */
	const char *path;         /* "mcp.capabilities.tools[2].name" */
};

/* Order of two names by where they were written (for qsort). */
static int
by_place(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	return is_later(x->n, y->n) - is_later(y->n, x->n);
}

/*
 * The name written first (earliest layer, then line) is the original; a
 * duplicate is reported where it was written, whichever list it is in.
 * A first pass finds the names used twice, so only those are looked up
 * in the tree.
 */
static void
unique_binding_names(struct rule_ctx *c)
{
	struct named *v;
	struct mcc_strmap seen = MCC_STRMAP_INIT;
	char *dup = mcc_alloc(c->nb + 1);
	size_t n = 0, ndup = 0;

	/* Names behind ${env.*} (name NULL) are only known at boot. */
	for (size_t i = 0; i < c->nb; i++) {
		const char *name = c->b[i].name;
		const struct binding *first;

		if (!name || !(first = mcc_strmap_put(&seen, name, strlen(name), &c->b[i])))
			continue;
		ndup += !dup[first - c->b] + 1;
		dup[first - c->b] = dup[i] = 1;
	}
	mcc_strmap_release(&seen);
	if (!ndup)
		return;
	v = mcc_alloc(ndup * sizeof(*v));
	for (size_t i = 0; i < c->nb; i++) {
		const char *p = dup[i] ? bpath(&c->b[i], "name") : NULL;
		const struct mcc_node *nn = p ? node_at(c, p) : NULL;

		if (nn)
			v[n++] = (struct named){ nn, c->b[i].name, p };
	}
	qsort(v, n, sizeof(*v), by_place);
	mcc_strmap_init(&seen);
	for (size_t i = 0; i < n && !c->d->stopped; i++) {
		const struct named *first = mcc_strmap_put(&seen, v[i].name, strlen(v[i].name),
							   &v[i]);

		if (!first)
			continue;
		mcc_error(c->d, v[i].n->loc, "'%s': duplicate binding name '%s'", v[i].path,
			  v[i].name);
		mcc_note(c->d, first->n->loc, "'%s' was first defined here", first->name);
	}
	mcc_strmap_release(&seen);
}

static void
upstream_prefix_disjoint(struct rule_ctx *c)
{
	uint32_t nu;
	const struct mcpg_upstream *u = mcpg_mcp_upstreams(c->img, &c->cfg->mcp, &nu);

	for (uint32_t j = 0; j < nu && !c->d->stopped; j++) {
		const char *pj = text(c, u[j].prefix), *nj = text(c, u[j].name);
		const char *jp = mcc_printf("mcp.upstreams[%u].prefix", j);
		size_t lj = pj ? strlen(pj) : 0;

		if (!pj)
			continue;
		/* Against earlier upstreams: the later one is reported. */
		for (uint32_t i = 0; i < j; i++) {
			const char *pi = text(c, u[i].prefix), *ni = text(c, u[i].name), *ip;
			size_t li = pi ? strlen(pi) : 0;

			if (!pi || strncmp(pi, pj, li < lj ? li : lj))
				continue;
			ip = mcc_printf("mcp.upstreams[%u].prefix", i);
			mcc_error(c->d, rule_loc(c, jp),
				  "'%s': '%s' overlaps prefix '%s' of upstream '%s'", jp, pj, pi,
				  ni ? ni : "?");
			mcc_note(c->d, rule_loc(c, ip), "'%s' was set here", ip);
			break;
		}
		for (size_t i = 0; i < c->nb && !c->d->stopped; i++) {
			const char *name = c->b[i].name, *np;

			if (!name || strncmp(name, pj, lj))
				continue;
			np = bpath(&c->b[i], "name");
			mcc_error(c->d, rule_loc(c, np),
				  "'%s': '%s' starts with prefix '%s' of upstream '%s'", np, name,
				  pj, nj ? nj : "?");
			mcc_note(c->d, rule_loc(c, jp), "'%s' was set here", jp);
		}
	}
}

static void
retry_only_for_http(struct rule_ctx *c)
{
	for (size_t i = 0; i < c->nb && !c->d->stopped; i++) {
		const struct binding *b = &c->b[i];
		const char *rp;

		if (!b->retry || b->backend->tag == MCPG_BACKEND_HTTP)
			continue;
		rp = bpath(b, "retry");
		mcc_error(c->d, rule_loc(c, rp),
			  "'%s' is only valid with backend kind 'http', not '%s'", rp,
			  variant_text(c, "backend", b->backend->tag));
		note_set(c, bpath(b, "backend.kind"));
	}
}

/*
 * Check the origin (scheme, host, port) of a URL template.  `shape` is its
 * text with each reference whose value is unknown now replaced by a
 * marker: MARK_ENV for ${env.*}, MARK_REQ for ${arguments.*} and
 * ${identity.*}.  Returns NULL when the origin is static, "" when it holds
 * a MARK_REQ (the first of the URL, since the origin comes first), else
 * what is wrong.
 */
#define MARK_ENV '\001'
#define MARK_REQ '\002'

static const char *
origin_problem(const char *shape)
{
	const char *p = shape, *sep = strstr(shape, "://");

	if (has_prefix_ci(shape, "http://") || has_prefix_ci(shape, "https://"))
		p = sep + 3;
	else if (shape[0] == MARK_ENV)
		/* ${env.BASE}... or ${env.SCHEME}://host: the env value holds the scheme. */
		p = sep && (size_t)(sep - shape) < strcspn(shape, "/?#") ? sep + 3 : shape + 1;
	else
		return "must start with http:// or https:// (or ${env.*})";
	for (; *p && !strchr("/?#", *p); p++)
		if (*p == MARK_REQ)
			return "";
	return NULL;
}

/* "${arguments.x}" or "${identity.x}", as the reference is written. */
static const char *
ref_text(const struct mcc_seg *s)
{
	if (s->kind == MCPG_SEG_IDENTITY)
		return mcc_printf("${identity.%s}", s->text);
	return *s->text ? mcc_printf("${arguments.%s}", s->text) : "${arguments}";
}

static void
http_url_static_origin(struct rule_ctx *c)
{
	for (size_t i = 0; i < c->nb && !c->d->stopped; i++) {
		const struct binding *b = &c->b[i];
		const struct mcpg_http_backend *h =
			b->backend ? mcpg_backend_http(c->img, b->backend) : NULL;
		const struct mcpg_img_tmpl *t = h ? tmpl(c, h->url) : NULL;
		const struct mcc_seg *req = NULL;
		struct mcc_segs segs;
		const char **val, *why, *up;
		char *shape, *p;
		size_t total = 1;

		if (!t)
			continue;
		img_segs(c, t->seg_off, t->seg_n, &segs);
		val = mcc_alloc((segs.nr + 1) * sizeof(*val));
		for (size_t k = 0; k < segs.nr; k++) {
			const struct mcc_seg *s = &segs.v[k];

			if (s->kind == MCPG_SEG_LIT)
				val[k] = s->text;
			else if (s->kind == MCPG_SEG_ENV && (c->vflags & MCC_V_ENV))
				val[k] = getenv(s->text); /* NULL when unset: a marker */
			total += val[k] ? strlen(val[k]) : 1;
		}
		p = shape = mcc_alloc(total);
		for (size_t k = 0; k < segs.nr; k++) {
			if (val[k]) {
				p = stpcpy(p, val[k]);
			} else if (segs.v[k].kind == MCPG_SEG_ENV) {
				*p++ = MARK_ENV;
			} else {
				*p++ = MARK_REQ;
				req = req ? req : &segs.v[k];
			}
		}
		*p = '\0';
		if (!(why = origin_problem(shape)))
			continue;
		up = bpath(b, "backend.url");
		if (*why)
			mcc_error(c->d, rule_loc(c, up), "'%s': '%s' %s", up,
				  mcpg_str(c->img, t->src), why);
		else
			mcc_error(c->d, rule_loc(c, up),
				  "'%s': %s may not be part of the scheme, host or port "
				  "(only ${env.*} may)", up, ref_text(req));
	}
}

/* The {variables} of a URI template, for did-you-mean. */
static size_t
uri_template_vars(const char *ut, const char ***out)
{
	const char **v = mcc_alloc((strlen(ut) / 2 + 1) * sizeof(*v));
	size_t n = 0;

	for (const char *p = strchr(ut, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');

		if (!end)
			break;
		v[n++] = mcc_strndup(p + 1, (size_t)(end - p - 1));
	}
	*out = v;
	return n;
}

/*
 * Check every ${arguments.NAME} of template slot `slot` against the `nnames`
 * names a binding declares; `declared_in` ends the message ("names no
 * argument of prompt 'p'").  Reports the first stray reference only.
 * `secret`: the value is sensitive, so the message quotes no reference.
 */
static void
check_args(struct rule_ctx *c, uint32_t slot, const char *const *names, size_t nnames,
	   const char *declared_in, int secret)
{
	const struct mcpg_img_tmpl *t = tmpl(c, slot);
	struct mcc_segs segs;

	if (!t)
		return;
	img_segs(c, t->seg_off, t->seg_n, &segs);
	for (size_t k = 0; k < segs.nr; k++) {
		const struct mcc_seg *s = &segs.v[k];
		const char *key, *near;
		size_t i;

		/* ${arguments}, the whole object, needs no declaration. */
		if (s->kind != MCPG_SEG_ARG || !*s->text)
			continue;
		for (i = 0; i < nnames && strcmp(names[i], s->text); i++)
			;
		if (i < nnames)
			continue;
		key = mcpg_str(c->img, t->key);
		if (secret) {
			mcc_error(c->d, rule_loc(c, key), "'%s': an ${arguments.*} reference %s",
				  key, declared_in);
			return;
		}
		near = nnames ? mcc_closest(s->text, names, nnames) : NULL;
		mcc_error(c->d, rule_loc(c, key), "'%s': ${arguments.%s} %s%s", key, s->text,
			  declared_in, near ? mcc_printf(" (did you mean '%s'?)", near) : "");
		return;
	}
}

/* The templates of a backend: url, header values (sensitive) and args. */
static void
check_backend_args(struct rule_ctx *c, const struct mcpg_union_slot *be,
		   const char *const *names, size_t nnames, const char *declared_in)
{
	const struct mcpg_http_backend *h = mcpg_backend_http(c->img, be);
	const struct mcpg_command_backend *cmd = mcpg_backend_command(c->img, be);
	uint32_t n;

	if (h) {
		const struct mcpg_template_entry *e = mcpg_http_backend_headers(c->img, h, &n);

		check_args(c, h->url, names, nnames, declared_in, 0);
		for (uint32_t i = 0; i < n; i++)
			check_args(c, e[i].value, names, nnames, declared_in, 1);
	}
	if (cmd) {
		const uint32_t *a = mcpg_command_backend_args(c->img, cmd, &n);

		for (uint32_t i = 0; i < n; i++)
			check_args(c, a[i], names, nnames, declared_in, 0);
	}
}

static void
template_arguments_declared(struct rule_ctx *c)
{
	for (size_t i = 0; i < c->nb && !c->d->stopped; i++) {
		const struct binding *b = &c->b[i];

		if (b->kind == B_PROMPT) {
			const struct mcpg_prompt *p = b->rec;
			uint32_t na, nm;
			const struct mcpg_prompt_argument *a =
				mcpg_prompt_prompt_arguments(c->img, p, &na);
			const struct mcpg_prompt_message *m = mcpg_prompt_messages(c->img, p, &nm);
			const char **names = mcc_alloc((na + 1) * sizeof(*names));
			const char *in = b->name
				? mcc_printf("names no argument of prompt '%s'", b->name)
				: "names no argument of the prompt";

			for (uint32_t k = 0; k < na; k++)
				names[k] = mcpg_str(c->img, a[k].name);
			for (uint32_t k = 0; k < nm; k++)
				check_args(c, m[k].text, names, na, in, 0);
		} else if (b->kind == B_TEMPLATE) {
			const struct mcpg_resource_template *rt = b->rec;
			const char *ut = mcpg_str(c->img, rt->uri_template), **vars;
			size_t nv = uri_template_vars(ut, &vars);

			check_backend_args(c, b->backend, vars, nv,
					   mcc_printf("is not a variable of uri_template '%s'",
						      ut));
		} else if (b->kind == B_RESOURCE) {
			check_backend_args(c, b->backend, NULL, 0,
					   "is not available: a resource with a fixed uri has no "
					   "arguments (use a resource template)");
		}
	}
}

static void
check_codes(struct rule_ctx *c, const struct binding *b, const char *key,
	    const uint64_t *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const char *ip;

		if (v[i] >= 100 && v[i] <= 599)
			continue;
		ip = mcc_printf("%s[%u]", bpath(b, key), i);
		mcc_error(c->d, rule_loc(c, ip), "'%s': %llu is not an HTTP status (100..599)",
			  ip, (unsigned long long)v[i]);
	}
}

static void
status_codes_valid(struct rule_ctx *c)
{
	for (size_t i = 0; i < c->nb && !c->d->stopped; i++) {
		const struct binding *b = &c->b[i];
		const struct mcpg_http_backend *h =
			b->backend ? mcpg_backend_http(c->img, b->backend) : NULL;
		const uint64_t *v;
		uint32_t n;

		if (b->retry) {
			v = mcpg_retry_retry_on_status_codes(c->img, b->retry, &n);
			check_codes(c, b, "retry.retry_on_status_codes", v, n);
		}
		if (h) {
			v = mcpg_http_backend_expected_status_codes(c->img, h, &n);
			check_codes(c, b, "backend.expected_status_codes", v, n);
		}
	}
}

static void
mock_passthrough_shape(struct rule_ctx *c)
{
	for (size_t i = 0; i < c->nb && !c->d->stopped; i++) {
		const struct binding *b = &c->b[i];
		const struct mcpg_mock_backend *m =
			b->backend ? mcpg_backend_mock(c->img, b->backend) : NULL;
		const char *field = b->kind == B_TOOL ? "content" : "contents";
		const char *rp, *resp, *got;
		json_t *j;

		if (!m || !m->passthrough)
			continue;
		resp = mcpg_str(c->img, m->response);
		j = resp ? json_loads(resp, JSON_DECODE_ANY, NULL) : NULL;
		if (json_is_object(j) && json_is_array(json_object_get(j, field))) {
			json_decref(j);
			continue;
		}
		rp = bpath(b, "backend.response");
		if (json_is_object(j))
			got = mcc_printf("an object without a \"%s\" array", field);
		else
			got = j ? json_kind(j) : "null";
		mcc_error(c->d, rule_loc(c, rp),
			  "'%s': passthrough needs an object with a \"%s\" array (a %s), got %s%s",
			  rp, field, b->kind == B_TOOL ? "CallToolResult" : "ReadResourceResult",
			  got, dflt(c, rp));
		note_set(c, bpath(b, "backend.passthrough"));
		json_decref(j);
	}
}

static void
check_schema(struct rule_ctx *c, const struct binding *b, const char *key, const char *json)
{
	json_t *j = json ? json_loads(json, JSON_DECODE_ANY, NULL) : NULL;
	const json_t *type = json_object_get(j, "type");
	const char *path, *tp;

	if (!json || (json_is_string(type) && !strcmp(json_string_value(type), "object"))) {
		json_decref(j);
		return;
	}
	path = bpath(b, key);
	tp = mcc_path_key(path, "type");
	if (!json_is_object(j))
		mcc_error(c->d, rule_loc(c, path),
			  "'%s': expected a JSON Schema object with \"type\": \"object\", got %s",
			  path, j ? json_kind(j) : "null");
	else if (!type)
		mcc_error(c->d, rule_loc(c, path), "'%s' needs \"type\": \"object\"", path);
	else if (!json_is_string(type) || strcmp(json_string_value(type), "object"))
		mcc_error(c->d, rule_loc(c, tp), "'%s': expected \"object\", got %s", tp,
			  json_is_string(type) ? mcc_printf("\"%s\"", json_string_value(type))
					       : json_kind(type));
	json_decref(j);
}

/*
 * Whether the mapping a layer set at `key` of `tool` has "type": "object".
 * Then the JSON stored for it (json.c writes the tree as it is) is an
 * object whose "type" is "object", and check_schema() would find nothing
 * to report: this spares parsing every stored schema again.  Anything
 * else, including a value no layer set, goes to check_schema().
 */
static int
is_object_schema(const struct mcc_node *tool, const char *key)
{
	const struct mcc_node *n = mcc_node_get(tool, key);
	const struct mcc_node *type = n && n->kind == MCC_N_MAP ? mcc_node_get(n, "type") : NULL;

	return type && type->kind == MCC_N_SCALAR && type->type == MCC_T_STR &&
	       type->len == 6 && !memcmp(type->text, "object", 6);
}

static void
tool_schemas_are_objects(struct rule_ctx *c)
{
	/* The tools as written; the image's list was lowered from it. */
	const struct mcc_node *tools = node_at(c, "mcp.capabilities.tools");

	if (tools && tools->kind != MCC_N_SEQ)
		tools = NULL;
	for (size_t i = 0; i < c->nb && !c->d->stopped; i++) {
		const struct mcpg_tool *t = c->b[i].rec;
		const struct mcc_node *tn;

		if (c->b[i].kind != B_TOOL)
			continue;
		tn = tools && c->b[i].index < tools->nr ? tools->items[c->b[i].index] : NULL;
		if (!is_object_schema(tn, "input_schema"))
			check_schema(c, &c->b[i], "input_schema",
				     mcpg_tool_input_schema(c->img, t));
		if (!is_object_schema(tn, "output_schema"))
			check_schema(c, &c->b[i], "output_schema",
				     mcpg_tool_output_schema(c->img, t));
	}
}

/* ---- The table ------------------------------------------------------------ */

typedef void rule_fn(struct rule_ctx *c);

#define RULE(name) { #name, name }

/* In schema order. */
static const struct {
	const char *name;
	rule_fn *fn;
} rules[] = {
	RULE(anonymous_needs_loopback),
	RULE(routes_distinct),
	RULE(subject_header_needs_proxy),
	RULE(client_cert_needs_ca),
	RULE(plaintext_coordinator_needs_ack),
	RULE(redis_tls_needs_rediss),
	RULE(jwks_xor_oidc),
	RULE(jwks_needs_key_source),
	RULE(jwks_keys_usable),
	RULE(jwks_audience_required),
	RULE(oidc_audience_required),
	RULE(hmac_needs_allow),
	RULE(audit_required_needs_sink),
	RULE(trust_floor_reachable),
	RULE(unique_binding_names),
	RULE(upstream_prefix_disjoint),
	RULE(retry_only_for_http),
	RULE(http_url_static_origin),
	RULE(template_arguments_declared),
	RULE(status_codes_valid),
	RULE(mock_passthrough_shape),
	RULE(tool_schemas_are_objects),
	{ NULL, NULL },
};

int
mcc_rule_implemented(const char *name)
{
	for (size_t i = 0; rules[i].name; i++)
		if (!strcmp(rules[i].name, name))
			return 1;
	return 0;
}

const char *
mcc_rule_name(size_t i)
{
	return i < sizeof(rules) / sizeof(*rules) ? rules[i].name : NULL;
}

int
mcc_rules_run(const struct mcpg_image *img, const struct mcc_node *root,
	      unsigned vflags, struct mcc_diag *d)
{
	struct rule_ctx c = { img, NULL, root, vflags, d, NULL, 0 };
	int before = d->nerrors;

	if (img->schema->hash != MCPG_SCHEMA_HASH)
		return 0;
	c.cfg = mcpg_root(img);
	collect_bindings(&c);
	for (size_t i = 0; rules[i].name && !d->stopped; i++)
		rules[i].fn(&c);
	return d->nerrors - before;
}

const char *
mcc_config_summary(const struct mcpg_image *img)
{
	const struct mcpg_config *cfg;
	const struct mcpg_capabilities *caps;
	const char *cluster = "single_node";
	uint32_t n = 0, bindings = 0, upstreams = 0;

	if (img->schema->hash != MCPG_SCHEMA_HASH)
		return "";
	cfg = mcpg_root(img);
	caps = &cfg->mcp.capabilities;
	mcpg_capabilities_tools(img, caps, &n);
	bindings += n;
	mcpg_capabilities_resources(img, caps, &n);
	bindings += n;
	mcpg_capabilities_resource_templates(img, caps, &n);
	bindings += n;
	mcpg_capabilities_prompts(img, caps, &n);
	bindings += n;
	mcpg_mcp_upstreams(img, &cfg->mcp, &upstreams);
	switch (mcpg_cluster_tag(img, &cfg->cluster)) {
	case MCPG_CLUSTER_REDIS:
		cluster = "redis";
		break;
	case MCPG_CLUSTER_NATS:
		cluster = "nats";
		break;
	default:
		cluster = "single_node";
		break;
	}
	return mcc_printf("(%u binding%s%s, audit %s, observability %s, cluster: %s)",
			  bindings, bindings == 1 ? "" : "s",
			  upstreams ? mcc_printf(", %u upstream%s", upstreams,
						 upstreams == 1 ? "" : "s") : "",
			  cfg->governance.audit.enabled ? "on" : "off",
			  cfg->observability.enabled ? "on" : "off", cluster);
}
