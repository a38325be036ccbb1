/*
 * u-rules.c - the cross-field rules (compiler/rules.c).
 *
 * First the coverage test: every `rule NAME` of schema/mcpg.schema has an
 * implementation, and every implementation names a schema rule.  Then the
 * behaviour the golden tests (tests/config-errors/01NN) cannot show well:
 * values behind ${env.*} are skipped unless the environment may be read,
 * sensitive values and URL passwords never reach a message, key files are
 * read relative to the config file, and a valid config passes every rule.
 *
 * Configs are YAML strings run through the same pipeline as `mcpgc check`:
 * load, merge, validate, serialise, verify, rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "../../compiler/arena.h"
#include "../../compiler/diag.h"
#include "../../compiler/image_write.h"
#include "../../compiler/merge.h"
#include "../../compiler/rules.h"
#include "../../compiler/validate.h"
#include "../../compiler/yaml.h"
#include "../../runtime/image.h"

static struct mcc_diag d;

/*
 * Check the layers (NULL-terminated YAML texts, named "L0.yaml", ... or
 * by `names`) with `vflags`; returns the number of rule errors, -1 when
 * the config did not even get to the rules.  Diagnostics stay in `d`.
 */
static int
run_named(const char *const *layers, const char *const *names, unsigned vflags)
{
	struct mcc_node *tree = NULL;
	struct mcc_image *img = mcc_image_new();
	struct mcpg_image view;
	struct mcpg_verify_error err;
	unsigned char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	mcc_diag_release(&d);
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	for (int i = 0; layers[i]; i++) {
		const char *name = names ? names[i] : mcc_printf("L%d.yaml", i);
		struct mcc_node *l =
			mcc_yaml_load_string(name, layers[i], strlen(layers[i]), i, &d);

		if (!l)
			goto out;
		tree = tree ? mcc_merge(tree, l) : l;
	}
	if (d.nerrors || mcc_validate(&mcpg_schema, tree, img, vflags | MCC_V_NO_RULES, &d))
		goto out;
	if (mcc_image_serialize(img, mcpg_schema.hash, &buf, &len) ||
	    mcpg_image_verify(&view, buf, len, &mcpg_schema, &err))
		goto out;
	rc = mcc_rules_run(&view, tree, vflags, &d);
out:
	if (rc < 0)
		for (size_t i = 0; i < d.nr; i++)
			printf("    unexpected: %s\n", d.v[i].msg);
	free(buf);
	mcc_image_free(img);
	return rc;
}

static int
run1(const char *yaml, unsigned vflags)
{
	const char *layers[] = { yaml, NULL };

	return run_named(layers, NULL, vflags);
}

/* Whether any diagnostic message contains `s`. */
static int
said(const char *s)
{
	for (size_t i = 0; i < d.nr; i++)
		if (strstr(d.v[i].msg, s))
			return 1;
	return 0;
}

/* The i-th diagnostic's message, or "" */
static const char *
msg(size_t i)
{
	return i < d.nr ? d.v[i].msg : "";
}

/* ---- Coverage ------------------------------------------------------------ */

static void
rule_implemented(const char *name)
{
	CHECK(mcc_rule_implemented(name));
}

static int
in_schema(const char *name)
{
	for (uint32_t i = 0; i < mcpg_schema.nrules; i++)
		if (!strcmp(mcpg_schema.rules[i].name, name))
			return 1;
	return 0;
}

/* Every implementation names a schema rule, in schema order. */
static void
implementations_match_schema(void)
{
	size_t i;

	for (i = 0; mcc_rule_name(i); i++) {
		CHECK(in_schema(mcc_rule_name(i)));
		CHECK(i < mcpg_schema.nrules &&
		      !strcmp(mcc_rule_name(i), mcpg_schema.rules[i].name));
	}
	CHECK(i == mcpg_schema.nrules);
	CHECK(!mcc_rule_implemented("no_such_rule"));
	CHECK(!mcc_rule_implemented(""));
}

/* ---- Behaviour ----------------------------------------------------------- */

