/*
 * fed.c - federation of upstream MCP servers (see fed.h): one supervisor
 * thread per upstream, the catalogue of what they offer, and forwarding of
 * client requests, notifications and server-initiated requests.
 *
 * Locks: mgr_lock (the upstream set) before an upstream's lock; cat_lock
 * only around the catalogue pointer.  No lock is held while talking to an
 * upstream.
 */
#include "fed.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend_int.h"
#include "cluster.h"
#include "jsonparse.h"
#include "fed_int.h"
#include "fedmap.h"
#include "jsonw.h"
#include "log.h"
#include "mcp.h"
#include "pool.h"

enum { ST_CONNECTING, ST_UP, ST_DOWN };
static const char *const state_names[] = { "connecting", "up", "down" };

enum { K_TOOLS, K_RESOURCES, K_TEMPLATES, K_PROMPTS, NK };
static const char *const list_methods[NK] = { "tools/list", "resources/list",
					      "resources/templates/list", "prompts/list" };
static const char *const list_keys[NK] = { "tools", "resources", "resourceTemplates", "prompts" };
static const char *const cap_keys[NK] = { "tools", "resources", "resources", "prompts" };
static const enum mcpg_binding_kind kinds[NK] = { MCPG_B_TOOL, MCPG_B_RESOURCE,
						  MCPG_B_RESOURCE_TEMPLATE, MCPG_B_PROMPT };

/* An upstream of the manager: the transport-neutral part plus supervisor state. */
struct up {
	struct fed_up u;    /* first: fed_up pointers are struct up pointers */
	char *fingerprint;  /* the config entry as text, to compare on reload */
	char **include, **exclude;
	pthread_t thread;
	int started;
	/* u.lock: */
	int state, lost, first_done;
	char error[256];
	int64_t since_ms;
	uint64_t connects, failures, calls;
	json_t *lists[NK];  /* what the upstream listed, its own names */
};

static pthread_mutex_t mgr_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mgr_cond = PTHREAD_COND_INITIALIZER;
static struct up **ups; /* mgr_lock */
static size_t nups;
static struct mcpg_rt *mgr_rt; /* the snapshot ups were configured from */

static pthread_mutex_t cat_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mcpg_fed_cat *cur_cat;

static atomic_llong next_id = 1;
static atomic_llong next_gwid = 1;

int64_t
fed_next_id(void)
{
	return atomic_fetch_add(&next_id, 1);
}

/* ------------------------------------------------------------------------
 * Small helpers shared with the transports
 */

void
fed_rq_error(struct fed_rq *rq, int code, int transport, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rq->message, sizeof(rq->message), fmt, ap);
	va_end(ap);
	rq->code = code;
	rq->transport = transport;
}

int
fed_rq_answer(struct fed_rq *rq, json_t *msg)
{
	json_t *id = json_object_get(msg, "id"), *err;

	if (!json_is_integer(id) || json_integer_value(id) != rq->id || json_object_get(msg, "method"))
		return 0;
	if (rq->result || rq->code)
		return 1;
	if ((err = json_object_get(msg, "error"))) {
		json_t *c = json_object_get(err, "code");
		const char *m = json_string_value(json_object_get(err, "message"));

		fed_rq_error(rq, json_is_integer(c) ? (int)json_integer_value(c) : -32603, 0, "%s",
			     m ? m : "upstream error");
		json_decref(rq->data);
		rq->data = json_incref(json_object_get(err, "data"));
	} else {
		json_t *r = json_object_get(msg, "result");

		rq->result = json_incref(r ? r : json_null());
	}
	return 1;
}

char *
fed_request_json(const struct fed_rq *rq)
{
	json_t *m = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", (json_int_t)rq->id,
			      "method", rq->method);
	char *s;

	if (rq->params)
		json_object_set(m, "params", rq->params);
	s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	return s;
}

static int64_t
now_ms(void)
{
	return mcpg_mono_ms();
}

void
fed_initialize_rq(struct fed_up *u, struct fed_rq *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->id = fed_next_id();
	rq->method = "initialize";
	rq->params = json_pack("{s:s,s:{s:{},s:{},s:{s:b}},s:{s:s,s:s}}", "protocolVersion",
			       MCPG_PV_LATEST, "capabilities", "sampling", "elicitation", "roots",
			       "listChanged", 1, "clientInfo", "name", "mcpg", "version",
			       MCPG_VERSION);
	rq->deadline_ms = mcpg_mono_ms() + (u->cfg.timeout_ms > 0 ? u->cfg.timeout_ms : 30000);
}

void
fed_cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_cond_timedwait(c, m, &ts);
}

int
fed_should_wake(struct fed_up *fu)
{
	int r;

	pthread_mutex_lock(&fu->lock);
	r = fu->stop || fu->refresh;
	pthread_mutex_unlock(&fu->lock);
	return r;
}

void
fed_lost(struct fed_up *fu)
{
	struct up *u = (struct up *)fu;

	pthread_mutex_lock(&fu->lock);
	u->lost = 1;
	pthread_cond_broadcast(&fu->cond);
	pthread_mutex_unlock(&fu->lock);
}

static void
kick(struct up *u)
{
	pthread_mutex_lock(&u->u.lock);
	u->u.refresh = 1;
	pthread_cond_broadcast(&u->u.cond);
	pthread_mutex_unlock(&u->u.lock);
}

static void
strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void
up_put(struct up *u)
{
	if (!u || atomic_fetch_sub(&u->u.refs, 1) != 1)
		return;
	if (u->u.ops && u->u.ops->free)
		u->u.ops->free(&u->u);
	for (int k = 0; k < NK; k++)
		json_decref(u->lists[k]);
	free(u->u.cfg.name);
	free(u->u.cfg.prefix);
	free(u->u.cfg.url);
	strv_free(u->u.cfg.headers);
	strv_free(u->u.cfg.argv);
	strv_free(u->u.cfg.envp);
	strv_free(u->include);
	strv_free(u->exclude);
	free(u->fingerprint);
	pthread_mutex_destroy(&u->u.lock);
	pthread_cond_destroy(&u->u.cond);
	free(u);
}

