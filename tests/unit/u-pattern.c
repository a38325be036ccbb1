/*
 * u-pattern.c - the simple-pattern matcher of compiler/validate.c against
 * glibc's regexec().
 *
 * mcc_pattern_match() stands in for regexec() on the schema's patterns, so
 * it must accept exactly the same strings.  For every pattern of the schema
 * and for some made-up ones (including ones that need backtracking), random
 * strings are built from the pattern (so many match) and then mutated (so
 * many do not), and both matchers must agree on each.
 */
#include <limits.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_desc.h"
#include "validate.h"

#include "test.h"

static uint64_t rng = 0x2545f4914f6cdd1du;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Bytes worth trying: those of the pattern and some troublemakers. */
static size_t
alphabet(const char *ere, unsigned char *out)
{
	static const char extra[] = " \t\n\v\f\r\x01\x7f\x80\xc3\xa9\xff"
				    "aZz09_.-:/+[]^$\\{},*?|()@#%~\"'";
	unsigned char seen[256] = { 0 };
	size_t n = 0;

	for (const char *p = ere; *p; p++)
		seen[(unsigned char)*p] = 1;
	for (const char *p = extra; *p; p++)
		seen[(unsigned char)*p] = 1;
	for (unsigned c = 1; c < 256; c++)
		if (seen[c])
			out[n++] = (unsigned char)c;
	return n;
}

/* A string the compiled pattern likely matches: each atom some times. */
static size_t
from_pattern(const struct mcc_pattern *p, char *buf, size_t cap)
{
	size_t n = 0;

	for (int i = 0; i < p->nr; i++) {
		const struct mcc_pattern_atom *a = &p->atom[i];
		unsigned max = a->max == UINT_MAX || a->max > a->min + 140 ? a->min + 140
									   : a->max;
		unsigned k = a->min + rnd(max - a->min + 1);
		unsigned char members[256];
		size_t nm = 0;

		if (rnd(4) == 0)
			k = rnd(2) ? a->min : max; /* the bounds themselves */
		for (unsigned c = 1; c < 256; c++)
			if (a->set[c >> 3] >> (c & 7) & 1)
				members[nm++] = (unsigned char)c;
		for (unsigned j = 0; j < k && nm && n + 1 < cap; j++)
			buf[n++] = (char)members[rnd((unsigned)nm)];
	}
	buf[n] = '\0';
	return n;
}

/* Compare on `count` strings; returns how many matched. */
static int
compare(const char *ere, int count, int *bad)
{
	struct mcc_pattern p;
	unsigned char abc[256];
	size_t nabc = alphabet(ere, abc);
	regex_t re;
	int matched = 0;

	if (regcomp(&re, ere, REG_EXTENDED | REG_NOSUB)) {
		printf("    regcomp refuses %s\n", ere);
		(*bad)++;
		return 0;
	}
	mcc_pattern_compile(&p, ere);
	for (int i = 0; i < count; i++) {
		char s[512];
		size_t n = p.nr >= 0 && rnd(3) ? from_pattern(&p, s, 300) : 0;

		if (n == 0 && rnd(2)) {
			n = rnd(8) ? rnd(12) : rnd(300);
			for (size_t j = 0; j < n; j++)
				s[j] = (char)abc[rnd((unsigned)nabc)];
			s[n] = '\0';
		}
		for (unsigned m = rnd(3); m > 0 && n > 0; m--) {
			size_t at = rnd((unsigned)n);

			switch (rnd(3)) {
			case 0: /* replace */
				s[at] = (char)abc[rnd((unsigned)nabc)];
				break;
			case 1: /* delete */
				memmove(s + at, s + at + 1, n - at);
				n--;
				break;
			default: /* insert */
				memmove(s + at + 1, s + at, n - at + 1);
				s[at] = (char)abc[rnd((unsigned)nabc)];
				n++;
				break;
			}
		}
		int want = regexec(&re, s, 0, NULL, 0) == 0;
		int got = mcc_pattern_match(&p, s);

		if (got < 0)
			got = want; /* the caller falls back to regexec */
		matched += want;
		if (got != want && *bad < 10) {
			printf("    %s on \"%s\": regexec %d, fast %d\n", ere, s, want, got);
			(*bad)++;
		}
	}
	regfree(&re);
	return matched;
}

