/*
 * u-merge.c - layering (compiler/merge.c): later layers win, mappings merge
 * key by key, sequences and nulls replace, provenance survives; and the
 * lookups in node.h.
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

#include "test.h"

static int layer_nr;

/* Load `text` as the next layer, named `name`; no diagnostics expected. */
static struct mcc_node *
layer(const char *name, const char *text)
{
	struct mcc_diag d;
	struct mcc_node *r;

	mcc_diag_init(&d, stdout, MCC_DIAG_TEXT);
	r = mcc_yaml_load_string(name, text, strlen(text), layer_nr++, &d);
	CHECK(r != NULL);
	CHECK(d.nr == 0);
	mcc_diag_release(&d);
	return r;
}

static char *
loc_str(const struct mcc_node *n)
{
	if (!n)
		return "(no node)";
	return mcc_printf("%s:%d:%d", n->loc.file ? n->loc.file : "-", n->loc.line, n->loc.col);
}

#define CHECK_LOC(n, want) CHECK_STR(loc_str(n), want)

static const struct mcc_node *
at(const struct mcc_node *root, const char *path)
{
	const struct mcc_node *n = mcc_node_at(root, path);

	if (!n)
		printf("    no node at '%s'\n", path);
	return n;
}

static const char *
json(const struct mcc_node *n)
{
	return mcc_node_to_json(n, 0);
}

/* ---- Merge ------------------------------------------------------------------ */

static void
scalar_later_wins(void)
{
	struct mcc_node *base = layer("base.yaml", "port: 1\nhost: a\n");
	struct mcc_node *prod = layer("prod.yaml", "port: 2\n");
	struct mcc_node *m = mcc_merge(base, prod);

	CHECK_STR(json(m), "{\"port\":2,\"host\":\"a\"}");
	CHECK_LOC(at(m, "port"), "prod.yaml:1:7");
	CHECK(at(m, "port")->layer == prod->layer);
	CHECK(at(m, "port")->overrode == base->pairs[0].value);
	CHECK_LOC(at(m, "port")->overrode, "base.yaml:1:7");
	/* the key is the one that set the value */
	CHECK_LOC(mcc_node_get_pair(m, "port")->key, "prod.yaml:1:1");
	CHECK(at(m, "host") == base->pairs[1].value);
	CHECK(at(m, "host")->overrode == NULL);
}

static void
nested_maps_deep_merge(void)
{
	struct mcc_node *base = layer("base.yaml",
				      "gateway:\n"
				      "  server:\n"
				      "    bind_address: 127.0.0.1:8787\n"
				      "    workers: 4\n"
				      "  limits: {rps: 10}\n"
				      "audit: on\n");
	struct mcc_node *over = layer("local.yaml",
				      "gateway:\n"
				      "  server:\n"
				      "    workers: 8\n"
				      "    tls: {cert: c}\n");
	struct mcc_node *m = mcc_merge(base, over);

	CHECK_STR(json(m),
		  "{\"gateway\":{\"server\":{\"bind_address\":\"127.0.0.1:8787\",\"workers\":8,"
		  "\"tls\":{\"cert\":\"c\"}},\"limits\":{\"rps\":10}},\"audit\":\"on\"}");
	/* siblings keep their provenance */
	CHECK_LOC(at(m, "gateway.server.bind_address"), "base.yaml:3:19");
	CHECK_LOC(at(m, "gateway.server.workers"), "local.yaml:3:14");
	CHECK_LOC(at(m, "gateway.server.workers")->overrode, "base.yaml:4:14");
	CHECK_LOC(at(m, "gateway.server.tls.cert"), "local.yaml:4:17");
	CHECK_LOC(at(m, "gateway.limits"), "base.yaml:5:11");
	/* a merged mapping belongs to the layer that introduced it */
	CHECK_LOC(at(m, "gateway.server"), "base.yaml:3:5");
	CHECK(at(m, "gateway.server")->overrode == NULL);
}