/* The running upstream called `name`, with a reference, or NULL. */
static struct up *
up_get(const char *name)
{
	struct up *u = NULL;

	pthread_mutex_lock(&mgr_lock);
	for (size_t i = 0; i < nups; i++)
		if (!strcmp(ups[i]->u.cfg.name, name)) {
			u = ups[i];
			atomic_fetch_add(&u->u.refs, 1);
			break;
		}
	pthread_mutex_unlock(&mgr_lock);
	return u;
}

/* ------------------------------------------------------------------------
 * The catalogue
 */

static void
cat_free(struct mcpg_fed_cat *cat)
{
	for (size_t i = 0; i < cat->n; i++) {
		free((char *)cat->items[i].b.name);
		free((char *)cat->items[i].b.list_json);
		free((char *)cat->items[i].orig);
		free((char *)cat->items[i].uri);
	}
	free(cat->items);
	free(cat->by_name);
	mcpg_rt_release(cat->rt);
	free(cat);
}

struct mcpg_fed_cat *
mcpg_fed_acquire(void)
{
	struct mcpg_fed_cat *cat;

	pthread_mutex_lock(&cat_lock);
	cat = cur_cat;
	if (cat)
		atomic_fetch_add(&cat->refs, 1);
	pthread_mutex_unlock(&cat_lock);
	return cat;
}

void
mcpg_fed_release(struct mcpg_fed_cat *cat)
{
	if (cat && atomic_fetch_sub(&cat->refs, 1) == 1)
		cat_free(cat);
}

static uint32_t
name_hash(const char *s, enum mcpg_binding_kind k)
{
	uint32_t h = 2166136261u ^ (uint32_t)k;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

const struct mcpg_fed_item *
mcpg_fed_find(const struct mcpg_fed_cat *cat, const char *name, enum mcpg_binding_kind kind)
{
	size_t mask, i;

	if (!cat || !cat->by_name_size)
		return NULL;
	mask = cat->by_name_size - 1;
	for (i = name_hash(name, kind) & mask; cat->by_name[i]; i = (i + 1) & mask) {
		const struct mcpg_fed_item *it = &cat->items[cat->by_name[i] - 1];

		if (it->b.kind == kind && !strcmp(it->b.name, name))
			return it;
	}
	return NULL;
}

int
mcpg_fed_allowed(const struct mcpg_fed_cat *cat, const struct mcpg_fed_item *it,
		 const struct mcpg_identity_view *id)
{
	return mcpg_authz_allowed(cat->rt, &it->b, id);
}

static int
name_wanted(const struct up *u, const char *name)
{
	int in = !u->include || !u->include[0];

	for (size_t i = 0; !in && u->include[i]; i++)
		in = !fnmatch(u->include[i], name, 0);
	for (size_t i = 0; in && u->exclude && u->exclude[i]; i++)
		in = fnmatch(u->exclude[i], name, 0) != 0;
	return in;
}

static char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Build a catalogue of the upstreams that are up (mgr_lock held). */
static struct mcpg_fed_cat *
cat_build(void)
{
	struct mcpg_fed_cat *cat = calloc(1, sizeof(*cat));
	const struct mcpg_upstream *ucfg;
	uint32_t nucfg;
	size_t cap = 0;

	if (!cat)
		return NULL;
	atomic_init(&cat->refs, 1);
	atomic_fetch_add(&mgr_rt->refs, 1);
	cat->rt = mgr_rt;
	ucfg = mcpg_mcp_upstreams(&mgr_rt->img, &mgr_rt->cfg->mcp, &nucfg);
	for (size_t ui = 0; ui < nups; ui++) {
		struct up *u = ups[ui];

		pthread_mutex_lock(&u->u.lock);
		for (int k = 0; u->state == ST_UP && k < NK; k++) {
			size_t i;
			json_t *e;

			json_array_foreach(u->lists[k], i, e) {
				const char *nm = json_string_value(json_object_get(e, "name"));
				const char *uri = json_string_value(json_object_get(
					e, k == K_TEMPLATES ? "uriTemplate" : "uri"));
				struct mcpg_fed_item *it;
				char *full;
				json_t *copy;
				size_t plen;

				if (!nm || ((k == K_RESOURCES || k == K_TEMPLATES) && !uri) ||
				    !name_wanted(u, nm))
					continue;
				plen = strlen(u->u.cfg.prefix);
				full = malloc(plen + strlen(nm) + 1);
				if (!full)
					continue;
				memcpy(full, u->u.cfg.prefix, plen);
				strcpy(full + plen, nm);
				/* Local bindings win; so does an earlier upstream. */
				if (mcpg_rt_find(mgr_rt, full) || ((k == K_TOOLS || k == K_PROMPTS) &&
								  mcpg_fed_find(cat, full, kinds[k]))) {
					free(full);
					continue;
				}
				if (cat->n == cap) {
					size_t ncap = cap ? cap * 2 : 64;
					struct mcpg_fed_item *ni = realloc(cat->items, ncap * sizeof(*ni));

					if (!ni) {
						free(full);
						continue;
					}
					cat->items = ni;
					cap = ncap;
				}
				it = &cat->items[cat->n];
				memset(it, 0, sizeof(*it));
				it->b.kind = kinds[k];
				it->b.name = full;
				it->b.governance = ui < nucfg ? &ucfg[ui].governance : NULL;
				it->up = (int)ui;
				it->upstream = u->u.cfg.name;
				it->orig = xstrdup(nm);
				it->uri = xstrdup(uri);
				copy = json_copy(e);
				json_object_set_new(copy, "name", json_string(full));
				it->b.list_json = json_dumps(copy, JSON_COMPACT);
				it->b.list_json_len = it->b.list_json ? strlen(it->b.list_json) : 0;
				json_decref(copy);
				if (!it->b.governance || !it->b.list_json) {
					free(full);
					free((char *)it->orig);
					free((char *)it->uri);
					free((char *)it->b.list_json);
					continue;
				}
				cat->n++;
				/* Re-index as we go: duplicates are looked up above. */
				if (cat->n * 2 > cat->by_name_size) {
					size_t sz = 64, mask;

					while (sz < cat->n * 4)
						sz *= 2;
					free(cat->by_name);
					cat->by_name = calloc(sz, sizeof(uint32_t));
					cat->by_name_size = cat->by_name ? sz : 0;
					mask = sz - 1;
					for (size_t j = 0; cat->by_name && j + 1 < cat->n; j++) {
						size_t h = name_hash(cat->items[j].b.name,
								     cat->items[j].b.kind) & mask;

						while (cat->by_name[h])
							h = (h + 1) & mask;
						cat->by_name[h] = (uint32_t)(j + 1);
					}
				}
				if (cat->by_name) {
					size_t mask = cat->by_name_size - 1;
					size_t h = name_hash(full, it->b.kind) & mask;

					while (cat->by_name[h])
						h = (h + 1) & mask;
					cat->by_name[h] = (uint32_t)cat->n;
				}
			}
		}
		pthread_mutex_unlock(&u->u.lock);
	}
	return cat;
}

/* Whether the names of `kmask` kinds differ between two catalogues (either may be NULL). */
static int
cat_differ(const struct mcpg_fed_cat *a, const struct mcpg_fed_cat *b, unsigned kmask)
{
	return mcpg_mcp_names_differ(a && a->n ? &a->items[0].b : NULL, a ? a->n : 0,
				     sizeof(struct mcpg_fed_item), b && b->n ? &b->items[0].b : NULL,
				     b ? b->n : 0, sizeof(struct mcpg_fed_item), kmask);
}

/* Rebuild and swap the catalogue; tell clients what changed (mgr_lock held). */
static void
publish(void)
{
	struct mcpg_fed_cat *next = mgr_rt ? cat_build() : NULL, *old;

	if (mgr_rt && !next)
		return;
	pthread_mutex_lock(&cat_lock);
	old = cur_cat;
	cur_cat = next;
	pthread_mutex_unlock(&cat_lock);
	mcpg_mcp_list_changed(cat_differ(old, next, 1u << MCPG_B_TOOL),
			      cat_differ(old, next, (1u << MCPG_B_RESOURCE) |
							    (1u << MCPG_B_RESOURCE_TEMPLATE)),
			      cat_differ(old, next, 1u << MCPG_B_PROMPT));
	mcpg_fed_release(old);
}

static void
publish_locked_by_caller(void)
{
	pthread_mutex_lock(&mgr_lock);
	publish();
	pthread_mutex_unlock(&mgr_lock);
}

/* ------------------------------------------------------------------------
 * Subscriptions: "sub\x1fUPSTREAM\x1fURI\x1fSESSION" keys of fedmap.h
 */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Send `method` {uri} to the upstream and wait up to 5 s; the answer does not matter. */
static void
uri_request(struct up *u, const char *method, const char *uri)
{
	struct fed_rq rq;
	json_t *params = json_pack("{s:s}", "uri", uri);

	memset(&rq, 0, sizeof(rq));
	rq.id = fed_next_id();
	rq.method = method;
	rq.params = params;
	rq.deadline_ms = now_ms() + 5000;
	u->u.ops->request(&u->u, &rq);
	json_decref(rq.result);
	json_decref(rq.data);
	json_decref(params);
}

/* What collect_part gathers: after the last separator (skip 0: the
 * session), or from `skip` up to it (the URI). */
struct sub_hit {
	char **sids;
	size_t n, cap, skip;
};

static void
collect_part(const char *key, const char *val, void *arg)
{
	struct sub_hit *h = arg;
	const char *last = strrchr(key, '\x1f');

	(void)val;
	if (!last || (h->skip && key + h->skip > last))
		return;
	if (h->n == h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 8;
		char **ns = realloc(h->sids, nc * sizeof(*ns));

		if (!ns)
			return;
		h->sids = ns;
		h->cap = nc;
	}
	h->sids[h->n] = h->skip ? strndup(key + h->skip, (size_t)(last - key - h->skip))
				: strdup(last + 1);
	if (h->sids[h->n])
		h->n++;
}

static void
sub_hit_free(struct sub_hit *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->sids[i]);
	free(h->sids);
}

