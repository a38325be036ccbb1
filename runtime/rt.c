/*
 * rt.c - load, publish and share the live configuration (see rt.h).
 *
 * Loading maps and verifies the image, resolves ${env.*}, checks again the
 * formats and rules whose inputs were hidden behind variables, and derives
 * the binding table: one entry per tool, resource, resource template and
 * prompt, each with its tools/list (etc.) entry pre-serialised once, and an
 * open-addressing index by name.
 *
 * Sharing without a lock.  The published snapshot is an atomic pointer.  A
 * reader must not increment the reference count of a snapshot that is being
 * freed, so acquire() announces itself in one of two "readers in acquire"
 * counters (picked by the epoch) before it loads the pointer, and publish()
 * swaps the pointer, flips the epoch and waits until the old epoch's counter
 * is zero before it hands the old snapshot back.  Every reader that could
 * have loaded the old pointer has then taken its reference.  acquire() costs
 * three uncontended atomic adds; release() one.
 */
#include "rt.h"

#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "format.h"
#include "identity.h"
#include "jsonw.h"
#include "schema_desc.h"

static _Atomic(struct mcpg_rt *) current;
static atomic_uint epoch;
static atomic_long in_acquire[2];

/* ------------------------------------------------------------------------
 * ${env.*}
 */

struct load {
	struct mcpg_rt *rt;
	char *err;
	size_t errlen;
	int failed;
};

