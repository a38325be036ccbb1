/*
 * u-audit-verify.c - `mcpgc audit-verify` (compiler/audit_verify.c) on
 * ledgers made here with the runtime's chain hash: an intact chain, one
 * changed byte, a missing line, a chain restart, an unterminated line, bad
 * field order, two files as one chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_verify.h"

#include "test.h"

#define HEAD "{\"event_id\":\"e%d\",\"occurred_at\":\"2026-01-01T00:00:00.000Z\"," \
	     "\"actor\":{\"kind\":\"system\"},\"action\":\"a\",\"outcome\":\"success\",\"details\":{}"

/* Write `n` chained records to `path`, starting the chain at `prev` ("" = genesis). */
static void
ledger(const char *path, int n, char prev[65])
{
	FILE *f = fopen(path, "w");
	char line[512];

	for (int i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), HEAD, i);

		if (prev[0])
			len += snprintf(line + len, sizeof(line) - (size_t)len,
					",\"prev_event_hash\":\"%s\"", prev);
		len += snprintf(line + len, sizeof(line) - (size_t)len, "}");
		mcpg_audit_line_hash(line, (size_t)len, prev);
		fprintf(f, "%s\n", line);
	}
	fclose(f);
}

/* Run the verifier; its stderr into `err`. */
static int
verify(int n, char **files, char *err, size_t len)
{
	FILE *o = tmpfile(), *e = tmpfile();
	int rc = mcc_audit_verify(n, files, o, e);
	size_t k;

	rewind(e);
	k = fread(err, 1, len - 1, e);
	err[k] = '\0';
	fclose(o);
	fclose(e);
	return rc;
}

/* Replace the first `from` on line `lineno` of `path` by `to` (same length or not). */
static void
edit(const char *path, int lineno, const char *from, const char *to)
{
	FILE *f = fopen(path, "r");
	char buf[8192], out[8192] = "", line[1024];
	int n = 0;

	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (++n == lineno && (p = strstr(line, from))) {
			snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - line), line, to,
				 p + strlen(from));
			strcat(out, buf);
		} else {
			strcat(out, line);
		}
	}
	fclose(f);
	f = fopen(path, "w");
	fputs(out, f);
	fclose(f);
}

static void
intact(void)
{
	char prev[65] = "", err[512];
	char *files[] = { "l1" };

	ledger("l1", 5, prev);
	CHECK(verify(1, files, err, sizeof(err)) == 0);
	CHECK(err[0] == '\0');
}

static void
one_byte(void)
{
	char prev[65] = "", err[512];
	char *files[] = { "l1" };

	ledger("l1", 5, prev);
	edit("l1", 3, "\"e2\"", "\"e9\"");
	CHECK(verify(1, files, err, sizeof(err)) == 1);
	CHECK(strncmp(err, "l1:4: error: prev_event_hash", 28) == 0);
}

static void
missing_line(void)
{
	char prev[65] = "", err[512];
	char *files[] = { "l1" };

	ledger("l1", 5, prev);
	edit("l1", 5, "\"e4\"", "\"e4\",\"x\":1");
	CHECK(verify(1, files, err, sizeof(err)) == 1);
	CHECK(strncmp(err, "l1:5: error: unknown field 'x'", 30) == 0);
	ledger("l1", 3, prev); /* prev now chains from an earlier file: a note, not an error */
	CHECK(verify(1, files, err, sizeof(err)) == 0);
}

static void
restart_and_torn(void)
{
	char prev[65] = "", err[512];
	char *files[] = { "l1" };
	FILE *f;

	ledger("l1", 2, prev);
	prev[0] = '\0';
	ledger("l2", 1, prev);
	/* l1 + a line without prev_event_hash: the chain ends there */
	f = fopen("l1", "a");
	fprintf(f, HEAD "}\n", 7);
	fclose(f);
	CHECK(verify(1, files, err, sizeof(err)) == 1);
	CHECK(strstr(err, "l1:3: error: no prev_event_hash") == err);
	f = fopen("l2", "a");
	fputs("{\"event_id\":", f);
	fclose(f);
	files[0] = "l2";
	CHECK(verify(1, files, err, sizeof(err)) == 1);
	CHECK(strstr(err, "l2:2: error: unterminated last line") == err);
}

static void
order_and_files(void)
{
	char prev[65] = "", err[512];
	char *files[] = { "l1", "l2" };

	ledger("l1", 3, prev);
	ledger("l2", 3, prev);
	CHECK(verify(2, files, err, sizeof(err)) == 0);
	files[0] = "l2";
	files[1] = "l1";
	CHECK(verify(2, files, err, sizeof(err)) == 1);
	CHECK(strstr(err, "l1:1: error: no prev_event_hash") == err);
	edit("l2", 1, "\"action\":\"a\",", "");
	edit("l2", 1, "\"occurred_at\"", "\"action\":\"a\",\"occurred_at\"");
	files[0] = "l2";
	CHECK(verify(1, files, err, sizeof(err)) == 1);
	CHECK(strstr(err, "l2:1: error: field 'occurred_at' is out of order") == err);
	files[0] = "no-such-file";
	CHECK(verify(1, files, err, sizeof(err)) == 2);
}

int
main(void)
{
	TEST(intact);
	TEST(one_byte);
	TEST(missing_line);
	TEST(restart_and_torn);
	TEST(order_and_files);
	return test_done();
}