/* A new upstream session knows nothing of the subscriptions: make them again. */
static void
resubscribe(struct up *u)
{
	struct strbuf pre = STRBUF_INIT;
	struct sub_hit h = { NULL, 0, 0, 0 };

	strbuf_addf(&pre, "sub\x1f%s\x1f", u->u.cfg.name);
	h.skip = pre.len;
	mcpg_fedmap_scan(pre.buf, NULL, 0, collect_part, &h);
	strbuf_release(&pre);
	if (h.n)
		qsort(h.sids, h.n, sizeof(*h.sids), cmp_str);
	for (size_t i = 0; i < h.n; i++)
		if (!i || strcmp(h.sids[i], h.sids[i - 1]))
			uri_request(u, "resources/subscribe", h.sids[i]);
	sub_hit_free(&h);
}

/* ------------------------------------------------------------------------
 * Supervisor: connect, discover, watch, reconnect
 */

static void
set_state(struct up *u, int st, const char *err)
{
	int changed;

	pthread_mutex_lock(&u->u.lock);
	changed = u->state != st;
	if (changed)
		u->since_ms = now_ms();
	u->state = st;
	if (err)
		snprintf(u->error, sizeof(u->error), "%s", err);
	else if (st == ST_UP)
		u->error[0] = '\0';
	pthread_mutex_unlock(&u->u.lock);
	if (changed)
		mcpg_log(st == ST_DOWN ? MCPG_LOG_WARN : MCPG_LOG_INFO, NULL,
			 st == ST_UP ? "upstream up" : "upstream down", "upstream", MCPG_LF_STR,
			 u->u.cfg.name, "error", MCPG_LF_STR, err, NULL);
}

/* List everything of kind k (all pages).  NULL and err on failure. */
static json_t *
list_all(struct up *u, int k, char *err, size_t errlen, int *transport)
{
	json_t *all = json_array(), *cursor = NULL;

	for (int page = 0; page < 1000; page++) {
		struct fed_rq rq;
		json_t *params = json_object(), *arr, *nc;

		memset(&rq, 0, sizeof(rq));
		if (cursor)
			json_object_set(params, "cursor", cursor);
		rq.id = fed_next_id();
		rq.method = list_methods[k];
		rq.params = params;
		rq.deadline_ms = now_ms() + u->u.cfg.timeout_ms;
		if (u->u.ops->request(&u->u, &rq) < 0) {
			json_decref(params);
			json_decref(cursor);
			json_decref(rq.data);
			snprintf(err, errlen, "%s: %.200s", list_methods[k], rq.message);
			*transport = rq.transport;
			if (rq.code == MCPG_RPC_METHOD_NOT_FOUND && !rq.transport)
				return all;
			json_decref(all);
			return NULL;
		}
		json_decref(params);
		arr = json_object_get(rq.result, list_keys[k]);
		if (json_is_array(arr))
			json_array_extend(all, arr);
		nc = json_object_get(rq.result, "nextCursor");
		json_decref(cursor);
		cursor = json_is_string(nc) && json_string_length(nc) ? json_incref(nc) : NULL;
		json_decref(rq.result);
		if (!cursor)
			break;
	}
	json_decref(cursor);
	return all;
}