static void
lfail(struct load *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
lfail(struct load *L, const char *fmt, ...)
{
	va_list ap;

	if (L->failed++)
		return;
	va_start(ap, fmt);
	vsnprintf(L->err, L->errlen, fmt, ap);
	va_end(ap);
}

static const char *
pool(const struct mcpg_image *img, uint32_t ref)
{
	return (const char *)img->strs + ref + 4;
}

static int
resolve_ipol(struct load *L)
{
	struct mcpg_image *img = &L->rt->img;
	const char **out;

	if (!img->ipol_nr)
		return 0;
	out = calloc(img->ipol_nr, sizeof(*out));
	if (!out) {
		lfail(L, "out of memory");
		return -1;
	}
	L->rt->ipol = out;
	L->rt->nipol = img->ipol_nr;
	for (uint32_t i = 0; i < img->ipol_nr; i++) {
		const struct mcpg_img_ipol *e = &img->ipol[i];
		struct strbuf sb = STRBUF_INIT;

		for (uint32_t s = 0; s < e->seg_n; s++) {
			const struct mcpg_img_seg *seg = &img->segs[e->seg_off + s];
			const char *text = pool(img, seg->str);

			if (seg->kind == MCPG_SEG_ENV) {
				const char *v = getenv(text);

				if (!v) {
					lfail(L, "'%s': environment variable '%s' is not set",
					      pool(img, e->key), text);
					strbuf_release(&sb);
					return -1;
				}
				strbuf_addstr(&sb, v);
			} else {
				strbuf_addstr(&sb, text);
			}
		}
		out[i] = strbuf_detach(&sb, NULL);
	}
	img->ipol_resolved = out;
	return 0;
}

/* Request-time templates may name ${env.X} too: it must be set at boot. */
static int
check_tmpl_env(struct load *L)
{
	const struct mcpg_image *img = &L->rt->img;

	for (uint32_t i = 0; i < img->tmpl_nr; i++) {
		const struct mcpg_img_tmpl *t = &img->tmpl[i];

		for (uint32_t s = 0; s < t->seg_n; s++) {
			const struct mcpg_img_seg *seg = &img->segs[t->seg_off + s];

			if (seg->kind == MCPG_SEG_ENV && !getenv(pool(img, seg->str))) {
				lfail(L, "'%s': environment variable '%s' is not set",
				      pool(img, t->key), pool(img, seg->str));
				return -1;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Formats of resolved strings: walk the records with the descriptor tables
 * and check every string that came from IPOL against its field's format.
 */

static uint32_t
round_up(uint32_t n, uint32_t a)
{
	return (n + a - 1) / a * a;
}

static void
walk_slot(struct load *L, uint16_t t, uint32_t at, const struct mcpg_field *f, int depth)
{
	const struct mcpg_schema *S = &mcpg_schema;
	const struct mcpg_type *ty = &S->types[t];
	const struct mcpg_image *img = &L->rt->img;
	const unsigned char *p = img->data + at;
	uint32_t r;

	if (L->failed || depth > MCPG_VERIFY_MAX_DEPTH)
		return;
	switch (ty->kind) {
	case MCPG_K_STRING:
		r = mcpg_le32(p);
		if ((r & MCPG_STRREF_IPOL) && f && f->format != MCPG_FMT_NONE) {
			uint32_t i = r & ~MCPG_STRREF_IPOL;
			const char *why = NULL;
			const char *v = img->ipol_resolved[i];

			if (mcpg_format_check(f->format, v, f->schemes, &why) < 0) {
				if (f->flags & MCPG_F_SENSITIVE)
					lfail(L, "'%s': the value from the environment is not a %s: %s",
					      pool(img, img->ipol[i].key),
					      mcpg_format_name(f->format), why ? why : "malformed");
				else
					lfail(L, "'%s': '%s' from the environment is not a %s: %s",
					      pool(img, img->ipol[i].key), v,
					      mcpg_format_name(f->format), why ? why : "malformed");
			}
		}
		return;
	case MCPG_K_STRUCT:
		for (uint32_t i = ty->first; i < (uint32_t)ty->first + ty->count; i++)
			walk_slot(L, S->fields[i].type, at + S->fields[i].offset, &S->fields[i],
				  depth + 1);
		return;
	case MCPG_K_OPTIONAL:
		if (S->types[ty->elem].kind != MCPG_K_STRUCT) {
			walk_slot(L, ty->elem, at, f, depth);
			return;
		}
		r = mcpg_le32(p);
		if (r)
			walk_slot(L, ty->elem, r, f, depth + 1);
		return;
	case MCPG_K_UNION: {
		uint32_t tag = mcpg_le32(p);
		const struct mcpg_variant *var;

		r = mcpg_le32(p + 4);
		if (!tag || !r)
			return;
		var = &S->variants[ty->first + tag - 1];
		if (var->type)
			walk_slot(L, var->type, r, f, depth + 1);
		return;
	}
	case MCPG_K_LIST:
	case MCPG_K_MAP: {
		const struct mcpg_type *et = &S->types[ty->elem];
		uint32_t count = mcpg_le32(p + 4), voff = 0;
		uint32_t stride = round_up(et->size, et->align);

		r = mcpg_le32(p);
		if (ty->kind == MCPG_K_MAP) {
			voff = et->align == 8 ? 8 : 4;
			stride = round_up(voff + et->size, et->align > 4 ? et->align : 4);
		}
		for (uint32_t i = 0; i < count; i++)
			walk_slot(L, ty->elem, r + i * stride + voff, f, depth + 1);
		return;
	}
	default:
		return;
	}
}

/* ------------------------------------------------------------------------
 * Rules whose inputs may come from the environment (compiler/rules.c checks
 * the literal ones; these see the resolved text).
 */

static const char *
authority(const char *url, char *buf, size_t len)
{
	const char *p = strstr(url, "://"), *end;

	if (!p)
		return NULL;
	p += 3;
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)))
		p = (const char *)memchr(p, '@', (size_t)(end - p)) + 1;
	if ((size_t)(end - p) >= len)
		return NULL;
	memcpy(buf, p, (size_t)(end - p));
	buf[end - p] = '\0';
	return buf;
}

static int
has_prefix_ci(const char *s, const char *prefix)
{
	return s && !strncasecmp(s, prefix, strlen(prefix));
}

static void
check_rules(struct load *L)
{
	struct mcpg_rt *rt = L->rt;
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_config *cfg = rt->cfg;
	const struct mcpg_server *srv = &cfg->gateway.server;
	const char *bind = mcpg_server_bind_address(img, srv);
	const struct mcpg_access *a = &cfg->governance.access;
	const struct mcpg_redis_cluster *redis = mcpg_cluster_redis(img, &cfg->cluster);
	const struct mcpg_nats_cluster *nats = mcpg_cluster_nats(img, &cfg->cluster);
	char host[512];

	if (bind && !srv->allow_anonymous_public_bind && !mcpg_is_loopback_host(bind)) {
		int open = !(a->jwks || a->oidc_oauth || a->api_tokens) && !srv->trust_subject_header;
		uint32_t nu;
		const struct mcpg_upstream *u = mcpg_mcp_upstreams(img, &cfg->mcp, &nu);

		for (size_t i = 0; i < rt->nbindings && !open; i++)
			open = rt->bindings[i].governance->minimum_trust ==
			       MCPG_TRUST_LEVEL_UNAUTHENTICATED;
		for (uint32_t i = 0; i < nu && !open; i++)
			open = u[i].governance.minimum_trust == MCPG_TRUST_LEVEL_UNAUTHENTICATED;
		if (open)
			lfail(L, "'gateway.server.bind_address': anonymous access on non-loopback "
				 "address '%s' needs 'gateway.server.allow_anonymous_public_bind: true'",
			      bind);
	}
	if (redis) {
		const char *url = mcpg_redis_cluster_url(img, redis);

		if (!redis->allow_insecure_transport && has_prefix_ci(url, "redis://") &&
		    authority(url, host, sizeof(host)) && !mcpg_is_loopback_host(host))
			lfail(L, "'cluster.url': plaintext redis:// to non-loopback host '%s' needs "
				 "'cluster.allow_insecure_transport: true' (or use rediss://)", host);
		if (redis->tls && !has_prefix_ci(url, "rediss://"))
			lfail(L, "'cluster.tls' is only valid with a rediss:// url");
	}
	if (nats && !nats->allow_insecure_transport && !nats->tls.require_tls) {
		uint32_t n;
		const uint32_t *s = mcpg_nats_cluster_servers(img, nats, &n);

		for (uint32_t i = 0; i < n; i++) {
			const char *url = mcpg_str(img, s[i]);

			if (has_prefix_ci(url, "nats://") && authority(url, host, sizeof(host)) &&
			    !mcpg_is_loopback_host(host)) {
				lfail(L, "'cluster.tls.require_tls': false sends plaintext to "
					 "non-loopback server '%s' and needs "
					 "'cluster.allow_insecure_transport: true'", host);
				break;
			}
		}
	}
}

/* ------------------------------------------------------------------------
 * Bindings and their list entries
 */

static void
add_opt(struct strbuf *sb, const char *key, const char *v)
{
	if (!v)
		return;
	mcpg_jsonw_key(sb, key, 0);
	mcpg_jsonw_cstr(sb, v);
}

static void
tool_entry(const struct mcpg_image *img, const struct mcpg_tool *t, struct strbuf *sb)
{
	const struct mcpg_tool_annotations *an = mcpg_tool_annotations(img, t);
	const char *in = mcpg_tool_input_schema(img, t), *outs = mcpg_tool_output_schema(img, t);

	strbuf_addstr(sb, "{\"name\":");
	mcpg_jsonw_cstr(sb, mcpg_tool_name(img, t));
	add_opt(sb, "title", mcpg_tool_title(img, t));
	add_opt(sb, "description", mcpg_tool_description(img, t));
	strbuf_addstr(sb, ",\"inputSchema\":");
	strbuf_addstr(sb, in ? in : "{\"type\":\"object\"}");
	if (outs) {
		strbuf_addstr(sb, ",\"outputSchema\":");
		strbuf_addstr(sb, outs);
	}
	if (an && an->set) {
		static const struct {
			const char *name;
			int bit;
			size_t off;
		} hints[] = {
			{ "readOnlyHint", 0, offsetof(struct mcpg_tool_annotations, read_only) },
			{ "destructiveHint", 1, offsetof(struct mcpg_tool_annotations, destructive) },
			{ "idempotentHint", 2, offsetof(struct mcpg_tool_annotations, idempotent) },
			{ "openWorldHint", 3, offsetof(struct mcpg_tool_annotations, open_world) },
		};
		int first = 1;

		strbuf_addstr(sb, ",\"annotations\":{");
		for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
			if (!(an->set >> hints[i].bit & 1))
				continue;
			mcpg_jsonw_key(sb, hints[i].name, first);
			first = 0;
			strbuf_addstr(sb, ((const uint8_t *)an)[hints[i].off] ? "true" : "false");
		}
		strbuf_addch(sb, '}');
	}
	strbuf_addch(sb, '}');
}

static void
resource_entry(const struct mcpg_image *img, const struct mcpg_resource *r, struct strbuf *sb)
{
	strbuf_addstr(sb, "{\"uri\":");
	mcpg_jsonw_cstr(sb, mcpg_resource_uri(img, r));
	add_opt(sb, "name", mcpg_resource_name(img, r));
	add_opt(sb, "title", mcpg_resource_title(img, r));
	add_opt(sb, "description", mcpg_resource_description(img, r));
	add_opt(sb, "mimeType", mcpg_resource_mime_type(img, r));
	strbuf_addch(sb, '}');
}

static void
template_entry(const struct mcpg_image *img, const struct mcpg_resource_template *r,
	       struct strbuf *sb)
{
	strbuf_addstr(sb, "{\"uriTemplate\":");
	mcpg_jsonw_cstr(sb, mcpg_resource_template_uri_template(img, r));
	add_opt(sb, "name", mcpg_resource_template_name(img, r));
	add_opt(sb, "title", mcpg_resource_template_title(img, r));
	add_opt(sb, "description", mcpg_resource_template_description(img, r));
	add_opt(sb, "mimeType", mcpg_resource_template_mime_type(img, r));
	strbuf_addch(sb, '}');
}

static void
prompt_entry(const struct mcpg_image *img, const struct mcpg_prompt *p, struct strbuf *sb)
{
	uint32_t na;
	const struct mcpg_prompt_argument *args = mcpg_prompt_prompt_arguments(img, p, &na);

	strbuf_addstr(sb, "{\"name\":");
	mcpg_jsonw_cstr(sb, mcpg_prompt_name(img, p));
	add_opt(sb, "title", mcpg_prompt_title(img, p));
	add_opt(sb, "description", mcpg_prompt_description(img, p));
	strbuf_addstr(sb, ",\"arguments\":[");
	for (uint32_t i = 0; i < na; i++) {
		if (i)
			strbuf_addch(sb, ',');
		strbuf_addstr(sb, "{\"name\":");
		mcpg_jsonw_cstr(sb, mcpg_prompt_argument_name(img, &args[i]));
		add_opt(sb, "description", mcpg_prompt_argument_description(img, &args[i]));
		strbuf_addstr(sb, args[i].required ? ",\"required\":true}" : ",\"required\":false}");
	}
	strbuf_addstr(sb, "]}");
}

/*
 * Hash of a binding name for the by-name index, eight bytes at a time: at
 * boot every binding's name is hashed, and a byte-at-a-time hash was most
 * of building the index of a 10,000-tool image.
 */
static uint32_t
hash_name(const char *s)
{
	size_t n = strlen(s);
	uint64_t h = 0x9e3779b97f4a7c15u ^ n, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	h ^= h >> 29;
	return (uint32_t)h;
}

/*
 * The tools/list, resources/list ... entries, built on the first list
 * request rather than at load: a 10,000-tool image boots without them.
 */
void
mcpg_rt_lists(struct mcpg_rt *rt)
{
	const struct mcpg_image *img = &rt->img;
	struct strbuf all = STRBUF_INIT;
	size_t n = rt->nbindings, *offs;

	if (atomic_load_explicit(&rt->lists_ready, memory_order_acquire))
		return;
	pthread_mutex_lock(&rt->lists_lock);
	if (atomic_load_explicit(&rt->lists_ready, memory_order_relaxed)) {
		pthread_mutex_unlock(&rt->lists_lock);
		return;
	}
	offs = calloc(n + 1, sizeof(*offs));
	/* The entries are mostly the image's own strings: size the buffer once. */
	strbuf_grow(&all, img->strs_len + 64 * n);
	for (size_t k = 0; offs && k < n; k++) {
		const struct mcpg_binding *b = &rt->bindings[k];

		offs[k] = all.len;
		switch (b->kind) {
		case MCPG_B_TOOL:
			tool_entry(img, b->tool, &all);
			break;
		case MCPG_B_RESOURCE:
			resource_entry(img, b->resource, &all);
			break;
		case MCPG_B_RESOURCE_TEMPLATE:
			template_entry(img, b->resource_template, &all);
			break;
		case MCPG_B_PROMPT:
			prompt_entry(img, b->prompt, &all);
			break;
		}
	}
	if (offs) {
		offs[n] = all.len;
		rt->lists_text = strbuf_detach(&all, NULL);
		for (size_t i = 0; i < n; i++) {
			rt->bindings[i].list_json = rt->lists_text + offs[i];
			rt->bindings[i].list_json_len = offs[i + 1] - offs[i];
		}
	} else {
		strbuf_release(&all); /* out of memory: empty entries */
	}
	free(offs);
	atomic_store_explicit(&rt->lists_ready, 1, memory_order_release);
	pthread_mutex_unlock(&rt->lists_lock);
}

static int
build_bindings(struct load *L)
{
	struct mcpg_rt *rt = L->rt;
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_capabilities *caps = &rt->cfg->mcp.capabilities;
	uint32_t nt, nr, nrt, np;
	const struct mcpg_tool *tools = mcpg_capabilities_tools(img, caps, &nt);
	const struct mcpg_resource *res = mcpg_capabilities_resources(img, caps, &nr);
	const struct mcpg_resource_template *tpl =
		mcpg_capabilities_resource_templates(img, caps, &nrt);
	const struct mcpg_prompt *prompts = mcpg_capabilities_prompts(img, caps, &np);
	size_t n = (size_t)nt + nr + nrt + np, k = 0;

	rt->bindings = calloc(n ? n : 1, sizeof(*rt->bindings));
	if (!rt->bindings) {
		lfail(L, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < nt; i++, k++) {
		struct mcpg_binding *b = &rt->bindings[k];

		b->kind = MCPG_B_TOOL;
		b->name = mcpg_tool_name(img, &tools[i]);
		b->governance = &tools[i].governance;
		b->backend = &tools[i].backend;
		b->retry = mcpg_tool_retry(img, &tools[i]);
		b->tool = &tools[i];
	}
	for (uint32_t i = 0; i < nr; i++, k++) {
		struct mcpg_binding *b = &rt->bindings[k];

		b->kind = MCPG_B_RESOURCE;
		b->name = mcpg_resource_name(img, &res[i]);
		b->governance = &res[i].governance;
		b->backend = &res[i].backend;
		b->retry = mcpg_resource_retry(img, &res[i]);
		b->resource = &res[i];
	}
	for (uint32_t i = 0; i < nrt; i++, k++) {
		struct mcpg_binding *b = &rt->bindings[k];

		b->kind = MCPG_B_RESOURCE_TEMPLATE;
		b->name = mcpg_resource_template_name(img, &tpl[i]);
		b->governance = &tpl[i].governance;
		b->backend = &tpl[i].backend;
		b->retry = mcpg_resource_template_retry(img, &tpl[i]);
		b->resource_template = &tpl[i];
	}
	for (uint32_t i = 0; i < np; i++, k++) {
		struct mcpg_binding *b = &rt->bindings[k];

		b->kind = MCPG_B_PROMPT;
		b->name = mcpg_prompt_name(img, &prompts[i]);
		b->governance = &prompts[i].governance;
		b->prompt = &prompts[i];
	}
	rt->nbindings = n;

	rt->by_name_size = 16;
	while (rt->by_name_size < 2 * n)
		rt->by_name_size *= 2;
	/*
	 * Zeroed by writing, not calloc: the probes below read a slot before
	 * writing it, and a read of fresh calloc'd memory maps the shared zero
	 * page, so the write that follows is a copy-on-write fault whose TLB
	 * flush interrupts every other CPU the process runs on (at boot, the
	 * one hashing the image): 32 of them cost 0.5 ms on a 10,000-tool image.
	 */
	rt->by_name = malloc(rt->by_name_size * sizeof(*rt->by_name));
	if (!rt->by_name) {
		lfail(L, "out of memory");
		return -1;
	}
	memset(rt->by_name, 0, rt->by_name_size * sizeof(*rt->by_name));
	for (size_t i = 0; i < n; i++) {
		size_t mask = rt->by_name_size - 1, h;

		/* The names lie far apart in the pool: ask for them ahead. */
		if (i + 16 < n)
			__builtin_prefetch(rt->bindings[i + 16].name);
		h = hash_name(rt->bindings[i].name) & mask;

		while (rt->by_name[h])
			h = (h + 1) & mask;
		rt->by_name[h] = (uint32_t)i + 1;
	}
	return 0;
}

static void
rt_free(struct mcpg_rt *rt)
{
	if (!rt)
		return;
	if (rt->ipol)
		for (uint32_t i = 0; i < rt->nipol; i++)
			free((void *)rt->ipol[i]);
	free(rt->ipol);
	free(rt->lists_text);
	if (rt->lists_init)
		pthread_mutex_destroy(&rt->lists_lock);
	for (size_t i = 0; rt->bindings && i < rt->nbindings; i++)
		mcpg_backend_mock_cache_free(rt->bindings[i].mock_cache);
	free(rt->bindings);
	free(rt->by_name);
	mcpg_identity_free(rt);
	mcpg_image_close(&rt->img);
	free(rt);
}

/* The snapshot's own part of loading, once the image's structure is sound:
 * it runs while the image is still being hashed (mcpg_image_open_prepared). */
static int
prepare(void *ctx)
{
	struct load *L = ctx;
	struct mcpg_rt *rt = L->rt;

	rt->cfg = mcpg_cfg(&rt->img);
	if (resolve_ipol(L) < 0 || check_tmpl_env(L) < 0)
		return -1;
	if (rt->img.ipol_nr) /* only values from the environment need a second look */
		walk_slot(L, mcpg_schema.root, MCPG_IMG_ROOT_REF, NULL, 0);
	if (L->failed || build_bindings(L) < 0)
		return -1;
	check_rules(L);
	return L->failed ? -1 : 0;
}

struct mcpg_rt *
mcpg_rt_load(const char *path, char *err, size_t errlen)
{
	struct mcpg_verify_error verr;
	struct load L = { NULL, err, errlen, 0 };
	struct mcpg_rt *rt = calloc(1, sizeof(*rt));
	int rc;

	if (!rt) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	L.rt = rt;
	pthread_mutex_init(&rt->lists_lock, NULL);
	rt->lists_init = 1;
	atomic_init(&rt->refs, 1);
	snprintf(rt->path, sizeof(rt->path), "%s", path);
	rc = mcpg_image_open_prepared(&rt->img, path, &mcpg_schema, prepare, &L, &verr);
	if (rc == -1)
		snprintf(err, errlen, "%s", verr.msg);
	/* Key sets and the token index come from the image: only once it is whole. */
	if (rc < 0 || mcpg_identity_load(rt, err, errlen) < 0) {
		rt_free(rt);
		return NULL;
	}
	return rt;
}

struct mcpg_rt *
mcpg_rt_acquire(void)
{
	unsigned e;
	struct mcpg_rt *rt;

	/*
	 * Announce the read in the slot of the current epoch's parity, then
	 * check the parity did not change meanwhile: a reader that announced
	 * itself in a stale slot would not be waited for by the next publish,
	 * which could free the snapshot before this reference is taken.
	 */
	for (;;) {
		e = atomic_load(&epoch) & 1;
		atomic_fetch_add(&in_acquire[e], 1);
		if ((atomic_load(&epoch) & 1) == e)
			break;
		atomic_fetch_sub_explicit(&in_acquire[e], 1, memory_order_release);
	}
	rt = atomic_load(&current);
	if (rt)
		atomic_fetch_add_explicit(&rt->refs, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&in_acquire[e], 1, memory_order_release);
	return rt;
}

void
mcpg_rt_release(struct mcpg_rt *rt)
{
	if (rt && atomic_fetch_sub_explicit(&rt->refs, 1, memory_order_acq_rel) == 1)
		rt_free(rt);
}

struct mcpg_rt *
mcpg_rt_publish(struct mcpg_rt *next)
{
	struct mcpg_rt *old;
	unsigned e;

	if (next) {
		old = atomic_load(&current);
		next->generation = old ? old->generation + 1 : 1;
	}
	old = atomic_exchange(&current, next);
	e = atomic_fetch_add(&epoch, 1) & 1;
	/* Readers of the old epoch may hold the old pointer without a reference yet. */
	while (atomic_load_explicit(&in_acquire[e], memory_order_acquire))
		sched_yield();
	return old;
}

const struct mcpg_binding *
mcpg_rt_find(const struct mcpg_rt *rt, const char *name)
{
	size_t mask, h;

	if (!rt->by_name_size)
		return NULL;
	mask = rt->by_name_size - 1;
	for (h = hash_name(name) & mask; rt->by_name[h]; h = (h + 1) & mask) {
		const struct mcpg_binding *b = &rt->bindings[rt->by_name[h] - 1];

		if (!strcmp(b->name, name))
			return b;
	}
	return NULL;
}