static void
sequences_replaced_whole(void)
{
	struct mcc_node *base = layer("base.yaml", "tools: [a, b, c]\nsinks:\n  - {kind: file}\n");
	struct mcc_node *over = layer("prod.yaml", "tools: [d]\nsinks: []\n");
	struct mcc_node *m = mcc_merge(base, over);

	CHECK_STR(json(m), "{\"tools\":[\"d\"],\"sinks\":[]}");
	CHECK_LOC(at(m, "tools"), "prod.yaml:1:8");
	CHECK_LOC(at(m, "tools")->overrode, "base.yaml:1:8");
	CHECK_LOC(at(m, "sinks"), "prod.yaml:2:8");
	CHECK_LOC(at(m, "sinks")->overrode, "base.yaml:3:3");
}

static void
null_resets_and_keeps_loc(void)
{
	struct mcc_node *base = layer("base.yaml", "a: 1\nb: {x: 1}\nc: [1]\nd: 4\n");
	struct mcc_node *over = layer("prod.yaml", "a: null\nb: ~\nc:\nnew: null\n");
	struct mcc_node *m = mcc_merge(base, over);

	CHECK_STR(json(m), "{\"a\":null,\"b\":null,\"c\":null,\"d\":4,\"new\":null}");
	CHECK(at(m, "a")->kind == MCC_N_NULL && at(m, "a")->layer == over->layer);
	CHECK_LOC(at(m, "a"), "prod.yaml:1:4");
	CHECK_LOC(at(m, "a")->overrode, "base.yaml:1:4");
	CHECK_LOC(at(m, "b"), "prod.yaml:2:4");
	CHECK(at(m, "b")->overrode && at(m, "b")->overrode->kind == MCC_N_MAP);
	/* an empty value sits at its key */
	CHECK_LOC(at(m, "c"), "prod.yaml:3:1");
	CHECK(at(m, "new")->overrode == NULL);
	/* a later layer can set the key again */
	struct mcc_node *again = layer("again.yaml", "a: 5\n");

	m = mcc_merge(m, again);
	CHECK_LOC(at(m, "a"), "again.yaml:1:4");
	CHECK_LOC(at(m, "a")->overrode, "prod.yaml:1:4");
	CHECK_LOC(at(m, "a")->overrode->overrode, "base.yaml:1:4");
}

static void
overrode_chain_three_layers(void)
{
	struct mcc_node *base = layer("base.yaml", "http:\n  port: 80\n");
	struct mcc_node *staging = layer("staging.yaml", "http:\n  port: 8080\n");
	struct mcc_node *prod = layer("prod.yaml", "\n\nhttp: {port: 443}\n");
	struct mcc_node *m = mcc_merge(mcc_merge(base, staging), prod);
	const struct mcc_node *n = at(m, "http.port");

	CHECK_STR(n->text, "443");
	CHECK_LOC(n, "prod.yaml:3:14");
	CHECK(n->layer == prod->layer);
	n = n->overrode;
	CHECK_LOC(n, "staging.yaml:2:9");
	CHECK(n && n->layer == staging->layer);
	n = n ? n->overrode : NULL;
	CHECK_LOC(n, "base.yaml:2:9");
	CHECK(n && n->layer == base->layer && n->overrode == NULL);
}

static void
new_keys_appended_in_order(void)
{
	struct mcc_node *base = layer("base.yaml", "b: 1\na: 1\nc: 1\n");
	struct mcc_node *over = layer("prod.yaml", "z: 2\na: 2\ny: 2\n");
	struct mcc_node *m = mcc_merge(base, over);

	CHECK_STR(json(m), "{\"b\":1,\"a\":2,\"c\":1,\"z\":2,\"y\":2}");
	CHECK_STR(mcc_node_to_json(m, 1), "{\"a\":2,\"b\":1,\"c\":1,\"y\":2,\"z\":2}");
}

