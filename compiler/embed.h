/*
 * embed.h - files compiled into mcpgc (build/compiler/embed.c, written by
 * scripts/embed from templates/, schema/ and generated/), so `mcpgc init`
 * and `mcpgc schema` give exactly the files the tests check.
 */
#ifndef MCC_EMBED_H
#define MCC_EMBED_H

#include <stddef.h>

struct mcc_embedded {
	const char *name; /* file name without directory and extension */
	const unsigned char *data;
	size_t len;
};

extern const struct mcc_embedded mcc_embedded_templates[];
extern const size_t mcc_embedded_ntemplates;
extern const struct mcc_embedded mcc_embedded_schema;      /* schema/mcpg.schema */
extern const struct mcc_embedded mcc_embedded_json_schema; /* generated/...json */

/* The template named `name`, or NULL. */
const struct mcc_embedded *mcc_embedded_template(const char *name);

#endif /* MCC_EMBED_H */
