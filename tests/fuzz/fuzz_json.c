/*
 * fuzz_json.c - differential libFuzzer target: runtime/jsonparse.c against
 * jansson's json_loadb().  Byte 0 picks the flags (bit 0 JSON_DECODE_ANY,
 * bit 1 JSON_ALLOW_NUL); the rest is the input.  The two must accept the
 * same inputs and build equal values; mcpg's parser must never crash or
 * leak.  Aborts on any disagreement but one: jansson 2.14 drops a NUL
 * byte that follows a number (its lexer "ungets" the NUL, and a NUL in its
 * look-ahead buffer means "read the next byte"), so it accepts "[1\0]",
 * which mcpg refuses; then mcpg must agree with jansson on the input
 * without its NUL bytes.
 *
 *   make fuzz && tests/fuzz/run fuzz_json 60
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t flags = 0;
	json_error_t e1, e2;
	json_t *a, *b;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		flags |= JSON_DECODE_ANY;
	if (data[0] & 2)
		flags |= JSON_ALLOW_NUL;
	a = mcpg_json_load((const char *)data + 1, size - 1, flags, &e1);
	b = json_loadb((const char *)data + 1, size - 1, flags, &e2);
	if (!a && b) {
		char *t = malloc(size);
		size_t n = 0;

		for (size_t i = 1; t && i < size; i++)
			if (data[i])
				t[n++] = (char)data[i];
		if (t && n < size - 1)
			a = mcpg_json_load(t, n, flags, &e1);
		free(t);
	}
	if (!a != !b) {
		fprintf(stderr, "disagree: mcpg %s (%s), jansson %s (%s)\n", a ? "accepts" : "refuses",
			a ? "" : e1.text, b ? "accepts" : "refuses", b ? "" : e2.text);
		abort();
	}
	if (a && !json_equal(a, b)) {
		fprintf(stderr, "disagree: different values\n");
		abort();
	}
	if (!a && !e1.text[0]) {
		fprintf(stderr, "refused without a message\n");
		abort();
	}
	json_decref(a);
	json_decref(b);
	return 0;
}