/* Discover all lists.  0, or -1 (transport set when the connection is the problem). */
static int
discover(struct up *u, json_t *caps, char *err, size_t errlen, int *transport)
{
	json_t *got[NK] = { NULL };

	for (int k = 0; k < NK; k++) {
		if (!json_object_get(caps, cap_keys[k])) {
			got[k] = json_array();
			continue;
		}
		got[k] = list_all(u, k, err, errlen, transport);
		if (!got[k]) {
			for (int j = 0; j < k; j++)
				json_decref(got[j]);
			return -1;
		}
	}
	pthread_mutex_lock(&u->u.lock);
	for (int k = 0; k < NK; k++) {
		json_decref(u->lists[k]);
		u->lists[k] = got[k];
	}
	pthread_mutex_unlock(&u->u.lock);
	return 0;
}

static void
first_done(struct up *u)
{
	pthread_mutex_lock(&mgr_lock);
	u->first_done = 1;
	pthread_cond_broadcast(&mgr_cond);
	pthread_mutex_unlock(&mgr_lock);
}

/* Wait up to ms or until stop/refresh/lost; returns 1 when stopping. */
static int
pause_ms(struct up *u, int64_t ms)
{
	int64_t until = now_ms() + ms;
	int stop;

	pthread_mutex_lock(&u->u.lock);
	while (!u->u.stop && !u->u.refresh && now_ms() < until) {
		int64_t left = until - now_ms();

		fed_cond_wait_ms(&u->u.cond, &u->u.lock, left > 100 ? 100 : left);
	}
	stop = u->u.stop;
	pthread_mutex_unlock(&u->u.lock);
	return stop;
}