#define OPEN_TOOL                                                            \
	"mcp:\n"                                                             \
	"  capabilities:\n"                                                  \
	"    tools:\n"                                                       \
	"      - name: echo\n"                                               \
	"        description: Echo.\n"                                       \
	"        governance: {minimum_trust: unauthenticated}\n"             \
	"        backend: {kind: mock}\n"

static void
valid_config_passes(void)
{
	CHECK(run1(OPEN_TOOL, 0) == 0);
	CHECK(d.nr == 0);
	/* No bindings, no identity, loopback: nothing to object to. */
	CHECK(run1("gateway: {server: {bind_address: '127.0.0.1:1'}}\n", 0) == 0);
}

/* A bind address behind ${env.*} is judged only when the env may be read. */
static void
env_values_skipped_without_env(void)
{
	const char *cfg = "gateway: {server: {bind_address: '${env.U_RULES_BIND}:8787'}}\n"
		OPEN_TOOL;

	setenv("U_RULES_BIND", "0.0.0.0", 1);
	CHECK(run1(cfg, 0) == 0);
	CHECK(run1(cfg, MCC_V_ENV) == 1);
	CHECK(said("'0.0.0.0:8787'"));
	setenv("U_RULES_BIND", "127.0.0.1", 1);
	CHECK(run1(cfg, MCC_V_ENV) == 0);
	unsetenv("U_RULES_BIND");
}

/* A redis:// URL's user and password never reach a message. */
static void
url_password_not_printed(void)
{
	const char *cfg = "cluster: {kind: redis, url: '${env.U_RULES_URL}'}\n" OPEN_TOOL;

	setenv("U_RULES_URL", "redis://admin:s3cr3t-pw@redis.example.net:6379/0", 1);
	CHECK(run1(cfg, MCC_V_ENV) == 1);
	CHECK(said("'redis.example.net:6379'"));
	CHECK(!said("s3cr3t-pw"));
	CHECK(!said("admin"));
	unsetenv("U_RULES_URL");
	CHECK(run1(cfg, 0) == 0);
}

/* http headers are sensitive: an undeclared argument there is not quoted. */
static void
sensitive_header_not_quoted(void)
{
	CHECK(run1("mcp:\n"
		   "  capabilities:\n"
		   "    resources:\n"
		   "      - name: doc\n"
		   "        description: Doc.\n"
		   "        uri: 'mem://doc'\n"
		   "        governance: {minimum_trust: unauthenticated}\n"
		   "        backend:\n"
		   "          kind: http\n"
		   "          url: 'https://example.com/doc'\n"
		   "          headers: {Authorization: 'Bearer ${arguments.hidden_token_name}'}\n",
		   0) == 1);
	CHECK(said("headers.Authorization"));
	CHECK(!said("hidden_token_name"));
}

/* keys_file is read relative to the directory of the file that set it. */
static void
keys_file_relative_to_config(void)
{
	const char *layers[] = {
		OPEN_TOOL,
		"governance: {access: {jwks: {keys_file: k.json, audience: a,"
		" allowed_algs: [ES256]}}}\n",
		NULL,
	};
	const char *names[] = { "base.yaml", "u-rules-dir/over.yaml", NULL };
	FILE *f;

	mkdir("u-rules-dir", 0777);
	f = fopen("u-rules-dir/k.json", "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	      "\"x\":\"BsvHA32emi-oMQ7Du1DigMUvFxYxeLF1Jy8w8Lzcf8Y\","
	      "\"y\":\"mdo5e1zIoLogGu2DGidT-fBm0b1d9ieiDvZIS3P3Wvs\"}]}\n", f);
	fclose(f);
	CHECK(run_named(layers, names, 0) == 0);
	names[1] = "elsewhere/over.yaml";
	CHECK(run_named(layers, names, 0) == 1);
	CHECK(said("cannot read 'elsewhere/k.json'"));
	remove("u-rules-dir/k.json");
	rmdir("u-rules-dir");
}

