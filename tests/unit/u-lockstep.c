/*
 * u-lockstep.c - the lockstep suite (DESIGN.md section 9): the schema, the
 * validator's diagnostics and the configs we ship must move together.
 *
 *   - every template compiles with the cross-field rules (air-gapped with
 *     its override layer tests/config-fixtures/air-gapped.local.yaml), and
 *     so does every tests/config-fixtures/coverage-*.yaml;
 *   - generated/lockstep.cases is what the emitter makes of the schema
 *     linked in, and names every key mcpg-config(5) names;
 *   - coverage: every key that holds a value is set by some template or
 *     coverage fixture;
 *   - one case per line of generated/lockstep.cases (emit_lockstep.c): the
 *     bad value is planted into a copy of a config that sets the key, and
 *     the walk (mcc_validate) must report exactly one error, worded as the
 *     file says, at the node the file names.
 *
 * build -> dump -> build per template is tests/t2100-dump-explain.sh;
 * `mcpgc check` per template is tests/t3000-lockstep.sh.
 *
 * Files are found under $TOP (tests/run exports it), else the current
 * directory when it holds schema/mcpg.schema, else ../.. .
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "compile.h"
#include "diag.h"
#include "emit.h"
#include "gen.h"
#include "image_write.h"
#include "node.h"
#include "schema_desc.h"
#include "validate.h"
#include "yaml.h"

#include "test.h"

#define SCHEMA_PATH "schema/mcpg.schema"
#define MAX_SEGS 32
#define MAX_WHENS 8

static const char *top;

/* ---- Base configs ------------------------------------------------------- */

struct base {
	const char *name;       /* "templates/air-gapped.yaml" */
	const char *files[2];   /* absolute-ish paths under top */
	size_t nfiles;
	int is_template;
	struct mcc_node *tree;  /* merged layers; NULL when they did not load */
};

static struct base *bases;
static size_t nbases;

/* ---- The cases file ----------------------------------------------------- */

struct when {
	const char *path; /* with [] */
	const char *text;
};

struct lcase {
	const char *name;
	const char *set;   /* NULL with remove */
	int remove;
	const char *error;
	const char *at;
	int col;
	const char *none;  /* no case could be made: why */
};

struct key {
	const char *name;  /* as mcpg-config(5) names it */
	const char *path;
	struct when whens[MAX_WHENS];
	size_t nwhens;
	int leaf;
	struct lcase *cases;
	size_t ncases, alloc;
};

static struct key *keys;
static size_t nkeys, keys_alloc;
static char *cases_text; /* the file as read */
static size_t cases_len;

/* A path split at dots, with each "[]" its own segment. */
struct seg {
	const char *key; /* NULL for [] */
};

