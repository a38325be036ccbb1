/*
 * u-jsonparse.c - runtime/jsonparse.c against jansson's json_loadb().
 *
 * A table of inputs on the edges of the grammar (numbers, escapes,
 * surrogates, UTF-8, depth, NUL, trailing bytes), each parsed by both with
 * the same flags: both must accept or both refuse, and accepted values must
 * be equal.  Then random documents built from a small grammar, and random
 * byte flips of them, the same way.  tests/fuzz/fuzz_json.c does the same
 * without end; this keeps the agreement checked in `make check`.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonparse.h"

#include "test.h"

static void
agree(const char *in, size_t len, size_t flags)
{
	json_error_t e1, e2;
	json_t *a = mcpg_json_load(in, len, flags, &e1);
	json_t *b = json_loadb(in, len, flags, &e2);

	CHECK(!a == !b);
	if (!a != !b)
		printf("    input %.*s: mcpg %s, jansson %s\n", (int)len, in,
		       a ? "accepts" : e1.text, b ? "accepts" : e2.text);
	if (a && b)
		CHECK(json_equal(a, b));
	if (!a)
		CHECK(e1.text[0] != '\0');
	json_decref(a);
	json_decref(b);
}

static const char *const cases[] = {
	"{}", "[]", " \t\r\n{ } ", "{\"a\":1}", "[1,2,3]", "[1,]", "[,1]", "{\"a\":1,}",
	"{\"a\" 1}", "{1:2}", "{\"a\":1 \"b\":2}", "[", "{", "]", "", "   ", "nul",
	"[true,false,null]", "[tru]", "[truex]", "[nullx]",
	"[0]", "[-0]", "[01]", "[-]", "[1.]", "[.5]", "[+1]", "[1e]", "[1e+]", "[1E-2]",
	"[1.5e3]", "[-0.0]", "[9223372036854775807]", "[-9223372036854775808]",
	"[9223372036854775808]", "[-9223372036854775809]", "[123456789012345678]",
	"[1234567890123456789]", "[1e308]", "[1e309]", "[-1e309]", "[1e-400]",
	"[0.1234567890123456789012345678901234567890123456789012345678901234567890]",
	"[\"a\"]", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[\"\\x\"]", "[\"\\u00e9\"]",
	"[\"\\u00E9\"]", "[\"\\u12\"]", "[\"\\ud83d\\ude00\"]", "[\"\\ud83d\"]",
	"[\"\\ud83dx\"]", "[\"\\ude00\"]", "[\"\\ud83d\\u0041\"]", "[\"\xc3\xa9\"]",
	"[\"\xc3\"]", "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]", "[\"\xc0\xaf\"]",
	"[\"\xf0\x9f\x98\x80\"]", "[\"a\x01\"]", "[\"a\x7f\"]", "[\"unterminated]",
	"{\"a\":1,\"a\":2}", "{\"\":0}", "{\"\\u0000\":1}", "[\"\\u0000\"]",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"x\","
	"\"arguments\":{\"a\":[1,{\"b\":null}]}}}",
	"{} x", "{}}", "[1] [2]", "\"str\"", "42", "true", "null",
};

static void
table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t f = 0; f < 4; f++)
			agree(cases[i], strlen(cases[i]),
			      (f & 1 ? JSON_DECODE_ANY : 0) | (f & 2 ? JSON_ALLOW_NUL : 0));
}

static void
depth(void)
{
	/* jansson counts every value's depth, the outermost being 1, up to 2048. */
	for (int d = 2046; d <= 2050; d++) {
		char *s = malloc(2 * (size_t)d + 2);
		size_t n = 0;

		for (int k = 0; k < d; k++)
			s[n++] = '[';
		s[n++] = '1';
		for (int k = 0; k < d; k++)
			s[n++] = ']';
		agree(s, n, 0);
		free(s);
	}
}

static void
nul_after_number(void)
{
	/* jansson 2.14 drops a NUL after a number; mcpg refuses it. */
	json_error_t e;
	json_t *v = mcpg_json_load("[1\0]", 4, 0, &e);

	CHECK(v == NULL);
	CHECK(strstr(e.text, "byte 2") != NULL);
	json_decref(v);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void
gen(char *s, size_t *n, size_t cap, int d)
{
	static const char *const atoms[] = {
		"0", "-1", "3.25", "1e5", "-2.5E-3", "true", "false", "null", "\"\"", "\"x\"",
		"\"\\u00e9\\n\"", "\"\xc3\xa9\"", "\"\\ud83d\\ude00\"", "123456789012",
	};
	unsigned k = d > 5 ? 2 : rnd(4);

	if (*n + 64 >= cap)
		k = 2;
	if (k == 0 || k == 1) {
		unsigned m = rnd(4);

		s[(*n)++] = k ? '[' : '{';
		for (unsigned i = 0; i < m && *n + 64 < cap; i++) {
			if (i)
				s[(*n)++] = ',';
			if (!k)
				*n += (size_t)snprintf(s + *n, cap - *n, "\"k%u\":", rnd(3));
			gen(s, n, cap, d + 1);
		}
		s[(*n)++] = k ? ']' : '}';
	} else {
		const char *a = atoms[rnd(sizeof(atoms) / sizeof(atoms[0]))];

		*n += (size_t)snprintf(s + *n, cap - *n, "%s", a);
	}
}

static void
random_docs(void)
{
	char s[4096];

	for (int i = 0; i < 3000; i++) {
		size_t n = 0;

		s[n++] = '[';
		gen(s, &n, sizeof(s) - 2, 0);
		s[n++] = ']';
		agree(s, n, 0);
		/* One flipped byte (never a NUL: see nul_after_number). */
		s[rnd((unsigned)n)] = (char)(1 + rnd(255));
		agree(s, n, JSON_DECODE_ANY);
	}
}

int
main(void)
{
	TEST(table);
	TEST(depth);
	TEST(nul_after_number);
	TEST(random_docs);
	return test_done();
}
