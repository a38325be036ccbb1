/*
 * fuzz_yaml.c - libFuzzer target for the YAML front end: bytes -> loader
 * (compiler/yaml.c) -> merge with itself (compiler/merge.c) -> JSON, with
 * the typing helpers run on every scalar.  Diagnostics go to /dev/null.
 *
 * Besides the sanitizers, it checks two properties and aborts when one
 * fails: every node below the root has a 1-based location, and merging a
 * tree over itself changes nothing (same JSON).
 *
 *   make fuzz, or by hand:
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
 *       -Icompiler tests/fuzz/fuzz_yaml.c compiler/yaml.c compiler/merge.c \
 *       compiler/diag.c compiler/arena.c -lfyaml -ljansson -lm
 *   ./a.out -max_total_time=60 CORPUS_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "merge.h"
#include "node.h"
#include "yaml.h"

#include "libfyaml_leak.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_yaml: %s\n", what);
	abort();
}

/* Visit every node below `n` (aliases make this a DAG: bound the work). */
static void
walk(const struct mcc_node *n, int depth, size_t *budget)
{
	int64_t i;
	uint64_t u;
	double v;
	int b;

	if (!*budget)
		return;
	--*budget;
	if (depth > MCC_NODE_MAX_DEPTH + 1)
		fail("tree deeper than the loader allows");
	if (depth > 0 && (n->loc.line < 1 || n->loc.col < 1))
		fail("node without a location");
	if (!n->loc.file || strcmp(n->loc.file, "fuzz.yaml"))
		fail("node from another file");
	mcc_node_kind_name(n);
	switch (n->kind) {
	case MCC_N_NULL:
	case MCC_N_SCALAR:
		if (!n->text || strlen(n->text) != n->len)
			fail("scalar text and length disagree");
		mcc_scalar_as_bool(n, &b);
		mcc_scalar_as_int(n, &i);
		mcc_scalar_as_uint(n, &u);
		mcc_scalar_as_double(n, &v);
		break;
	case MCC_N_SEQ:
		for (size_t k = 0; k < n->nr; k++)
			walk(n->items[k], depth + 1, budget);
		break;
	case MCC_N_MAP:
		for (size_t k = 0; k < n->nr; k++) {
			if (n->pairs[k].key->kind != MCC_N_SCALAR)
				fail("mapping key is not a scalar");
			walk(n->pairs[k].key, depth + 1, budget);
			walk(n->pairs[k].value, depth + 1, budget);
			if (k < 4)
				mcc_node_get(n, n->pairs[k].key->text);
		}
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct mcc_diag d;
	struct mcc_node *root, *merged;
	size_t budget = 100000;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		fail("cannot open /dev/null");
	mcc_diag_init(&d, devnull, MCC_DIAG_TEXT);
	root = mcc_yaml_load_string("fuzz.yaml", (const char *)data, size, 0, &d);
	if (root) {
		if (root->kind != MCC_N_MAP)
			fail("root is not a mapping");
		walk(root, 0, &budget);
		merged = mcc_merge(root, root);
		char *a = mcc_node_to_json(root, 0), *b = mcc_node_to_json(merged, 0);

		if ((a == NULL) != (b == NULL) || (a && strcmp(a, b)))
			fail("merging a tree over itself changed it");
		mcc_node_to_json(merged, 1);
		mcc_node_at(merged, "a.b[0].c");
	} else if (!d.nerrors) {
		fail("no tree and no error");
	}
	mcc_diag_release(&d);
	mcc_arena_free_all();
	return 0;
}