static char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, alloc = 0, got;

	if (!f)
		return NULL;
	do {
		if (alloc - n < 4096) {
			alloc = alloc ? 2 * alloc : 65536;
			buf = realloc(buf, alloc + 1);
			if (!buf)
				abort();
		}
		got = fread(buf + n, 1, alloc - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted names in `dir` that start with `prefix` and end in ".yaml". */
static char **
list_yaml(const char *dir, const char *prefix, size_t *nr)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, alloc = 0;

	*nr = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (strncmp(e->d_name, prefix, strlen(prefix)) || len < 6 ||
		    strcmp(e->d_name + len - 5, ".yaml"))
			continue;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			v = mcc_grow(v, n, alloc, sizeof(*v));
		}
		v[n++] = mcc_strdup(e->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	*nr = n;
	return v;
}

static int
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void
print_diags(const struct mcc_diag *d)
{
	static const char *const sev[] = { "error", "warning", "note" };

	for (size_t i = 0; i < d->nr; i++) {
		const struct mcc_diag_entry *e = &d->v[i];

		printf("    %s:%d:%d: %s: %s\n", e->loc.file ? e->loc.file : "-", e->loc.line,
		       e->loc.col, sev[e->sev], e->msg);
	}
}

/* ---- Loading ------------------------------------------------------------ */

static void
add_base(const char *name, const char *f1, const char *f2, int is_template)
{
	struct base *b;

	bases = mcc_grow(bases, nbases, nbases + 1, sizeof(*bases));
	b = &bases[nbases++];
	b->name = name;
	b->files[0] = f1;
	b->files[1] = f2;
	b->nfiles = f2 ? 2 : 1;
	b->is_template = is_template;
}

static void
find_bases(void)
{
	const char *tdir = mcc_printf("%s/templates", top);
	const char *fdir = mcc_printf("%s/tests/config-fixtures", top);
	char **v;
	size_t n;

	v = list_yaml(tdir, "", &n);
	for (size_t i = 0; i < n; i++) {
		/* A template whose pre-staged files are not here has an override layer. */
		char *stem = mcc_strndup(v[i], strlen(v[i]) - 5);
		const char *local = mcc_printf("%s/%s.local.yaml", fdir, stem);

		add_base(mcc_printf("templates/%s", v[i]), mcc_printf("%s/%s", tdir, v[i]),
			 file_exists(local) ? local : NULL, 1);
	}
	v = list_yaml(fdir, "coverage-", &n);
	for (size_t i = 0; i < n; i++)
		add_base(mcc_printf("tests/config-fixtures/%s", v[i]),
			 mcc_printf("%s/%s", fdir, v[i]), NULL, 0);
}

/* Every base compiles, cross-field rules included; its tree is kept. */
static void
base_compiles(struct base *b)
{
	struct mcc_config cfg;
	struct mcc_diag d;
	int rc;

	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	rc = mcc_compile(&cfg, &mcpg_schema, b->files, b->nfiles, 0, &d);
	b->tree = cfg.tree;
	/* Warnings (a deprecated key) are allowed: the config is still valid. */
	if (rc || d.nerrors) {
		test_failed_now = 1;
		printf("    %s: mcc_compile returned %d\n", b->name, rc);
		print_diags(&d);
	}
	CHECK(b->tree != NULL);
	mcc_config_release(&cfg);
	mcc_diag_release(&d);
}

static struct key *
new_key(const char *name)
{
	struct key *k;

	if (nkeys == keys_alloc) {
		keys_alloc = keys_alloc ? 2 * keys_alloc : 256;
		keys = mcc_grow(keys, nkeys, keys_alloc, sizeof(*keys));
	}
	k = &keys[nkeys++];
	memset(k, 0, sizeof(*k));
	k->name = name;
	return k;
}

static struct lcase *
new_case(struct key *k, const char *name)
{
	struct lcase *c;

	if (k->ncases == k->alloc) {
		k->alloc = k->alloc ? 2 * k->alloc : 8;
		k->cases = mcc_grow(k->cases, k->ncases, k->alloc, sizeof(*k->cases));
	}
	c = &k->cases[k->ncases++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	return c;
}

/* Parse the cases file; a malformed line fails the case that reads it. */
static void
cases_parse(void)
{
	const char *path = mcc_printf("%s/generated/" MCC_GEN_LOCKSTEP, top);
	char *p, *line, *next;
	struct key *k = NULL;
	struct lcase *c = NULL;
	int lineno = 0;

	cases_text = read_all(path, &cases_len);
	if (!cases_text) {
		test_failed_now = 1;
		printf("    cannot read '%s'\n", path);
		return;
	}
	p = mcc_strndup(cases_text, cases_len);
	for (line = p; line && *line; line = next) {
		char *sp, *word, *rest;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (!*line || *line == '#')
			continue;
		word = line + strspn(line, " ");
		sp = strchr(word, ' ');
		rest = sp ? sp + 1 : "";
		if (sp)
			*sp = '\0';
		if (!strcmp(word, "key")) {
			k = new_key(rest);
			c = NULL;
		} else if (!strcmp(word, "case") && k) {
			c = new_case(k, rest);
		} else if (!strcmp(word, "path") && k && !c) {
			k->path = rest;
		} else if (!strcmp(word, "when") && k && !c && k->nwhens < MAX_WHENS &&
			   strchr(rest, ' ')) {
			char *t = strchr(rest, ' ');

			*t = '\0';
			k->whens[k->nwhens++] = (struct when){ rest, t + 1 };
		} else if (!strcmp(word, "leaf") && k && !c) {
			k->leaf = 1;
		} else if (!strcmp(word, "set") && c) {
			c->set = rest;
		} else if (!strcmp(word, "remove") && c) {
			c->remove = 1;
		} else if (!strcmp(word, "error") && c) {
			c->error = rest;
		} else if (!strcmp(word, "none") && c) {
			c->none = rest;
		} else if (!strcmp(word, "at") && c) {
			char *plus = strstr(rest, " +");

			if (plus) {
				*plus = '\0';
				c->col = atoi(plus + 2);
			}
			c->at = rest;
		} else {
			test_failed_now = 1;
			printf("    %s:%d: cannot read '%s'\n", path, lineno, word);
		}
	}
}

static void
cases_file_reads(void)
{
	cases_parse();
	CHECK(nkeys > 0);
	for (size_t i = 0; i < nkeys; i++) {
		if (!keys[i].path) {
			test_failed_now = 1;
			printf("    key '%s' has no path\n", keys[i].name);
		}
		for (size_t j = 0; j < keys[i].ncases; j++) {
			const struct lcase *c = &keys[i].cases[j];

			if (!c->none && (!c->error || !c->at || (!c->set == !c->remove))) {
				test_failed_now = 1;
				printf("    %s %s: incomplete case\n", keys[i].name, c->name);
			}
		}
	}
}

/* The file is what the emitter makes of the tables mcpgc was built with. */
static void
cases_file_is_current(void)
{
	size_t len;
	char *want = mcc_gen_render(&mcpg_schema, SCHEMA_PATH, MCC_GEN_LOCKSTEP, &len);

	CHECK(want != NULL);
	if (want && cases_text && (len != cases_len || memcmp(want, cases_text, len))) {
		test_failed_now = 1;
		printf("    generated/" MCC_GEN_LOCKSTEP " differs from a fresh render: "
		       "run 'make regen'\n");
	}
	free(want);
}

/* The keys of the cases file are those of mcpg-config(5), in the same order. */
static void
cases_name_every_key(void)
{
	size_t len, i = 0;
	char *list = mcc_gen_render(&mcpg_schema, SCHEMA_PATH, "keys", &len);
	char *line, *next;

	CHECK(list != NULL);
	for (line = list; list && *line; line = next, i++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (i >= nkeys || strcmp(keys[i].name, line)) {
			test_failed_now = 1;
			printf("    key %zu: mcpg-config(5) has '%s', the cases file '%s'\n", i,
			       line, i < nkeys ? keys[i].name : "(nothing)");
			break;
		}
	}
	if (!test_failed_now && i != nkeys) {
		test_failed_now = 1;
		printf("    mcpg-config(5) has %zu keys, the cases file %zu\n", i, nkeys);
	}
	free(list);
}

/* ---- Finding a base that sets a key -------------------------------------- */

static size_t
split(const char *path, struct seg *v)
{
	size_t n = 0;
	const char *p = path;

	while (*p && n < MAX_SEGS) {
		size_t len = strcspn(p, ".[");

		if (len)
			v[n++].key = mcc_strndup(p, len);
		p += len;
		while (p[0] == '[' && p[1] == ']' && n < MAX_SEGS) {
			v[n++].key = NULL;
			p += 2;
		}
		if (*p == '.')
			p++;
	}
	return n;
}

/* `path` with its k-th [] replaced by [idx[k]]. */
static const char *
subst(const char *path, const size_t *idx)
{
	const char *out = "";
	size_t k = 0;

	for (const char *p = path; *p; p++) {
		if (p[0] == '[' && p[1] == ']') {
			out = mcc_printf("%s[%zu]", out, idx[k++]);
			p++;
		} else {
			out = mcc_printf("%s%c", out, *p);
		}
	}
	return out;
}

static int
whens_hold(const struct mcc_node *root, const struct key *k, const size_t *idx)
{
	for (size_t i = 0; i < k->nwhens; i++) {
		const struct mcc_node *t = mcc_node_at(root, subst(k->whens[i].path, idx));

		if (!t || t->kind != MCC_N_SCALAR || strcmp(t->text, k->whens[i].text))
			return 0;
	}
	return 1;
}

/* Depth-first over the list elements; idx[] gets the elements chosen. */
static int
search(const struct mcc_node *root, const struct mcc_node *n, const struct seg *sg,
       size_t ns, size_t i, size_t *idx, size_t ni, const struct key *k)
{
	if (!n)
		return 0;
	if (i == ns)
		return whens_hold(root, k, idx);
	if (sg[i].key)
		return search(root, mcc_node_get(n, sg[i].key), sg, ns, i + 1, idx, ni, k);
	if (n->kind != MCC_N_SEQ)
		return 0;
	for (size_t j = 0; j < n->nr; j++) {
		idx[ni] = j;
		if (search(root, n->items[j], sg, ns, i + 1, idx, ni + 1, k))
			return 1;
	}
	return 0;
}

/* The first base that sets key `k` (with its union tags as `when` says). */
static const struct base *
base_for(const struct key *k, size_t *idx)
{
	struct seg sg[MAX_SEGS];
	size_t ns = split(k->path, sg);

	for (size_t b = 0; b < nbases; b++)
		if (bases[b].tree && search(bases[b].tree, bases[b].tree, sg, ns, 0, idx, 0, k))
			return &bases[b];
	return NULL;
}

static const char *
key_where(const struct key *k)
{
	const char *s = k->path;

	for (size_t i = 0; i < k->nwhens; i++)
		s = mcc_printf("%s%s %s = %s", s, i ? "," : " where", k->whens[i].path,
			       k->whens[i].text);
	return s;
}

/* Coverage: a key that holds a value is set by some template or fixture. */
static void
every_key_is_set(void)
{
	size_t idx[MAX_SEGS], nleaf = 0, nmissing = 0;

	for (size_t i = 0; i < nkeys; i++) {
		if (!keys[i].leaf)
			continue;
		nleaf++;
		if (base_for(&keys[i], idx))
			continue;
		if (!nmissing++)
			printf("    keys no template or coverage fixture sets:\n");
		printf("      %s\n", keys[i].name);
	}
	if (nmissing) {
		test_failed_now = 1;
		printf("    %zu of %zu keys unused; set them in tests/config-fixtures/"
		       "coverage-*.yaml\n", nmissing, nleaf);
	}
	CHECK(nleaf > 0);
}

/* ---- Running a case ------------------------------------------------------- */

/* Nodes are arena memory and may be shared (aliases): copy all of it. */
static struct mcc_node *
deep_copy(const struct mcc_node *n)
{
	struct mcc_node *c = mcc_alloc(sizeof(*c));

	*c = *n;
	if (n->kind == MCC_N_SEQ) {
		c->items = mcc_alloc(n->nr * sizeof(*c->items) + 1);
		for (size_t i = 0; i < n->nr; i++)
			c->items[i] = deep_copy(n->items[i]);
	} else if (n->kind == MCC_N_MAP) {
		c->pairs = mcc_alloc(n->nr * sizeof(*c->pairs) + 1);
		for (size_t i = 0; i < n->nr; i++) {
			c->pairs[i].key = n->pairs[i].key; /* keys are never changed */
			c->pairs[i].value = deep_copy(n->pairs[i].value);
		}
	}
	return c;
}

/* The bad value as a node, from "v: YAML". */
static struct mcc_node *
bad_value(const char *yaml)
{
	char *text = mcc_printf("v: %s\n", yaml);
	struct mcc_diag d;
	struct mcc_node *root;

	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	root = mcc_yaml_load_string("<lockstep>", text, strlen(text), 99, &d);
	if (!root || d.nerrors || root->kind != MCC_N_MAP || root->nr != 1) {
		printf("    the value does not load: %s\n", yaml);
		print_diags(&d);
		mcc_diag_release(&d);
		return NULL;
	}
	mcc_diag_release(&d);
	return root->pairs[0].value;
}

/*
 * In the copy `n`, move each chosen element to the front of its list and
 * replace the key's value with `v` (or remove the key when `v` is NULL).
 */
static int
plant(struct mcc_node *n, const struct seg *sg, size_t ns, const size_t *idx,
      struct mcc_node *v)
{
	size_t k = 0;

	for (size_t i = 0; i < ns; i++) {
		if (!sg[i].key) {
			struct mcc_node *t = n->items[0];

			n->items[0] = n->items[idx[k]];
			n->items[idx[k++]] = t;
			n = n->items[0];
			continue;
		}
		size_t j;

		for (j = 0; j < n->nr; j++)
			if (!strcmp(n->pairs[j].key->text, sg[i].key))
				break;
		if (n->kind != MCC_N_MAP || j == n->nr)
			return -1;
		if (i + 1 < ns) {
			n = n->pairs[j].value;
			continue;
		}
		if (v) {
			n->pairs[j].value = v;
		} else {
			memmove(&n->pairs[j], &n->pairs[j + 1], (n->nr - j - 1) * sizeof(*n->pairs));
			n->nr--;
		}
	}
	return 0;
}

static void
run_case(const struct key *k, const struct lcase *c)
{
	size_t idx[MAX_SEGS], ns, nerr = 0, nwarn = 0;
	struct seg sg[MAX_SEGS];
	const struct base *b;
	struct mcc_node *tree, *v = NULL;
	const struct mcc_node *at;
	const struct mcc_diag_entry *first = NULL;
	struct mcc_image *img;
	struct mcc_diag d;

	if (c->none) {
		test_failed_now = 1;
		printf("    the generator made no case: %s\n", c->none);
		return;
	}
	b = base_for(k, idx);
	if (!b) {
		test_failed_now = 1;
		printf("    no template or coverage fixture sets %s\n", key_where(k));
		return;
	}
	if (c->set && !(v = bad_value(c->set))) {
		test_failed_now = 1;
		return;
	}
	ns = split(k->path, sg);
	tree = deep_copy(b->tree);
	if (plant(tree, sg, ns, idx, v)) {
		test_failed_now = 1;
		printf("    %s: cannot change %s\n", b->name, subst(k->path, idx));
		return;
	}

	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	img = mcc_image_new();
	mcc_validate(&mcpg_schema, tree, img, MCC_V_NO_RULES, &d);
	mcc_image_free(img);
	for (size_t i = 0; i < d.nr; i++) {
		if (d.v[i].sev == MCC_SEV_ERROR && !nerr++)
			first = &d.v[i];
		if (d.v[i].sev == MCC_SEV_WARNING)
			nwarn++;
	}
	at = !strcmp(c->at, ".") ? tree : mcc_node_at(tree, c->at);
	if (nerr != 1 || !first || strcmp(first->msg, c->error) || !at ||
	    !first->loc.file || !at->loc.file || strcmp(first->loc.file, at->loc.file) ||
	    first->loc.line != at->loc.line || first->loc.col != at->loc.col + c->col) {
		test_failed_now = 1;
		printf("    base %s, %s %s\n", b->name, subst(k->path, idx),
		       c->set ? mcc_printf("set to %s", c->set) : "removed");
		printf("    want 1 error: %s\n", c->error);
		if (at)
			printf("    at %s:%d:%d (%s%s)\n", at->loc.file ? at->loc.file : "-",
			       at->loc.line, at->loc.col + c->col, c->at,
			       c->col ? mcc_printf(" +%d", c->col) : "");
		else
			printf("    at %s, which is not in the changed tree\n", c->at);
		printf("    got %zu error%s, %zu warning%s:\n", nerr, nerr == 1 ? "" : "s",
		       nwarn, nwarn == 1 ? "" : "s");
		print_diags(&d);
	}
	mcc_diag_release(&d);
}

/* ---- main ------------------------------------------------------------------ */

static const char *
find_top(void)
{
	const char *t = getenv("TOP");

	if (t && *t)
		return t;
	if (file_exists(SCHEMA_PATH))
		return ".";
	return "../..";
}

int
main(void)
{
	top = find_top();
	find_bases();

	for (size_t i = 0; i < nbases; i++) {
		const char *name = bases[i].nfiles > 1
			? mcc_printf("lockstep: %s compiles (with %s)", bases[i].name,
				     strrchr(bases[i].files[1], '/') + 1)
			: mcc_printf("lockstep: %s compiles", bases[i].name);

		TEST_NAMED(name, base_compiles, &bases[i]);
	}
	TEST_NAMED("lockstep: generated/" MCC_GEN_LOCKSTEP " reads", cases_file_reads);
	TEST_NAMED("lockstep: generated/" MCC_GEN_LOCKSTEP " matches the schema",
		   cases_file_is_current);
	TEST_NAMED("lockstep: the cases name every key of mcpg-config(5)", cases_name_every_key);
	TEST_NAMED("lockstep: coverage: every key is set by a template or fixture",
		   every_key_is_set);
	for (size_t i = 0; i < nkeys; i++)
		for (size_t j = 0; j < keys[i].ncases; j++)
			TEST_NAMED(mcc_printf("lockstep: %s %s", keys[i].name,
					      keys[i].cases[j].name),
				   run_case, &keys[i], &keys[i].cases[j]);
	free(cases_text);
	mcc_arena_free_all();
	return test_done();
}
