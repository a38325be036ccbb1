/*
 * u-json.c - the JSON writer (compiler/json.c) against jansson.
 *
 * The writer must give the bytes json_dumps() gave for the same tree, as
 * mcpgc did before it had its own writer: images (and their digests) must
 * not change.  The reference below is that earlier code.  Random trees mix
 * every scalar form the typing knows, strings with control characters,
 * non-ASCII and invalid UTF-8, and floats that need different precisions.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "node.h"
#include "yaml.h"

#include "test.h"

/* ---- The reference: a jansson tree and json_dumps --------------------- */

static int
ref_precision(double v)
{
	char buf[40];

	for (int p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return p;
	}
	return 17;
}

static json_t *
ref_tree(const struct mcc_node *n, int depth, int *prec)
{
	json_t *j = NULL;
	int64_t i;
	double v;
	int b;

	if (depth > MCC_NODE_MAX_DEPTH)
		return NULL;
	switch (n->kind) {
	case MCC_N_NULL:
		return json_null();
	case MCC_N_SCALAR:
		if (mcc_scalar_as_bool(n, &b) == MCC_SCALAR_OK)
			return json_boolean(b);
		if (mcc_scalar_as_int(n, &i) == MCC_SCALAR_OK)
			return json_integer(i);
		if (mcc_scalar_as_double(n, &v) == MCC_SCALAR_OK && isfinite(v)) {
			int p = ref_precision(v);

			if (p > *prec)
				*prec = p;
			return json_real(v);
		}
		if (n->type == MCC_T_NULL)
			return json_null();
		return json_stringn(n->text, n->len);
	case MCC_N_SEQ:
		j = json_array();
		for (size_t k = 0; j && k < n->nr; k++) {
			json_t *item = ref_tree(n->items[k], depth + 1, prec);

			if (!item || json_array_append_new(j, item) < 0) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	case MCC_N_MAP:
		j = json_object();
		for (size_t k = 0; j && k < n->nr; k++) {
			const struct mcc_node *key = n->pairs[k].key;
			json_t *val = ref_tree(n->pairs[k].value, depth + 1, prec);

			if (!val || json_object_setn_new(j, key->text, key->len, val) < 0) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	}
	return NULL;
}

static char *
ref_json(const struct mcc_node *n, int sorted_keys)
{
	size_t flags = JSON_COMPACT | (sorted_keys ? JSON_SORT_KEYS : JSON_PRESERVE_ORDER);
	int prec = 0;
	json_t *j;
	char *s, *r;

	if (!n || !(j = ref_tree(n, 0, &prec)))
		return NULL;
	if (prec)
		flags |= JSON_REAL_PRECISION(prec);
	s = json_dumps(j, flags | JSON_ENCODE_ANY);
	json_decref(j);
	if (!s)
		return NULL;
	r = mcc_strdup(s);
	free(s);
	return r;
}

/* ---- Random trees ------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const fixed[] = {
	"0", "-0", "+0", "00", "007", "+5", "-5", "9223372036854775807",
	"9223372036854775808", "-9223372036854775808", "-9223372036854775809",
	"18446744073709551616", "0x10", "0xFFFFFFFFFFFFFFFF", "0x7fffffffffffffff",
	"0o17", "0o1777777777777777777777", "0o7777777777777777777777777",
	"1.5", ".5", "5.", "-.5", "+.5", "1e5", "1E-5", "-0.0", "0.0", "1e400",
	"1e-400", "2.5e-324", "1.7976931348623157e308", "0.1", "0.2",
	"0.30000000000000004", "1e16", "1e15", "123456789012345678", "1e-5",
	"1e-4", "1e21", "100", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "true",
	"False", "TRUE", "null", "~", "", "Null", "yes", "no", "on", "1_000",
	"1,5", "0x", "0o", "0b101", "1e", "e5", "--1", "12345678901234567890123",
	"3.14159265358979", "2.718281828459045", "6.02214076e23", "-1e-7",
	"1.0000000000000002", "4.9e-324", "123.456e-7", "1e+05", "9.999999e22",
};

/* A random string: ASCII, specials, control bytes, UTF-8, invalid bytes. */
static char *
rnd_text(size_t *len)
{
	static const char *const pieces[] = {
		"a", "Z", "0", " ", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t",
		"\x01", "\x1f", "\x7f", "é", "€", "😀", "\xe2\x80\xa8", "\xc3",
		"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8",
		"\xe0\x80\xaf", "\xf0\x8f\xbf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
		"key", "${x}", "<>&'",
	};
	char buf[256];
	size_t n = 0, k = rnd(4) ? rnd(8) : rnd(40);

	for (size_t i = 0; i < k; i++) {
		/* Mostly valid text, so whole trees still get compared often. */
		size_t np = sizeof(pieces) / sizeof(*pieces);
		const char *p = pieces[rnd(10) ? rnd(19) : rnd((unsigned)np)];
		size_t l = strlen(p);

		if (n + l >= sizeof(buf))
			break;
		memcpy(buf + n, p, l);
		n += l;
	}
	*len = n;
	return mcc_strndup(buf, n);
}

static char *
rnd_number(size_t *len)
{
	char buf[64];
	double scale = 1;

	switch (rnd(4)) {
	case 0:
		for (unsigned e = rnd(40); e > 0; e--)
			scale *= 10;
		snprintf(buf, sizeof(buf), "%.*g", 1 + rnd(17),
			 ((double)rnd(1000000) - 500000) * scale / 1e20);
		break;
	case 1:
		snprintf(buf, sizeof(buf), "%s%u", rnd(3) ? "" : "-", rnd(100000));
		break;
	case 2:
		snprintf(buf, sizeof(buf), "%u.%u", rnd(1000), rnd(1000));
		break;
	default:
		snprintf(buf, sizeof(buf), "%ue%s%u", rnd(100), rnd(2) ? "-" : "", rnd(330));
		break;
	}
	*len = strlen(buf);
	return mcc_strdup(buf);
}

static struct mcc_node *
rnd_scalar(void)
{
	struct mcc_node *n = mcc_alloc(sizeof(*n));
	size_t len;
	char *text;

	switch (rnd(4)) {
	case 0:
		text = mcc_strdup(fixed[rnd(sizeof(fixed) / sizeof(*fixed))]);
		len = strlen(text);
		break;
	case 1:
		text = rnd_number(&len);
		break;
	default:
		text = rnd_text(&len);
		break;
	}
	n->text = text;
	n->len = len;
	if (rnd(4)) {
		n->style = MCC_STYLE_PLAIN;
		n->type = (unsigned char)mcc_plain_type(text, len);
	} else {
		n->style = MCC_STYLE_DOUBLE_QUOTED;
		n->type = MCC_T_STR;
	}
	n->kind = n->type == MCC_T_NULL && n->style == MCC_STYLE_PLAIN && rnd(2)
			  ? MCC_N_NULL : MCC_N_SCALAR;
	return n;
}

static struct mcc_node *
rnd_node(int depth)
{
	unsigned r = depth > 5 ? 3 : rnd(6);
	struct mcc_node *n;

	if (r >= 2)
		return rnd_scalar();
	n = mcc_alloc(sizeof(*n));
	n->text = "";
	n->nr = rnd(r == 0 ? 6 : 20);
	if (r == 0) {
		n->kind = MCC_N_SEQ;
		n->items = mcc_alloc((n->nr + 1) * sizeof(*n->items));
		for (size_t i = 0; i < n->nr; i++)
			n->items[i] = rnd_node(depth + 1);
		return n;
	}
	n->kind = MCC_N_MAP;
	n->pairs = mcc_alloc((n->nr + 1) * sizeof(*n->pairs));
	for (size_t i = 0; i < n->nr; i++) {
		struct mcc_node *k;

	again:
		k = rnd_scalar();
		k->kind = MCC_N_SCALAR;
		/* Keys are unique in a mapping (the loader guarantees it). */
		for (size_t j = 0; j < i; j++)
			if (n->pairs[j].key->len == k->len &&
			    !memcmp(n->pairs[j].key->text, k->text, k->len))
				goto again;
		n->pairs[i].key = k;
		n->pairs[i].value = rnd_node(depth + 1);
	}
	return n;
}

static int
same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void
random_trees_match_jansson(void)
{
	int bad = 0, valid = 0;

	for (int i = 0; i < 20000 && bad < 5; i++) {
		struct mcc_node *n = rnd_node(0);

		for (int sorted = 0; sorted < 2; sorted++) {
			char *want = ref_json(n, sorted), *got = mcc_node_to_json(n, sorted);

			valid += want != NULL;
			if (!same(want, got)) {
				bad++;
				printf("    sorted=%d\n    want %s\n    got  %s\n", sorted,
				       want ? want : "(null)", got ? got : "(null)");
			}
		}
	}
	CHECK(bad == 0);
	/* Most trees must be representable, or the test proves little. */
	CHECK(valid > 20000);
}

/* Every byte at every place of a string, alone and next to a 2-byte character. */
static void
every_byte_in_a_string(void)
{
	int bad = 0;

	for (unsigned c = 1; c < 256; c++) {
		for (size_t at = 0; at < 20; at++) {
			char text[24];
			struct mcc_node n = { .kind = MCC_N_SCALAR, .type = MCC_T_STR,
					      .text = text, .len = 20 };

			memset(text, 'x', 20);
			text[20] = '\0';
			text[at] = (char)c;
			bad += !same(ref_json(&n, 0), mcc_node_to_json(&n, 0));
			if (at + 2 < 20) {
				text[at + 1] = (char)0xc3;
				text[at + 2] = (char)0xa9;
				bad += !same(ref_json(&n, 0), mcc_node_to_json(&n, 0));
			}
		}
	}
	CHECK(bad == 0);
}

static void
depth_limit(void)
{
	for (int d = MCC_NODE_MAX_DEPTH - 2; d <= MCC_NODE_MAX_DEPTH + 2; d++) {
		struct mcc_node *leaf = mcc_alloc(sizeof(*leaf)), *n = leaf;

		leaf->kind = MCC_N_SCALAR;
		leaf->type = MCC_T_INT;
		leaf->text = "1";
		leaf->len = 1;
		for (int i = 0; i < d; i++) {
			struct mcc_node *up = mcc_alloc(sizeof(*up));

			up->kind = i % 2 ? MCC_N_SEQ : MCC_N_MAP;
			up->text = "";
			up->nr = 1;
			if (up->kind == MCC_N_SEQ) {
				up->items = mcc_alloc(sizeof(*up->items));
				up->items[0] = n;
			} else {
				struct mcc_node *k = mcc_alloc(sizeof(*k));

				k->kind = MCC_N_SCALAR;
				k->text = "k";
				k->len = 1;
				up->pairs = mcc_alloc(sizeof(*up->pairs));
				up->pairs[0].key = k;
				up->pairs[0].value = n;
			}
			n = up;
		}
		CHECK(same(ref_json(n, 0), mcc_node_to_json(n, 0)));
		CHECK((mcc_node_to_json(n, 0) != NULL) == (d <= MCC_NODE_MAX_DEPTH));
	}
}

/* Loaded documents, and appending to a buffer that holds something. */
static void
documents_and_buffer(void)
{
	static const char *const docs[] = {
		"a: [0.1, 1.0, 1e300, -0.5, 0.30000000000000004]\nbig: 18446744073709551616\n",
		"z: 1\na: \"1\"\nf: 0.1\ng: 2.50\nb: [true, false, null, ~, '']\nh: 0x10\n"
		"inf: .inf\nu: \"\\u00e9 \\\" \\n \\x01 \\t /\"\nm: {y: 1, x: {}}\nyes: yes\n",
		"type: object\nproperties:\n  q: {type: string, maxLength: 100}\nrequired: [q]\n",
		"- !!str 12\n- !!float 1\n- !!int 0o17\n- !!null ''\n- 'quoted'\n- |\n  block\n  text\n",
		"{b: 2, a: 1, B: 3, \"\": 0, ab: 4, aa: 5, \"a\\0\": 6}\n",
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
		struct mcc_diag d;
		struct mcc_node *n;

		mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
		n = mcc_yaml_load_string("t.yaml", docs[i], strlen(docs[i]), 0, &d);
		mcc_diag_release(&d);
		if (!n)
			continue; /* a document the loader refuses proves nothing */
		for (int sorted = 0; sorted < 2; sorted++) {
			struct strbuf sb = STRBUF_INIT;
			char *want = ref_json(n, sorted);

			CHECK(same(want, mcc_node_to_json(n, sorted)));
			strbuf_addstr(&sb, "prefix");
			CHECK(mcc_json_add_node(&sb, n, sorted) == (want ? 0 : -1));
			CHECK(!strncmp(sb.buf, "prefix", 6));
			CHECK(same(sb.buf + 6, want ? want : ""));
			strbuf_release(&sb);
		}
	}
	/* A failure leaves the buffer as it was. */
	{
		struct strbuf sb = STRBUF_INIT;
		struct mcc_node bad = { .kind = MCC_N_SCALAR, .type = MCC_T_STR,
					.text = "\xff", .len = 1 };
		struct mcc_node *items[2] = { NULL, &bad };
		struct mcc_node one = { .kind = MCC_N_SCALAR, .type = MCC_T_INT,
					.text = "1", .len = 1 };
		struct mcc_node seq = { .kind = MCC_N_SEQ, .text = "", .nr = 2 };

		items[0] = &one;
		seq.items = items;
		strbuf_addstr(&sb, "keep");
		CHECK(mcc_json_add_node(&sb, &seq, 0) == -1);
		CHECK(mcc_json_add_node(&sb, NULL, 0) == -1);
		CHECK_STR(sb.buf, "keep");
		strbuf_release(&sb);
	}
}

int
main(void)
{
	TEST(random_trees_match_jansson);
	TEST(every_byte_in_a_string);
	TEST(depth_limit);
	TEST(documents_and_buffer);
	return test_done();
}
