/*
 * gen.h - `mcpgc gen`: write generated/ from a resolved schema.
 *
 * The DSL front end (dsl.h) turns schema/mcpg.schema into the descriptor
 * tables of runtime/schema_desc.h; mcc_gen() prints those tables back out as
 * the five committed files of generated/:
 *
 *   mcpg_config.h               record layouts, enums, accessors, schema hash
 *   mcpg_schema.c               the descriptor tables as C (const struct mcpg_schema mcpg_schema)
 *   mcpg-config.schema.json     JSON Schema (draft-07) for yaml-language-server
 *   mcpg-config.5               the key-by-key mdoc reference
 *   lockstep.cases              one rejecting case per schema constraint,
 *                               run by tests/unit/u-lockstep.c
 *
 * Used by the bootstrap program build/mcpgc-gen (make regen, make
 * check-generated) and by `mcpgc gen -o DIR`.  It links only libc and the
 * GEN_SRCS of the Makefile, never generated/, so it can rebuild generated/
 * from nothing.
 */
#ifndef MCC_GEN_H
#define MCC_GEN_H

#include "diag.h"
#include "schema_desc.h"

/* Names of the generated files, relative to the output directory. */
#define MCC_GEN_CONFIG_H "mcpg_config.h"
#define MCC_GEN_SCHEMA_C "mcpg_schema.c"
#define MCC_GEN_JSON_SCHEMA "mcpg-config.schema.json"
#define MCC_GEN_MAN "mcpg-config.5"

/*
 * Write the four files into `outdir`, creating it (and its parents) when
 * missing.  `schema_path` is printed in each file's banner exactly as given
 * (pass the path from the command line, e.g. "schema/mcpg.schema"); nothing
 * else about the environment reaches the output, so equal schemas give equal
 * bytes.
 *
 * Each file is written to "OUTDIR/.NAME.tmp" and renamed over NAME only when
 * its content changed (`cmp -s || mv`); an unchanged file keeps its mtime.
 *
 * Returns 0 on success, 1 when the schema cannot be generated (for example
 * two schema names map to one C identifier), 2 on an I/O error.  Every
 * problem is reported through `d`; on failure some files may already have
 * been replaced, each of them completely.
 */
int mcc_gen(const struct mcpg_schema *s, const char *schema_path,
	    const char *outdir, struct mcc_diag *d);

/*
 * Render one generated file into malloc'ed memory, as mcc_gen() would write
 * it.  `name` is one of the MCC_GEN_* names, or "keys" for the list of every
 * key path the man page documents (one per line).  Returns NULL for an
 * unknown name.  The caller frees the result.  For tests and `mcpgc gen
 * --stdout`-style uses.
 */
char *mcc_gen_render(const struct mcpg_schema *s, const char *schema_path,
		     const char *name, size_t *len);

#endif /* MCC_GEN_H */