static void
kind_changes_replace(void)
{
	struct mcc_node *base = layer("base.yaml", "a: {x: 1}\nb: 1\nc: [1]\n");
	struct mcc_node *over = layer("prod.yaml", "a: 2\nb: {y: 1}\nc: {z: 1}\n");
	struct mcc_node *m = mcc_merge(base, over);

	CHECK_STR(json(m), "{\"a\":2,\"b\":{\"y\":1},\"c\":{\"z\":1}}");
	CHECK(at(m, "b")->overrode == base->pairs[1].value);
	CHECK(at(m, "c")->overrode == base->pairs[2].value);
}

static void
inputs_not_modified(void)
{
	struct mcc_node *base = layer("base.yaml", "s: {a: 1, b: 2}\nl: [1]\n");
	struct mcc_node *over = layer("prod.yaml", "s: {a: 3, c: 4}\nl: [2]\n");
	const char *jb = json(base), *jo = json(over);
	struct mcc_node *m = mcc_merge(base, over);

	CHECK_STR(json(m), "{\"s\":{\"a\":3,\"b\":2,\"c\":4},\"l\":[2]}");
	CHECK_STR(json(base), jb);
	CHECK_STR(json(over), jo);
	CHECK(at(over, "s.a")->overrode == NULL);
	CHECK(at(base, "s")->nr == 2);
	/* merging the same layers again gives the same tree */
	CHECK_STR(json(mcc_merge(base, over)), json(m));
}

static void
empty_and_missing_layers(void)
{
	struct mcc_node *base = layer("base.yaml", "a: 1\n");
	struct mcc_node *empty = layer("empty.yaml", "");
	struct mcc_node *m = mcc_merge(base, empty);

	CHECK_STR(json(m), "{\"a\":1}");
	CHECK_LOC(at(m, "a"), "base.yaml:1:4");
	m = mcc_merge(empty, base);
	CHECK_STR(json(m), "{\"a\":1}");
	CHECK(mcc_merge(NULL, base) == base);
	CHECK(mcc_merge(base, NULL) == base);
	CHECK(mcc_merge(NULL, NULL) == NULL);
}

static void
large_mappings(void)
{
	char a[16384] = "", b[16384] = "";
	struct mcc_node *m;

	for (int i = 0; i < 200; i++)
		sprintf(a + strlen(a), "k%d: %d\n", i, i);
	for (int i = 150; i < 250; i++)
		sprintf(b + strlen(b), "k%d: b%d\n", i, i);
	m = mcc_merge(layer("a.yaml", a), layer("b.yaml", b));
	CHECK(m->nr == 250);
	CHECK_STR(at(m, "k149")->text, "149");
	CHECK_STR(at(m, "k150")->text, "b150");
	CHECK_STR(m->pairs[150].key->text, "k150");
	CHECK_STR(m->pairs[249].key->text, "k249");
	CHECK_LOC(at(m, "k199")->overrode, "a.yaml:200:7");
}

static void
seed_layering(void)
{
	/* an override that names only the fields it changes */
	struct mcc_node *base = layer("base.yaml",
				      "gateway:\n"
				      "  server:\n"
				      "    bind_address: 0.0.0.0:8787\n"
				      "  identity:\n"
				      "    anonymous: false\n"
				      "mcp:\n"
				      "  capabilities:\n"
				      "    tools:\n"
				      "      - name: echo\n"
				      "        backend: {kind: mock}\n");
	struct mcc_node *local = layer("local-overrides.yaml",
				       "gateway:\n"
				       "  server:\n"
				       "    bind_address: 127.0.0.1:8787\n"
				       "  identity: {anonymous: true}\n");
	struct mcc_node *m = mcc_merge(base, local);

	CHECK_STR(at(m, "gateway.server.bind_address")->text, "127.0.0.1:8787");
	CHECK_LOC(at(m, "gateway.server.bind_address"), "local-overrides.yaml:3:19");
	CHECK_LOC(at(m, "gateway.server.bind_address")->overrode, "base.yaml:3:19");
	CHECK_STR(at(m, "gateway.identity.anonymous")->text, "true");
	CHECK_STR(at(m, "mcp.capabilities.tools[0].name")->text, "echo");
	CHECK_LOC(at(m, "mcp.capabilities.tools[0].backend.kind"), "base.yaml:10:25");
}

