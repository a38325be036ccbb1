/*
 * compile.h - the whole mcpgc pipeline for a list of config layers:
 * load each YAML file (yaml.c), merge them in order (merge.c), validate and
 * lower to image records (validate.c), lay out and verify the image
 * (image_write.c with the runtime's verifier).  main.c drives it for check,
 * build, explain and the lockstep tests.
 */
#ifndef MCC_COMPILE_H
#define MCC_COMPILE_H

#include <stddef.h>

#include "diag.h"
#include "image.h"
#include "node.h"
#include "schema_desc.h"

struct mcc_image;

struct mcc_config {
	const struct mcpg_schema *schema;
	const char *const *files;
	size_t nfiles;
	struct mcc_node *tree;   /* merged layers; NULL when a layer failed to load */
	struct mcc_image *img;   /* the builder; freed by mcc_config_release() */
	unsigned char *bytes;    /* the serialised image (malloc), after success */
	size_t len;
	struct mcpg_image view;  /* `bytes` verified, for summaries and rules */
};

/*
 * Load, merge, validate and lower `nfiles` files (left to right, later
 * layers win) against `s`.  Every error goes to `d`; loading goes on past a
 * bad file so one run reports them all, but validation only runs when
 * every layer loaded.  On success (0) the image is serialised and verified
 * into cfg->bytes / cfg->view.  Returns -1 when the config is invalid.
 * `vflags` are enum mcc_validate_flags.
 */
int mcc_compile(struct mcc_config *cfg, const struct mcpg_schema *s,
		const char *const *files, size_t nfiles, unsigned vflags,
		struct mcc_diag *d);

/* Free what mcc_compile() allocated outside the arena. */
void mcc_config_release(struct mcc_config *cfg);

/* Load and merge only (explain); NULL when a layer failed. */
struct mcc_node *mcc_load_layers(const char *const *files, size_t nfiles,
				 struct mcc_diag *d);

#endif /* MCC_COMPILE_H */
