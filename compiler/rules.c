/*
 * rules.c - the schema's named cross-field rules, and the check summary
 * (see rules.h).
 *
 * Each rule reads the verified image through the generated accessors
 * (generated/mcpg_config.h) and reports with the place in the merged tree
 * that set the offending value (rule_loc()).  The rule table at the bottom
 * maps the names of `rule NAME` declarations to functions.
 */
#include "rules.h"

#include <string.h>

#include "arena.h"
#include "image.h"
#include "mcpg_config.h"

struct rule_ctx {
	const struct mcpg_image *img;
	const struct mcpg_config *cfg;
	const struct mcc_node *root;
	unsigned vflags;
	struct mcc_diag *d;
};

/*
 * Where `path` was set in the merged tree, or where its closest present
 * ancestor was; a config that sets nothing there gets no location.
 */
static struct mcc_loc __attribute__((unused))
rule_loc(const struct rule_ctx *c, const char *path)
{
	char *p = mcc_strdup(path);

	for (;;) {
		const struct mcc_node *n = mcc_node_at(c->root, p);
		char *cut;

		if (n)
			return n->loc;
		cut = strrchr(p, '.');
		if (!cut)
			break;
		*cut = '\0';
	}
	return c->root ? c->root->loc : MCC_NOLOC;
}

typedef void rule_fn(struct rule_ctx *c);

static const struct {
	const char *name;
	rule_fn *fn;
} rules[] = {
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

int
mcc_rules_run(const struct mcpg_image *img, const struct mcc_node *root,
	      unsigned vflags, struct mcc_diag *d)
{
	struct rule_ctx c = { img, NULL, root, vflags, d };
	int before = d->nerrors;

	if (img->schema->hash != MCPG_SCHEMA_HASH)
		return 0;
	c.cfg = mcpg_root(img);
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
