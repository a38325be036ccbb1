/*
 * compile.c - the mcpgc pipeline (see compile.h).
 */
#include "compile.h"

#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "image_write.h"
#include "merge.h"
#include "rules.h"
#include "validate.h"
#include "yaml.h"

struct mcc_node *
mcc_load_layers(const char *const *files, size_t nfiles, struct mcc_diag *d)
{
	struct mcc_node *tree = NULL;
	int failed = 0;

	for (size_t i = 0; i < nfiles && !d->stopped; i++) {
		int before = d->nerrors;
		struct mcc_node *layer = mcc_yaml_load_file(files[i], (int)i, d);

		if (!layer || d->nerrors != before) {
			failed = 1;
			continue;
		}
		tree = tree ? mcc_merge(tree, layer) : layer;
	}
	return failed ? NULL : tree;
}

int
mcc_compile(struct mcc_config *cfg, const struct mcpg_schema *s,
	    const char *const *files, size_t nfiles, unsigned vflags,
	    struct mcc_diag *d)
{
	struct mcpg_verify_error verr;
	int before = d->nerrors;

	memset(cfg, 0, sizeof(*cfg));
	cfg->schema = s;
	cfg->files = files;
	cfg->nfiles = nfiles;
	cfg->tree = mcc_load_layers(files, nfiles, d);
	if (d->nerrors != before)
		return -1;
	cfg->img = mcc_image_new();
	if (mcc_validate(s, cfg->tree, cfg->img, vflags, d))
		return -1;
	if (mcc_image_serialize(cfg->img, s->hash, &cfg->bytes, &cfg->len)) {
		mcc_error(d, MCC_NOLOC, "internal error: cannot lay out the image: %s",
			  mcc_image_error(cfg->img) ? mcc_image_error(cfg->img) : "unknown");
		return -1;
	}
	/*
	 * mcc_image_serialize() has just hashed these bytes and put the
	 * digest in the header: verify everything else without hashing them
	 * again.  `build` verifies the file it writes in full
	 * (mcc_image_write()).
	 */
	if (mcpg_image_verify_hashed(&cfg->view, cfg->bytes, cfg->len, s,
				     cfg->bytes + MCPG_HDR_DIGEST, &verr)) {
		mcc_error(d, MCC_NOLOC, "internal error: the image does not verify: %s",
			  verr.msg);
		return -1;
	}
	if (!(vflags & MCC_V_NO_RULES) &&
	    (mcc_rules_run(&cfg->view, cfg->tree, vflags, d) || mcc_access_embed(cfg, d)))
		return -1;
	return 0;
}

void
mcc_config_release(struct mcc_config *cfg)
{
	mcc_image_free(cfg->img);
	free(cfg->bytes);
	memset(cfg, 0, sizeof(*cfg));
}