static void *
supervise(void *arg)
{
	struct up *u = arg;
	int64_t backoff = 100, up_at = 0;
	int connected = 0, fresh = 0;
	json_t *caps = NULL;

	for (;;) {
		char err[256] = "";
		int transport = 1, stop;

		pthread_mutex_lock(&u->u.lock);
		stop = u->u.stop;
		u->u.refresh = 0;
		if (u->lost) {
			u->lost = 0;
			connected = 0;
		}
		pthread_mutex_unlock(&u->u.lock);
		if (stop)
			break;
		/* A server that dies right after starting is not restarted in a tight loop. */
		if (!connected && up_at && now_ms() - up_at < 1000) {
			if (pause_ms(u, backoff))
				break;
			backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
		}
		if (!connected) {
			json_t *init = NULL;

			u->u.ops->disconnect(&u->u);
			if (u->u.ops->connect(&u->u, &init, err, sizeof(err)) < 0)
				goto failed;
			json_decref(caps);
			caps = json_incref(json_object_get(init, "capabilities"));
			json_decref(init);
			connected = 1;
			fresh = 1;
			pthread_mutex_lock(&u->u.lock);
			u->connects++;
			pthread_mutex_unlock(&u->u.lock);
		}
		if (discover(u, caps, err, sizeof(err), &transport) < 0) {
			if (transport)
				connected = 0;
			goto failed;
		}
		if (fresh && u->connects > 1)
			resubscribe(u);
		fresh = 0;
		set_state(u, ST_UP, NULL);
		publish_locked_by_caller();
		first_done(u);
		if (!up_at || now_ms() - up_at >= 1000)
			backoff = 100;
		up_at = now_ms();
		/* Returns on stop, on refresh (list_changed) and when the connection is lost. */
		if (u->u.ops->watch(&u->u) < 0) {
			pthread_mutex_lock(&u->u.lock);
			u->lost = 1;
			pthread_mutex_unlock(&u->u.lock);
		}
		continue;
failed:
		pthread_mutex_lock(&u->u.lock);
		u->failures++;
		pthread_mutex_unlock(&u->u.lock);
		set_state(u, ST_DOWN, err);
		publish_locked_by_caller();
		first_done(u);
		if (pause_ms(u, backoff))
			break;
		backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
	}
	json_decref(caps);
	u->u.ops->disconnect(&u->u);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Starting, reloading, stopping
 */

static char **
strv_from_list(const struct mcpg_image *img, const uint32_t *refs, uint32_t n)
{
	char **v = calloc(n + 1, sizeof(*v));

	for (uint32_t i = 0; v && i < n; i++)
		v[i] = strdup(mcpg_str(img, refs[i]));
	return v;
}

/* A new upstream for entry `c` of snapshot `rt` (not started). */
static struct up *
up_new(const struct mcpg_rt *rt, const struct mcpg_upstream *c)
{
	const struct mcpg_image *img = &rt->img;
	const struct mcpg_union_slot *t = mcpg_upstream_transport(img, c);
	const struct mcpg_upstream_http *h = mcpg_upstream_transport_http(img, t);
	const struct mcpg_upstream_stdio *sd = mcpg_upstream_transport_stdio(img, t);
	struct up *u = calloc(1, sizeof(*u));
	struct strbuf fp = STRBUF_INIT;
	const uint32_t *l;
	uint32_t n;

	if (!u)
		return NULL;
	atomic_init(&u->u.refs, 1);
	pthread_mutex_init(&u->u.lock, NULL);
	pthread_cond_init(&u->u.cond, NULL);
	u->u.cfg.name = strdup(mcpg_upstream_name(img, c));
	u->u.cfg.prefix = strdup(mcpg_upstream_prefix(img, c) ? mcpg_upstream_prefix(img, c) : "");
	u->u.cfg.timeout_ms = (int64_t)c->timeout_ms;
	l = mcpg_upstream_include(img, c, &n);
	u->include = strv_from_list(img, l, n);
	l = mcpg_upstream_exclude(img, c, &n);
	u->exclude = strv_from_list(img, l, n);
	strbuf_addf(&fp, "%s\n%s\n%llu\n", u->u.cfg.name, u->u.cfg.prefix,
		    (unsigned long long)c->timeout_ms);
	if (h) {
		const struct mcpg_string_entry *he = mcpg_upstream_http_headers(img, h, &n);

		u->u.ops = &mcpg_fed_http_ops;
		u->u.cfg.url = strdup(mcpg_upstream_http_url(img, h));
		u->u.cfg.headers = calloc(n + 1, sizeof(char *));
		strbuf_addf(&fp, "http %s\n", u->u.cfg.url);
		for (uint32_t i = 0; u->u.cfg.headers && i < n; i++) {
			struct strbuf hb = STRBUF_INIT;

			strbuf_addf(&hb, "%s: %s", mcpg_str(img, he[i].key), mcpg_str(img, he[i].value));
			strbuf_addf(&fp, "%s\n", hb.buf);
			u->u.cfg.headers[i] = strbuf_detach(&hb, NULL);
		}
	} else if (sd) {
		const struct mcpg_string_entry *ee = mcpg_upstream_stdio_env(img, sd, &n);
		uint32_t na;
		const uint32_t *a = mcpg_upstream_stdio_args(img, sd, &na);

		u->u.ops = &mcpg_fed_stdio_ops;
		u->u.cfg.envp = calloc(n + 2, sizeof(char *));
		for (uint32_t i = 0; u->u.cfg.envp && i < n; i++) {
			struct strbuf eb = STRBUF_INIT;

			strbuf_addf(&eb, "%s=%s", mcpg_str(img, ee[i].key), mcpg_str(img, ee[i].value));
			strbuf_addf(&fp, "env %s\n", eb.buf);
			u->u.cfg.envp[i] = strbuf_detach(&eb, NULL);
		}
		u->u.cfg.argv = calloc(na + 2, sizeof(char *));
		if (u->u.cfg.argv) {
			u->u.cfg.argv[0] = strdup(mcpg_upstream_stdio_command(img, sd));
			strbuf_addf(&fp, "stdio %s\n", u->u.cfg.argv[0]);
			for (uint32_t i = 0; i < na; i++) {
				u->u.cfg.argv[i + 1] = strdup(mcpg_str(img, a[i]));
				strbuf_addf(&fp, "arg %s\n", u->u.cfg.argv[i + 1]);
			}
		}
	}
	for (size_t i = 0; u->include && u->include[i]; i++)
		strbuf_addf(&fp, "include %s\n", u->include[i]);
	for (size_t i = 0; u->exclude && u->exclude[i]; i++)
		strbuf_addf(&fp, "exclude %s\n", u->exclude[i]);
	u->fingerprint = strbuf_detach(&fp, NULL);
	u->state = ST_CONNECTING;
	u->since_ms = now_ms();
	if (!u->u.ops || !u->u.cfg.name || !u->u.cfg.prefix) {
		up_put(u);
		return NULL;
	}
	return u;
}

static void
up_start(struct up *u)
{
	atomic_fetch_add(&u->u.refs, 1); /* the supervisor's */
	if (pthread_create(&u->thread, NULL, supervise, u) == 0) {
		u->started = 1;
	} else {
		atomic_fetch_sub(&u->u.refs, 1);
		set_state(u, ST_DOWN, "cannot start a thread");
		u->first_done = 1;
	}
}

static void
up_stop(struct up *u)
{
	pthread_mutex_lock(&u->u.lock);
	u->u.stop = 1;
	pthread_cond_broadcast(&u->u.cond);
	pthread_mutex_unlock(&u->u.lock);
	if (u->started) {
		pthread_join(u->thread, NULL);
		u->started = 0;
		up_put(u);
	}
	u->u.ops->disconnect(&u->u);
}

int
mcpg_fed_configured(const struct mcpg_rt *rt)
{
	return rt->cfg->mcp.upstreams.n > 0;
}

/* Make the upstream set match snapshot `rt`: keep unchanged entries, restart the rest. */
static void
apply(struct mcpg_rt *rt)
{
	uint32_t n;
	const struct mcpg_upstream *c = rt ? mcpg_mcp_upstreams(&rt->img, &rt->cfg->mcp, &n) : NULL;
	struct up **next = NULL, **old, **started;
	size_t nold, nstarted = 0;

	if (!rt)
		n = 0;
	next = calloc(n + 1, sizeof(*next));
	started = calloc(n + 1, sizeof(*started));
	if (!next || !started) {
		free(next);
		free(started);
		return;
	}
	pthread_mutex_lock(&mgr_lock);
	old = ups;
	nold = nups;
	for (uint32_t i = 0; i < n; i++) {
		struct up *u = up_new(rt, &c[i]);

		if (!u)
			continue;
		for (size_t j = 0; j < nold; j++)
			if (old[j] && !strcmp(old[j]->fingerprint, u->fingerprint)) {
				up_put(u);
				u = old[j];
				old[j] = NULL;
				break;
			}
		if (!u->started)
			started[nstarted++] = u;
		next[i] = u;
	}
	/* Compact: entries that failed to build are left out (and reported by logs). */
	nups = 0;
	for (uint32_t i = 0; i < n; i++)
		if (next[i])
			next[nups++] = next[i];
	ups = next;
	if (mgr_rt)
		mcpg_rt_release(mgr_rt);
	mgr_rt = rt;
	for (size_t i = 0; i < nstarted; i++)
		up_start(started[i]);
	publish();
	pthread_mutex_unlock(&mgr_lock);
	for (size_t j = 0; j < nold; j++)
		if (old[j]) {
			up_stop(old[j]);
			up_put(old[j]);
		}
	free(old);
	free(started);
}

void
mcpg_fed_start(void)
{
	struct mcpg_rt *rt = mcpg_rt_acquire();
	int64_t until = now_ms() + 5000;

	if (!rt)
		return;
	if (!mcpg_fed_configured(rt) && !nups) {
		mcpg_rt_release(rt);
		return;
	}
	apply(rt);
	/* Serve nothing half-discovered at boot: wait for each first attempt. */
	pthread_mutex_lock(&mgr_lock);
	for (;;) {
		size_t i;

		for (i = 0; i < nups && ups[i]->first_done; i++)
			;
		if (i == nups || now_ms() >= until)
			break;
		fed_cond_wait_ms(&mgr_cond, &mgr_lock, 20);
	}
	pthread_mutex_unlock(&mgr_lock);
}

void
mcpg_fed_reload(void)
{
	struct mcpg_rt *rt = mcpg_rt_acquire();

	if (!rt)
		return;
	if (!mcpg_fed_configured(rt) && !nups && !mgr_rt) {
		mcpg_rt_release(rt);
		return;
	}
	apply(rt);
}

void
mcpg_fed_stop(void)
{
	struct mcpg_fed_cat *old;

	apply(NULL);
	pthread_mutex_lock(&cat_lock);
	old = cur_cat;
	cur_cat = NULL;
	pthread_mutex_unlock(&cat_lock);
	mcpg_fed_release(old);
	mcpg_fedmap_clear();
}

/* ------------------------------------------------------------------------
 * /ready and /metrics
 */

void
mcpg_fed_ready_json(struct strbuf *out)
{
	int64_t now = now_ms();

	pthread_mutex_lock(&mgr_lock);
	if (!nups) {
		pthread_mutex_unlock(&mgr_lock);
		return;
	}
	strbuf_addstr(out, ",\"upstreams\":{");
	for (size_t i = 0; i < nups; i++) {
		struct up *u = ups[i];
		size_t items = 0;

		pthread_mutex_lock(&u->u.lock);
		for (int k = 0; u->state == ST_UP && k < NK; k++)
			items += json_array_size(u->lists[k]);
		if (i)
			strbuf_addch(out, ',');
		mcpg_jsonw_cstr(out, u->u.cfg.name);
		strbuf_addf(out, ":{\"state\":\"%s\",\"transport\":\"%s\",\"since_ms\":%lld,"
				 "\"items\":%zu,\"connects\":%llu,\"failures\":%llu",
			    state_names[u->state], u->u.ops == &mcpg_fed_http_ops ? "http" : "stdio",
			    (long long)(now - u->since_ms), items, (unsigned long long)u->connects,
			    (unsigned long long)u->failures);
		if (u->error[0]) {
			strbuf_addstr(out, ",\"error\":");
			mcpg_jsonw_cstr(out, u->error);
		}
		strbuf_addch(out, '}');
		pthread_mutex_unlock(&u->u.lock);
	}
	strbuf_addch(out, '}');
	pthread_mutex_unlock(&mgr_lock);
}

void
mcpg_fed_metrics(struct strbuf *out)
{
	pthread_mutex_lock(&mgr_lock);
	if (nups)
		strbuf_addstr(out, "# HELP mcpg_upstream_up Upstream MCP server reachable and listed (1) "
				   "or not (0).\n# TYPE mcpg_upstream_up gauge\n");
	for (size_t i = 0; i < nups; i++) {
		pthread_mutex_lock(&ups[i]->u.lock);
		strbuf_addf(out, "mcpg_upstream_up{upstream=\"%s\"} %d\n", ups[i]->u.cfg.name,
			    ups[i]->state == ST_UP);
		pthread_mutex_unlock(&ups[i]->u.lock);
	}
	if (nups)
		strbuf_addstr(out, "# HELP mcpg_upstream_calls_total Requests forwarded to an upstream.\n"
				   "# TYPE mcpg_upstream_calls_total counter\n");
	for (size_t i = 0; i < nups; i++) {
		pthread_mutex_lock(&ups[i]->u.lock);
		strbuf_addf(out, "mcpg_upstream_calls_total{upstream=\"%s\"} %llu\n",
			    ups[i]->u.cfg.name, (unsigned long long)ups[i]->calls);
		pthread_mutex_unlock(&ups[i]->u.lock);
	}
	pthread_mutex_unlock(&mgr_lock);
}

/* ------------------------------------------------------------------------
 * Forwarding client requests
 */

struct mcpg_fed_fwd *
mcpg_fed_fwd_new(struct mcpg_fed_cat *cat, const struct mcpg_fed_item *it, const char *method,
		 json_t *params, const char *session)
{
	struct mcpg_fed_fwd *f = calloc(1, sizeof(*f));
	json_t *p;

	if (!f)
		return NULL;
	p = params ? json_deep_copy(params) : json_object();
	if (!p) {
		free(f);
		return NULL;
	}
	/* The upstream knows its items by its own names. */
	if (!strcmp(method, "tools/call") || !strcmp(method, "prompts/get"))
		json_object_set_new(p, "name", json_string(it->orig));
	else if (!strcmp(method, "completion/complete") && json_is_object(json_object_get(p, "ref")) &&
		 it->b.kind == MCPG_B_PROMPT)
		json_object_set_new(json_object_get(p, "ref"), "name", json_string(it->orig));
	atomic_fetch_add(&cat->refs, 1);
	f->cat = cat;
	f->item = it;
	snprintf(f->method, sizeof(f->method), "%s", method);
	f->params = p;
	snprintf(f->session, sizeof(f->session), "%s", session ? session : "");
	return f;
}

void
mcpg_fed_fwd_free(struct mcpg_fed_fwd *f)
{
	if (!f)
		return;
	json_decref(f->params);
	mcpg_fed_release(f->cat);
	free(f);
}

/* What on_msg needs: the call, and the client's own progress token. */
struct fwd_ctx {
	struct mcpg_call *call;
	struct up *u;
	json_t *client_token; /* borrowed from the call */
	char token[32];       /* the token the upstream saw */
};

static void reply_error(struct up *u, const char *usid, json_t *id, int code, const char *msg);

/* A notification or request of the upstream during a forwarded call. */
static void
fwd_on_msg(struct fed_rq *rq, json_t *msg)
{
	struct fwd_ctx *fc = rq->ctx;
	struct mcpg_call *call = fc->call;
	struct mcpg_fed_fwd *f = call->fed;
	const char *m = json_string_value(json_object_get(msg, "method"));
	json_t *id = json_object_get(msg, "id"), *copy;

	if (!m)
		return;
	if (!id) {
		if (!strcmp(m, "notifications/progress")) {
			json_t *p = json_object_get(msg, "params");

			if (!fc->client_token || !call->notify ||
			    strcmp(json_string_value(json_object_get(p, "progressToken")) ?: "", fc->token))
				return;
			copy = json_deep_copy(msg);
			json_object_set(json_object_get(copy, "params"), "progressToken",
					fc->client_token);
			call->notify(call, copy);
		} else if (!strcmp(m, "notifications/message")) {
			if (call->notify)
				call->notify(call, json_deep_copy(msg));
		} else {
			fed_unrelated(&fc->u->u, rq->usid, msg);
		}
		return;
	}
	/* A server-initiated request: to the client under an id of ours. */
	if (!call->notify || !f->session[0]) {
		reply_error(fc->u, rq->usid, id, -32601,
			    "the client of this call cannot receive requests (no SSE stream)");
		return;
	}
	{
		char gwid[40], *key, *val;
		json_t *v = json_pack("{s:s,s:s,s:O}", "up", fc->u->u.cfg.name, "usid", rq->usid,
				      "id", id);
		struct strbuf kb = STRBUF_INIT;

		snprintf(gwid, sizeof(gwid), "mcpg-%lld", (long long)atomic_fetch_add(&next_gwid, 1));
		strbuf_addf(&kb, "sreq\x1f%s\x1f\"%s\"", f->session, gwid);
		key = strbuf_detach(&kb, NULL);
		val = json_dumps(v, JSON_COMPACT);
		json_decref(v);
		if (!key || !val ||
		    mcpg_fedmap_put(key, val, fc->u->u.cfg.timeout_ms > 0 ? fc->u->u.cfg.timeout_ms
									 : 600000) < 0) {
			reply_error(fc->u, rq->usid, id, -32603, "gateway out of memory");
		} else {
			copy = json_deep_copy(msg);
			json_object_set_new(copy, "id", json_string(gwid));
			call->notify(call, copy);
		}
		free(key);
		free(val);
	}
}

/*
 * The upstream closed the stream of a forwarded call early, asking its
 * client to come back later (SEP-1699 polling): do the same to ours.
 */
static void
fwd_on_closed(struct fed_rq *rq)
{
	struct fwd_ctx *fc = rq->ctx;

	if (fc->call->close_stream)
		fc->call->close_stream(fc->call);
}

/* Send `json` to the upstream on `usid`, ignoring failures (best effort). */
static void
send_text(struct up *u, const char *usid, const char *json)
{
	if (json && u->u.ops->send(&u->u, usid, json) < 0)
		mcpg_log(MCPG_LOG_DEBUG, NULL, "upstream send failed", "upstream", MCPG_LF_STR,
			 u->u.cfg.name, NULL);
}

static void
reply_error(struct up *u, const char *usid, json_t *id, int code, const char *msg)
{
	json_t *r = json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id, "error", "code",
			      code, "message", msg);
	char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;

	send_text(u, usid, s);
	free(s);
	json_decref(r);
}