/* Key usability per algorithm family, through keys_json. */
static void
jwk_usability(void)
{
	static const struct {
		const char *key, *algs;
		int ok;
	} cases[] = {
		{ "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", "[RS256]", 1 },
		{ "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", "[PS512]", 1 },
		{ "{\"kty\":\"RSA\",\"n\":\"AQAB\"}", "[RS256]", 0 },
		{ "{\"kty\":\"RSA\",\"n\":\"A+B\",\"e\":\"AQAB\"}", "[RS256]", 0 },
		{ "{\"kty\":\"RSA\",\"alg\":\"ES256\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
		  "[ES256, RS256]", 0 },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
		  "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", "[EdDSA]", 1 },
		{ "{\"kty\":\"OKP\",\"crv\":\"X25519\","
		  "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", "[EdDSA]", 0 },
		{ "{\"kty\":\"EC\",\"crv\":\"P-256\","
		  "\"x\":\"BsvHA32emi-oMQ7Du1DigMUvFxYxeLF1Jy8w8Lzcf8Y\","
		  "\"y\":\"mdo5e1zIoLogGu2DGidT-fBm0b1d9ieiDvZIS3P3Wvs\"}", "[ES384]", 0 },
		{ "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}", "[RS256]", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const char *cfg = mcc_printf(
			"governance: {access: {jwks: {keys_json: '{\"keys\":[%s]}', audience: a,"
			" allowed_algs: %s}}}\n" OPEN_TOOL, cases[i].key, cases[i].algs);
		int rc = run1(cfg, 0);

		if (rc != (cases[i].ok ? 0 : 1))
			printf("    case %zu: %d error(s): %s\n", i, rc, msg(0));
		CHECK(rc == (cases[i].ok ? 0 : 1));
	}
}

/* The original of a duplicate name is the one written first, by layer. */
static void
duplicate_blames_later_layer(void)
{
	const char *layers[] = {
		"mcp: {capabilities: {prompts: [{name: x, description: d,"
		" messages: [{text: hi}], governance: {minimum_trust: unauthenticated}}]}}\n",
		"mcp: {capabilities: {tools: [{name: x, description: d,"
		" governance: {minimum_trust: unauthenticated}, backend: {kind: mock}}]}}\n",
		NULL,
	};

	CHECK(run_named(layers, NULL, 0) == 1);
	CHECK(d.nr == 2);
	CHECK(d.v[0].loc.file && !strcmp(d.v[0].loc.file, "L1.yaml"));
	CHECK_STR(msg(0), "'mcp.capabilities.tools[0].name': duplicate binding name 'x'");
	CHECK(d.v[1].sev == MCC_SEV_NOTE && d.v[1].loc.file &&
	      !strcmp(d.v[1].loc.file, "L0.yaml"));
}

/* Rules do nothing for a schema other than mcpg's (summary empty too). */
static void
other_schema_ignored(void)
{
	struct mcpg_image img;
	struct mcpg_schema other = mcpg_schema;

	memset(&img, 0, sizeof(img));
	other.hash ^= 1;
	img.schema = &other;
	mcc_diag_release(&d);
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	CHECK(mcc_rules_run(&img, NULL, 0, &d) == 0);
	CHECK(d.nr == 0);
	CHECK_STR(mcc_config_summary(&img), "");
}

int
main(void)
{
	for (uint32_t i = 0; i < mcpg_schema.nrules; i++)
		TEST_NAMED(mcc_printf("rule_implemented %s", mcpg_schema.rules[i].name),
			   rule_implemented, mcpg_schema.rules[i].name);
	TEST(implementations_match_schema);
	TEST(valid_config_passes);
	TEST(env_values_skipped_without_env);
	TEST(url_password_not_printed);
	TEST(sensitive_header_not_quoted);
	TEST(keys_file_relative_to_config);
	TEST(jwk_usability);
	TEST(duplicate_blames_later_layer);
	TEST(other_schema_ignored);
	mcc_diag_release(&d);
	mcc_arena_free_all();
	return test_done();
}
