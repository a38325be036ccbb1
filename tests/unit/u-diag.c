/*
 * u-diag.c - the diagnostic sink: GNU text format, notes, the error cap,
 * JSON output and did-you-mean.
 */
#include "arena.h"
#include "diag.h"
#include "test.h"

#include <stdlib.h>

static char *
capture(void (*fn)(struct mcc_diag *), enum mcc_diag_format fmt, int *nerrors)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct mcc_diag d;

	mcc_diag_init(&d, f, fmt);
	fn(&d);
	mcc_diag_finish(&d);
	*nerrors = d.nerrors;
	mcc_diag_release(&d);
	fclose(f);
	return buf;
}

static void
report_three(struct mcc_diag *d)
{
	mcc_error(d, (struct mcc_loc){ "a.yaml", 3, 9 }, "'%s': %d is out of range 1..65535",
		  "gateway.server.port", 70000);
	mcc_note(d, (struct mcc_loc){ "base.yaml", 1, 2 }, "'%s' was first set here", "port");
	mcc_warning(d, (struct mcc_loc){ "a.yaml", 4, 0 }, "deprecated");
	mcc_error(d, MCC_NOLOC, "cannot open 'x.yaml': No such file or directory");
}

static void
text_format(void)
{
	int n;
	char *out = capture(report_three, MCC_DIAG_TEXT, &n);

	CHECK_STR(out, "a.yaml:3:9: error: 'gateway.server.port': 70000 is out of range 1..65535\n"
		       "base.yaml:1:2: note: 'port' was first set here\n"
		       "a.yaml:4: warning: deprecated\n"
		       "mcpgc: error: cannot open 'x.yaml': No such file or directory\n");
	CHECK(n == 2);
	free(out);
}

static void
json_format(void)
{
	int n;
	char *out = capture(report_three, MCC_DIAG_JSON, &n);

	CHECK(out && strstr(out, "{\"severity\":\"error\",\"file\":\"a.yaml\",\"line\":3,"
				 "\"column\":9,\"message\":\"'gateway.server.port': 70000"));
	CHECK(out && strstr(out, "{\"severity\":\"error\",\"file\":null,\"line\":0"));
	CHECK(out && out[0] == '[' && strstr(out, "]\n"));
	free(out);
}

static void
many(struct mcc_diag *d)
{
	for (int i = 1; i <= 30; i++) {
		mcc_error(d, (struct mcc_loc){ "x.yaml", i, 1 }, "error %d", i);
		mcc_note(d, (struct mcc_loc){ "x.yaml", i, 2 }, "note %d", i);
	}
}

static void
error_cap(void)
{
	int n;
	char *out = capture(many, MCC_DIAG_TEXT, &n);

	CHECK(n == MCC_DIAG_MAX_ERRORS);
	CHECK(out && strstr(out, "x.yaml:20:1: error: error 20\nx.yaml:20:2: note: note 20\n"
				 "mcpgc: error: too many errors, stopping\n"));
	CHECK(out && !strstr(out, "error 21"));
	CHECK(out && !strstr(out, "note 21"));
	free(out);
}

static void
did_you_mean(void)
{
	static const char *const keys[] = { "bind_address", "mcp_path", "health_path",
					    "allowed_origins", "tls" };

	CHECK_STR(mcc_closest("bind_adress", keys, 5), "bind_address");
	CHECK_STR(mcc_closest("helth_path", keys, 5), "health_path");
	CHECK_STR(mcc_closest("tsl", keys, 5), "tls");
	CHECK(mcc_closest("zzzzzz", keys, 5) == NULL);
	CHECK(mcc_closest("", keys, 5) == NULL);
}

static void
arena(void)
{
	char *s = mcc_printf("%s-%d", "x", 42);
	int *v = mcc_alloc(4 * sizeof(int));

	CHECK_STR(s, "x-42");
	CHECK(v[0] == 0 && v[3] == 0);
	v[1] = 7;
	v = mcc_grow(v, 4, 1000000, sizeof(int));
	CHECK(v[1] == 7 && v[999999] == 0);
	CHECK_STR(mcc_strndup("abcdef", 3), "abc");
	mcc_arena_free_all();
}

int
main(void)
{
	TEST(text_format);
	TEST(json_format);
	TEST(error_cap);
	TEST(did_you_mean);
	TEST(arena);
	return test_done();
}