static void
send_cancelled(struct up *u, const struct fed_rq *rq, const char *reason)
{
	char buf[200];

	snprintf(buf, sizeof(buf), "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
				   "\"params\":{\"requestId\":%lld,\"reason\":\"%s\"}}",
		 (long long)rq->id, reason);
	send_text(u, rq->usid, buf);
}

/* resources/subscribe and unsubscribe: one upstream subscription per URI, shared. */
static int
fwd_subscription(struct mcpg_call *call, struct up *u, struct fed_rq *rq, int on)
{
	struct mcpg_fed_fwd *f = call->fed;
	const char *uri = json_string_value(json_object_get(f->params, "uri"));
	struct strbuf pre = STRBUF_INIT, key = STRBUF_INIT;
	size_t others;
	int rc = 0;

	strbuf_addf(&pre, "sub\x1f%s\x1f%s\x1f", u->u.cfg.name, uri ? uri : "");
	strbuf_addf(&key, "%s%s", pre.buf, f->session);
	mcpg_fedmap_del(key.buf);
	others = mcpg_fedmap_scan(pre.buf, NULL, 0, NULL, NULL);
	if (on)
		mcpg_fedmap_put(key.buf, "1", 0);
	if (!others)
		rc = u->u.ops->request(&u->u, rq);
	else
		rq->result = json_object();
	if (rc < 0 && on)
		mcpg_fedmap_del(key.buf);
	strbuf_release(&pre);
	strbuf_release(&key);
	return rc;
}

