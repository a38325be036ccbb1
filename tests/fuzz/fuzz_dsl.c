/*
 * fuzz_dsl.c - libFuzzer target for the schema DSL front end: bytes ->
 * mcc_schema_parse() (compiler/lex.re, parse.y, sema.c, dsl.c).
 * Diagnostics go to /dev/null.
 *
 * Besides the sanitizers, it checks and aborts when one fails: a NULL
 * result comes with at least one error; a schema comes with none, and its
 * tables hold together (indices in range, fields inside their record,
 * slots aligned); parsing the same bytes twice gives the same hash.
 *
 *   make fuzz, or by hand (after `make build/compiler/parse.h`):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
 *       -Icompiler -Iruntime -Ibuild/compiler tests/fuzz/fuzz_dsl.c \
 *       compiler/dsl.c compiler/sema.c build/compiler/lex.c build/compiler/parse.c \
 *       compiler/diag.c compiler/arena.c -lcrypto
 *   ./a.out -max_total_time=60 CORPUS_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "dsl.h"
#include "schema_desc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_dsl: %s\n", what);
	abort();
}

static void
check_tables(const struct mcpg_schema *s)
{
	if (s->ntypes < 8 || s->types[0].kind != 0 || s->types[1].kind != MCPG_K_BOOL)
		fail("types do not start with none and the primitives");
	if (!s->root || s->root >= s->ntypes || s->types[s->root].kind != MCPG_K_STRUCT)
		fail("root is not a struct");
	if (!s->hash_hex || strlen(s->hash_hex) != 64)
		fail("hash_hex is not 64 hex digits");
	for (uint32_t i = 1; i < s->ntypes; i++) {
		const struct mcpg_type *t = &s->types[i];

		if (!t->name || t->elem >= s->ntypes)
			fail("type without a name or with a bad element");
		if (t->align != 1 && t->align != 4 && t->align != 8)
			fail("alignment is not 1, 4 or 8");
		if (t->kind == MCPG_K_STRUCT) {
			if (t->size % 8 || (uint32_t)t->first + t->count > s->nfields)
				fail("struct record size or fields out of range");
			for (uint32_t j = t->first; j < (uint32_t)t->first + t->count; j++) {
				const struct mcpg_field *f = &s->fields[j];
				const struct mcpg_type *ft = &s->types[f->type];
				uint32_t align = ft->kind == MCPG_K_STRUCT ? 8 : ft->align;

				if (!f->type || f->type >= s->ntypes)
					fail("field without a type");
				if (f->offset % align || f->offset + ft->size > t->size)
					fail("field slot misaligned or outside its record");
				if (t->set_words && f->offset < 8)
					fail("field over the set mask");
				if (f->set_bit >= 0 && !t->set_words)
					fail("set bit without a set mask");
			}
		}
		if (t->kind == MCPG_K_ENUM && (uint32_t)t->first + t->count > s->nvalues)
			fail("enum values out of range");
		if (t->kind == MCPG_K_UNION && (uint32_t)t->first + t->count > s->nvariants)
			fail("union variants out of range");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct mcc_diag d;
	const struct mcpg_schema *s, *again;
	char *text;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		fail("cannot open /dev/null");
	text = malloc(size + 1);
	if (!text)
		fail("out of memory");
	memcpy(text, data, size);
	text[size] = '\0';

	mcc_diag_init(&d, devnull, MCC_DIAG_TEXT);
	s = mcc_schema_parse("fuzz.mcs", text, size, &d);
	if (!s && !d.nerrors)
		fail("no schema and no error");
	if (s && d.nerrors)
		fail("a schema despite errors");
	if (s) {
		check_tables(s);
		again = mcc_schema_parse("fuzz.mcs", text, size, &d);
		if (!again || again->hash != s->hash || strcmp(again->hash_hex, s->hash_hex))
			fail("same text, different hash");
	}
	mcc_diag_release(&d);
	mcc_arena_free_all();
	free(text);
	return 0;
}