static void
schema_patterns(void)
{
	int bad = 0, npat = 0;

	for (uint32_t i = 0; i < mcpg_schema.nfields; i++) {
		const char *ere = mcpg_schema.fields[i].pattern;
		struct mcc_pattern p;

		if (!ere)
			continue;
		npat++;
		/* Every pattern of the schema takes the fast path. */
		if (mcc_pattern_compile(&p, ere)) {
			printf("    not a simple pattern: %s\n", ere);
			bad++;
		}
		int m = compare(ere, 20000, &bad);

		/* Both answers must be well represented. */
		CHECK(m > 1000 && m < 19000);
	}
	CHECK(npat >= 5);
	CHECK(bad == 0);
}

static void
other_patterns(void)
{
	static const char *const simple[] = {
		"^$", "^a$", "^a?$", "^[a-z]*[a-z]*x$", "^a?a?a?aaa$", "^[ab]*b[ab]{2}$",
		"^[[:alpha:]_][[:alnum:]_-]{0,10}$", "^x{0}y$", "^[^a-c]+$", "^x{2,}$",
		"^[-a]+[a-]*[^-]?$", "^[[:space:][:punct:]]{1,3}z$", "^[[:upper:]][[:lower:]]*$",
		"^[[:xdigit:]]{2}:[[:digit:]]{1,2}$", "^[[:blank:][:cntrl:]]*[[:graph:]]+$",
		"^[[:print:]]{0,4}$", "^http://[^/]+/?$", "^[a-c]{3,5}[b-d]{2,3}$",
		"^[A-Za-z0-9_.-]{1,128}$", "^[ -~]{1,3}$",
	};
	static const char *const refused[] = {
		"a", "^a", "a$", "^a|b$", "^(a)$", "^.$", "^a**$", "^a{2}?$", "^[]a]$",
		"^[a\\]]$", "^\\.$", "^[[.a.]]$", "^[[=a=]]$", "^[a-]b]$", "^a{x}$",
		"^a{,3}$", "^[[:nope:]]$", "^a{99999}$", "^\xc3\xa9$", "^[z-a]$",
		"^[a-c-e]$", "^$$", "^^a$",
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(simple) / sizeof(*simple); i++) {
		struct mcc_pattern p;

		if (mcc_pattern_compile(&p, simple[i])) {
			printf("    not a simple pattern: %s\n", simple[i]);
			bad++;
		}
		compare(simple[i], 5000, &bad);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		struct mcc_pattern p;

		if (mcc_pattern_compile(&p, refused[i]) == 0 || p.nr != -1 ||
		    mcc_pattern_match(&p, "a") != -1) {
			printf("    taken as simple: %s\n", refused[i]);
			bad++;
		}
	}
	CHECK(bad == 0);
}

/* A long string is left to regexec (the dead-end memo has a fixed size). */
static void
long_strings(void)
{
	static char s[10000];
	struct mcc_pattern p;

	memset(s, 'a', sizeof(s) - 1);
	CHECK(mcc_pattern_compile(&p, "^[a-z]+$") == 0);
	CHECK(mcc_pattern_match(&p, s) == -1);
	s[8000] = '\0';
	CHECK(mcc_pattern_match(&p, s) == 1);
	s[100] = ' ';
	CHECK(mcc_pattern_match(&p, s) == 0);
}

int
main(void)
{
	TEST(schema_patterns);
	TEST(other_patterns);
	TEST(long_strings);
	return test_done();
}