int
mcpg_fed_run(struct mcpg_call *call)
{
	struct mcpg_fed_fwd *f = call->fed;
	struct fwd_ctx fc;
	struct fed_rq rq;
	struct up *u;
	json_t *meta;
	int rc;

	/* mcpg_backend_run() has cleared the call's outputs. */
	u = up_get(f->item->upstream);
	if (!u)
		return mcpg_call_error(call, -32603, "upstream", "upstream '%s' is not configured",
				       f->item->upstream);
	memset(&rq, 0, sizeof(rq));
	memset(&fc, 0, sizeof(fc));
	fc.call = call;
	fc.u = u;
	rq.id = fed_next_id();
	rq.method = f->method;
	rq.params = f->params;
	rq.deadline_ms = u->u.cfg.timeout_ms > 0 ? now_ms() + u->u.cfg.timeout_ms : 0;
	if (call->deadline_ms && (!rq.deadline_ms || call->deadline_ms < rq.deadline_ms))
		rq.deadline_ms = call->deadline_ms;
	rq.cancelled = &call->cancelled;
	rq.on_msg = fwd_on_msg;
	rq.on_closed = fwd_on_closed;
	rq.ctx = &fc;
	/* Our own progress token: unique per call, so a shared upstream
	 * session (or a stdio pipe) routes progress back to this call. */
	meta = json_object_get(f->params, "_meta");
	if (call->progress_token && json_is_object(meta)) {
		fc.client_token = call->progress_token;
		snprintf(fc.token, sizeof(fc.token), "mcpg-p%lld", (long long)rq.id);
		json_object_set_new(meta, "progressToken", json_string(fc.token));
	}
	pthread_mutex_lock(&u->u.lock);
	u->calls++;
	pthread_mutex_unlock(&u->u.lock);
	if (!strcmp(f->method, "resources/subscribe") || !strcmp(f->method, "resources/unsubscribe"))
		rc = fwd_subscription(call, u, &rq, f->method[10] == 's');
	else
		rc = u->u.ops->request(&u->u, &rq);
	if (rc == 0) {
		call->result = rq.result;
		up_put(u);
		return 0;
	}
	json_decref(rq.result);
	if (rq.stopped) {
		json_decref(rq.data);
		send_cancelled(u, &rq, rq.stopped == 1 ? "cancelled by the client"
						      : "the gateway's deadline passed");
		up_put(u);
		return mcpg_call_stop(call, rq.stopped == 1 ? MCPG_STOP_CANCELLED : MCPG_STOP_DEADLINE);
	}
	if (rq.transport)
		kick(u);
	snprintf(call->error_message, sizeof(call->error_message), "%s", rq.message);
	call->error_code = rq.code ? rq.code : -32603;
	call->error_data = rq.data;
	rq.data = NULL;
	call->error_kind = rq.transport ? "upstream" : NULL;
	up_put(u);
	return -1;
}

