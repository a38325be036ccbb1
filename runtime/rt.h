/*
 * rt.h - the live configuration of the runtime.
 *
 * A `struct mcpg_rt` is one verified image plus everything mcpg derives from
 * it once, at boot or reload: ${env.*} resolved, bindings indexed by name,
 * expressions ready to evaluate.  It is immutable once published and
 * reference counted: a request takes a reference when it starts
 * (mcpg_rt_acquire) and drops it when it ends, so a reload can publish a new
 * snapshot with one atomic pointer swap while requests in flight finish on
 * the old one, which is unmapped when its last reference goes.
 *
 * Implemented in runtime/rt.c.  Backends (backend.h) and the protocol layer
 * (mcp.c) only read snapshots.
 */
#ifndef MCPG_RT_H
#define MCPG_RT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "mcpg_config.h"

/* What kind of binding a name refers to. */
enum mcpg_binding_kind {
	MCPG_B_TOOL,
	MCPG_B_RESOURCE,
	MCPG_B_RESOURCE_TEMPLATE,
	MCPG_B_PROMPT,
};

/* One locally defined binding, any of the four lists. */
struct mcpg_binding {
	enum mcpg_binding_kind kind;
	const char *name;
	const struct mcpg_binding_governance *governance;
	const struct mcpg_union_slot *backend; /* NULL for prompts */
	const struct mcpg_retry *retry;        /* NULL when absent */
	union {
		const struct mcpg_tool *tool;
		const struct mcpg_resource *resource;
		const struct mcpg_resource_template *resource_template;
		const struct mcpg_prompt *prompt;
	};
	/* tools/list, resources/list ... entry, serialised as compact JSON by
	 * mcpg_rt_lists() (the image stores input schemas as JSON text
	 * already); NULL until then. */
	const char *list_json;
	size_t list_json_len;
	/* A mock tool's answer, rendered on its first call and kept for the
	 * snapshot's life (backend_mock.c; set once with an atomic
	 * compare-and-swap, freed with the snapshot). */
	void *mock_cache;
};

struct mcpg_rt {
	atomic_long refs;
	uint64_t generation;           /* 1 for the boot image, +1 per reload */
	struct mcpg_image img;         /* mapped and verified */
	const struct mcpg_config *cfg; /* mcpg_cfg(&img) */
	const char **ipol;             /* resolved ${env.*} strings (img.ipol_resolved) */
	uint32_t nipol;                /* entries of ipol */
	struct mcpg_binding *bindings; /* tools, resources, templates, prompts in config order */
	size_t nbindings;
	/* Index of bindings by name (open addressing over nbindings * 2). */
	uint32_t *by_name;
	size_t by_name_size;
	char path[4096];               /* the image file this came from */
	/* bindings[].list_json, built by mcpg_rt_lists() on first use. */
	atomic_int lists_ready;
	int lists_init;
	pthread_mutex_t lists_lock;
	char *lists_text;
	/* Identity sources: key sets, remote key sources (identity.c). */
	struct mcpg_ident *ident;
};

/*
 * Map, verify and prepare the image at `path`: resolve every ${env.*}
 * (an unset variable fails with "'KEY': environment variable 'NAME' is not
 * set"), build the binding index, re-check the rules that depend on resolved
 * values (anonymous_needs_loopback, plaintext_coordinator_needs_ack,
 * redis_tls_needs_rediss, formats of resolved strings).  Returns a snapshot
 * with one reference, or NULL with a one-line message in `err`.
 */
struct mcpg_rt *mcpg_rt_load(const char *path, char *err, size_t errlen);

/* The snapshot being served, with a reference taken; never NULL after boot. */
struct mcpg_rt *mcpg_rt_acquire(void);
/* Drop a reference; the last one unmaps the image and frees the snapshot. */
void mcpg_rt_release(struct mcpg_rt *rt);
/*
 * Publish `next` (its reference passes to the runtime) and return the
 * snapshot it replaced, with the runtime's reference still held so the
 * caller can compare and then release it.  Atomic for readers.
 */
struct mcpg_rt *mcpg_rt_publish(struct mcpg_rt *next);

/* Build every binding's list_json, once; call before reading list_json. */
void mcpg_rt_lists(struct mcpg_rt *rt);

/* The binding called `name` (NUL-terminated), or NULL. */
const struct mcpg_binding *mcpg_rt_find(const struct mcpg_rt *rt, const char *name);

/* A string of the snapshot's image (resolved when it held ${env.*}). */
static inline const char *
mcpg_rt_str(const struct mcpg_rt *rt, uint32_t ref)
{
	return mcpg_str(&rt->img, ref);
}

#endif /* MCPG_RT_H */
