/*
 * access.c - the files of governance.access that mcpgc compiles into the
 * image: the pre-staged key set (jwks.keys_file -> KEYS) and the API token
 * file (api_tokens.file -> TOKS).  See access.h.
 */
#include "access.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "image_write.h"
#include "mcpg_config.h"
#include "node.h"
#include "rules.h"
#include "token.h"

static struct mcc_loc
loc_of(const struct mcc_config *cfg, const char *path)
{
	const struct mcc_node *n = mcc_node_at(cfg->tree, path);

	return n ? n->loc : MCC_NOLOC;
}

int
mcc_access_embed(struct mcc_config *cfg, struct mcc_diag *d)
{
	const struct mcpg_image *img = &cfg->view;
	const struct mcpg_access *a = &mcpg_cfg(img)->governance.access;
	const struct mcpg_jwks *j = mcpg_access_jwks(img, a);
	const struct mcpg_api_tokens *at = mcpg_access_api_tokens(img, a);
	const char *kf = j ? mcpg_jwks_keys_file(img, j) : NULL;
	int before = d->nerrors, added = 0;
	struct mcpg_verify_error verr;

	if (kf) {
		const char *key = "governance.access.jwks.keys_file";
		struct mcc_loc loc = loc_of(cfg, key);
		const char *p = mcc_config_relative(loc, kf);
		size_t len = 0;
		char *text = mcc_read_small_file(p, &len);

		/* The rules have checked the set; this copies what they read. */
		if (!text)
			mcc_error(d, loc, "'%s': cannot read '%s': %s", key, p, strerror(errno));
		else if (mcc_image_set_keys(cfg->img, text, len) < 0)
			mcc_error(d, loc, "'%s': '%s' holds a NUL byte", key, p);
		else
			added = 1;
	}
	if (at) {
		const char *key = "governance.access.api_tokens.file";
		struct mcc_loc loc = loc_of(cfg, key);
		const char *p = mcc_config_relative(loc, mcpg_api_tokens_file(img, at));
		struct mcc_token *t;
		size_t n;

		if (access(p, R_OK) < 0)
			mcc_error(d, loc, "'%s': cannot read '%s': %s", key, p, strerror(errno));
		else if (mcc_tokens_load(p, 0, d, &t, &n) == 0)
			for (size_t i = 0; i < n; i++) {
				struct mcpg_img_tok e = { .expires_at = t[i].expires_at };

				memcpy(e.hash, t[i].hash, sizeof(e.hash));
				e.id = mcc_image_cstr(cfg->img, t[i].id);
				e.note = mcc_image_cstr(cfg->img, t[i].note);
				mcc_image_add_tok(cfg->img, &e);
				added = 1;
			}
	}
	if (d->nerrors != before)
		return -1;
	if (!added)
		return 0;
	/* Lay the image out again with the new sections, and verify it. */
	free(cfg->bytes);
	cfg->bytes = NULL;
	if (mcc_image_serialize(cfg->img, cfg->schema->hash, &cfg->bytes, &cfg->len) ||
	    mcpg_image_verify_hashed(&cfg->view, cfg->bytes, cfg->len, cfg->schema,
				     cfg->bytes + MCPG_HDR_DIGEST, &verr)) {
		mcc_error(d, MCC_NOLOC, "internal error: the image with key and token files does "
					"not verify: %s",
			  mcc_image_error(cfg->img) ? mcc_image_error(cfg->img) : verr.msg);
		return -1;
	}
	return 0;
}