/* ------------------------------------------------------------------------
 * Messages nobody asked for; the client's answers to upstream requests
 */


void
fed_unrelated(struct fed_up *fu, const char *usid, json_t *msg)
{
	struct up *u = (struct up *)fu;
	const char *m = json_string_value(json_object_get(msg, "method"));
	json_t *id = json_object_get(msg, "id");

	if (!m)
		return;
	if (id) {
		/* roots/list and the like outside a call: no client to ask. */
		reply_error(u, usid, id, -32601, "no client to route this request to");
		return;
	}
	if (!strcmp(m, "notifications/tools/list_changed") ||
	    !strcmp(m, "notifications/resources/list_changed") ||
	    !strcmp(m, "notifications/prompts/list_changed")) {
		kick(u);
	} else if (!strcmp(m, "notifications/resources/updated")) {
		const char *uri = json_string_value(
			json_object_get(json_object_get(msg, "params"), "uri"));
		struct strbuf pre = STRBUF_INIT;
		struct sub_hit h = { NULL, 0, 0, 0 };
		char *text;

		if (!uri)
			return;
		strbuf_addf(&pre, "sub\x1f%s\x1f%s\x1f", u->u.cfg.name, uri);
		mcpg_fedmap_scan(pre.buf, NULL, 0, collect_part, &h);
		strbuf_release(&pre);
		text = json_dumps(msg, JSON_COMPACT);
		for (size_t i = 0; i < h.n; i++) {
			struct mcpg_session *s = text ? mcpg_session_get(h.sids[i]) : NULL;

			if (s) {
				mcpg_cluster_event(s, text, strlen(text));
				mcpg_session_put(s);
			}
			free(h.sids[i]);
		}
		free(h.sids);
		free(text);
	}
}

struct answer_job {
	struct mcpg_pool_item item;
	struct up *u;
	char *usid, *json;
};

static void
answer_run(struct mcpg_pool_item *it)
{
	struct answer_job *a = (struct answer_job *)it;

	send_text(a->u, a->usid, a->json);
	up_put(a->u);
	free(a->usid);
	free(a->json);
	free(a);
}

void
mcpg_fed_client_answer(struct mcpg_session *s, json_t *msg)
{
	json_t *id = json_object_get(msg, "id"), *v, *r;
	struct strbuf key = STRBUF_INIT;
	char *val, *ids;
	struct answer_job *a;
	struct up *u;

	if (!json_is_string(id))
		return;
	ids = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
	strbuf_addf(&key, "sreq\x1f%s\x1f%s", s->id, ids ? ids : "");
	free(ids);
	val = mcpg_fedmap_take(key.buf);
	strbuf_release(&key);
	if (!val)
		return;
	v = mcpg_json_load(val, strlen(val), 0, NULL);
	free(val);
	u = v ? up_get(json_string_value(json_object_get(v, "up")) ?: "") : NULL;
	if (!u) {
		json_decref(v);
		return;
	}
	r = json_pack("{s:s,s:O}", "jsonrpc", "2.0", "id", json_object_get(v, "id"));
	if (json_object_get(msg, "error"))
		json_object_set(r, "error", json_object_get(msg, "error"));
	else
		json_object_set(r, "result", json_object_get(msg, "result") ?: json_object());
	a = calloc(1, sizeof(*a));
	if (a) {
		a->u = u;
		a->usid = strdup(json_string_value(json_object_get(v, "usid")) ?: "");
		a->json = json_dumps(r, JSON_COMPACT);
		a->item.fn = answer_run;
		mcpg_pool_submit(&a->item);
	} else {
		up_put(u);
	}
	json_decref(r);
	json_decref(v);
}

/* resources/unsubscribe to an upstream whose last subscriber of a URI left. */
struct unsub_job {
	struct mcpg_pool_item item;
	char *key; /* "sub\x1fUPSTREAM\x1fURI\x1fSESSION" */
};

static void
unsub_run(struct mcpg_pool_item *it)
{
	struct unsub_job *j = (struct unsub_job *)it;
	char *up = j->key + 4, *uri = strchr(up, '\x1f'), *sid = strrchr(j->key, '\x1f');
	struct up *u;

	if (uri && sid > uri) {
		/* key up to and with the last separator: the URI's subscribers. */
		char *prefix = strndup(j->key, (size_t)(sid - j->key) + 1);
		size_t left = prefix ? mcpg_fedmap_scan(prefix, NULL, 0, NULL, NULL) : 1;

		free(prefix);
		*uri++ = '\0';
		*sid = '\0';
		if (!left && (u = up_get(up))) {
			uri_request(u, "resources/unsubscribe", uri);
			up_put(u);
		}
	}
	free(j->key);
	free(j);
}

static void
unsub_queue(const char *key, const char *val, void *arg)
{
	struct unsub_job *j = calloc(1, sizeof(*j));

	(void)val;
	(void)arg;
	if (!j || !(j->key = strdup(key))) {
		free(j);
		return;
	}
	j->item.fn = unsub_run;
	mcpg_pool_submit(&j->item);
}

void
mcpg_fed_session_ended(struct mcpg_session *s)
{
	struct strbuf pre = STRBUF_INIT, suf = STRBUF_INIT;

	if (!nups)
		return;
	strbuf_addf(&pre, "sreq\x1f%s\x1f", s->id);
	mcpg_fedmap_scan(pre.buf, NULL, 1, NULL, NULL);
	strbuf_addf(&suf, "\x1f%s", s->id);
	/* Each of its subscriptions goes; the upstream's too when it was the last. */
	mcpg_fedmap_scan("sub\x1f", suf.buf, 1, unsub_queue, NULL);
	strbuf_release(&pre);
	strbuf_release(&suf);
}