/* ---- Lookup ----------------------------------------------------------------- */

static void
node_get_and_at(void)
{
	struct mcc_node *r = layer("t.yaml", "a:\n  b: [x, {c: 1}, [y, z]]\n  d.e: 2\n"
					     "l: [[1]]\n");

	CHECK_STR(mcc_node_get(at(r, "a"), "d.e")->text, "2");
	CHECK(mcc_node_get(r, "zz") == NULL);
	CHECK(mcc_node_get(at(r, "a.b"), "x") == NULL); /* not a mapping */
	CHECK(mcc_node_get(NULL, "a") == NULL);
	CHECK_STR(mcc_node_at(r, "a.b[0]")->text, "x");
	CHECK_STR(mcc_node_at(r, "a.b[1].c")->text, "1");
	CHECK_STR(mcc_node_at(r, "a.b[2][1]")->text, "z");
	CHECK_STR(mcc_node_at(r, "l[0][0]")->text, "1");
	CHECK(mcc_node_at(r, "") == r);
	CHECK(mcc_node_at(r, "a.b[3]") == NULL);
	CHECK(mcc_node_at(r, "a.b[x]") == NULL);
	CHECK(mcc_node_at(r, "a.b[1") == NULL);
	CHECK(mcc_node_at(r, "a..b") == NULL);
	CHECK(mcc_node_at(r, "a.") == NULL);
	CHECK(mcc_node_at(r, "a.b[0].q") == NULL);
	CHECK(mcc_node_at(r, "[0]") == NULL);
	CHECK(mcc_node_at(r, "a.b[0]x") == NULL);
	CHECK(mcc_node_at(NULL, "a") == NULL);
	CHECK(mcc_node_at(r, NULL) == NULL);
}

static void
path_strings(void)
{
	CHECK_STR(mcc_path_key(NULL, "gateway"), "gateway");
	CHECK_STR(mcc_path_key("", "gateway"), "gateway");
	CHECK_STR(mcc_path_key("gateway", "server"), "gateway.server");
	CHECK_STR(mcc_path_index("mcp.tools", 3), "mcp.tools[3]");
	CHECK_STR(mcc_path_key(mcc_path_index("mcp.tools", 0), "name"), "mcp.tools[0].name");
}

static void
strmap(void)
{
	struct mcc_strmap m = MCC_STRMAP_INIT;
	char keys[1000][8];
	int vals[1000];

	for (int i = 0; i < 1000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		vals[i] = i;
		CHECK(mcc_strmap_put(&m, keys[i], strlen(keys[i]), &vals[i]) == NULL);
	}
	CHECK(m.nr == 1000);
	CHECK(mcc_strmap_put(&m, "k7", 2, &vals[0]) == &vals[7]);
	CHECK(mcc_strmap_get(&m, "k999", 4) == &vals[999]);
	CHECK(mcc_strmap_get(&m, "k1000", 5) == NULL);
	CHECK(mcc_strmap_get(&m, "k1", 1) == NULL);
	mcc_strmap_release(&m);
	CHECK(mcc_strmap_get(&m, "k1", 2) == NULL);
}

int
main(void)
{
	TEST(scalar_later_wins);
	TEST(nested_maps_deep_merge);
	TEST(sequences_replaced_whole);
	TEST(null_resets_and_keeps_loc);
	TEST(overrode_chain_three_layers);
	TEST(new_keys_appended_in_order);
	TEST(kind_changes_replace);
	TEST(inputs_not_modified);
	TEST(empty_and_missing_layers);
	TEST(large_mappings);
	TEST(seed_layering);
	TEST(node_get_and_at);
	TEST(path_strings);
	TEST(strmap);
	mcc_arena_free_all();
	return test_done();
}
