/*
 * u-audit-writer.c - the ledger writer of runtime/audit.c in process: a
 * snapshot compiled from YAML, records from many threads at once (all
 * acknowledged durable, fewer syncs than records, one intact chain), then a
 * ledger whose directory disappears (every record refused under
 * fail_closed, the chain unharmed) and comes back (the chain goes on into
 * the new file), and the authentication-failure record.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "audit_verify.h"
#include "compile.h"
#include "diag.h"
#include "rt.h"

#include "test.h"

static struct mcpg_rt *
load(const char *yaml)
{
	static int nimg;
	struct mcc_config cfg;
	struct mcc_diag d;
	const char *files[1] = { "u-audit.yaml" };
	char err[512], img[64];
	struct mcpg_rt *rt = NULL;
	FILE *f = fopen(files[0], "w");

	/* A new file each time: a snapshot maps its image, which must not change. */
	snprintf(img, sizeof(img), "u-audit-%d.img", ++nimg);

	fputs(yaml, f);
	fclose(f);
	memset(&cfg, 0, sizeof(cfg));
	mcc_diag_init(&d, stdout, MCC_DIAG_TEXT);
	if (mcc_compile(&cfg, &mcpg_schema, files, 1, 0, &d) == 0 && !d.nerrors) {
		f = fopen(img, "wb");
		fwrite(cfg.bytes, 1, cfg.len, f);
		fclose(f);
		rt = mcpg_rt_load(img, err, sizeof(err));
		if (!rt)
			printf("    %s\n", err);
	}
	mcc_diag_release(&d);
	mcc_config_release(&cfg);
	return rt;
}

static atomic_int durable, refused, other;

static void
count(void *ctx, int status)
{
	(void)ctx;
	atomic_fetch_add(status == 0 ? &durable : status < 0 ? &refused : &other, 1);
}

static void *
emitter(void *arg)
{
	struct mcpg_audit_event ev = { "mcpg.test", NULL, "test://x", "success", NULL,
				       "{\"n\":1}", 1 };

	(void)arg;
	for (int i = 0; i < 250; i++)
		mcpg_audit_emit(&ev, count, NULL);
	return NULL;
}

static long
metric(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;
	long v = -1;

	mcpg_audit_metrics(&sb);
	p = strstr(sb.buf, name);
	if (p)
		v = strtol(p + strlen(name), NULL, 10);
	strbuf_release(&sb);
	return v;
}

static int
verify(int n, char **files)
{
	FILE *o = tmpfile(), *e = tmpfile();
	int rc = mcc_audit_verify(n, files, o, e);
	char buf[512];
	size_t k;

	rewind(e);
	k = fread(buf, 1, sizeof(buf) - 1, e);
	buf[k] = '\0';
	if (rc)
		printf("    audit-verify: %s", buf);
	fclose(o);
	fclose(e);
	return rc;
}

static void
group_commit_and_rotation(void)
{
	struct mcpg_rt *rt;
	pthread_t th[8];
	char err[512];
	struct mcpg_audit_event ev = { "mcpg.test", NULL, NULL, "success", NULL, NULL, 1 };
	char *one[] = { "ledger/a.log" }, *both[] = { "old.log", "ledger/a.log" };
	long fsyncs;

	mkdir("ledger", 0755);
	unlink("ledger/a.log");
	rt = load("gateway: {server: {bind_address: \"127.0.0.1:8787\"}}\n"
		  "governance:\n  audit:\n    sinks: [{kind: dev.mcpg.builtin.audit.local-file,"
		  " config: {path: ledger/a.log}}]\n");
	CHECK(rt != NULL);
	if (!rt)
		return;
	mcpg_rt_publish(rt);
	CHECK(mcpg_audit_configure(rt, err, sizeof(err)) == 0);
	CHECK(mcpg_audit_active());
	CHECK(mcpg_audit_emit_wait(&ev) == 0);

	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, emitter, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	CHECK(mcpg_audit_emit_wait(&ev) == 0); /* everything before it is written too */
	CHECK(atomic_load(&durable) == 2000);
	fsyncs = metric("\nmcpg_audit_fsyncs_total ");
	CHECK(metric("\nmcpg_audit_records_total ") == 2002);
	CHECK(fsyncs > 0 && fsyncs < 2002);
	CHECK(verify(1, one) == 0);

	/* The directory goes away: nothing can be made durable. */
	rename("ledger/a.log", "old.log");
	rmdir("ledger");
	for (int i = 0; i < 5; i++)
		mcpg_audit_emit(&ev, count, NULL);
	CHECK(mcpg_audit_emit_wait(&ev) == -1);
	CHECK(atomic_load(&refused) == 5);
	CHECK(metric("\nmcpg_audit_failures_total ") == 6);
	/* It comes back: the chain goes on from old.log into the new file. */
	mkdir("ledger", 0755);
	CHECK(mcpg_audit_emit_wait(&ev) == 0);
	CHECK(metric("\nmcpg_audit_reopens_total ") == 1);
	{
		/* The record the identity code writes for a rejected token. */
		struct sockaddr_in peer;
		char line[2048] = "";
		FILE *f;

		memset(&peer, 0, sizeof(peer));
		peer.sin_family = AF_INET;
		inet_pton(AF_INET, "192.0.2.9", &peer.sin_addr);
		mcpg_audit_auth_failure((const struct sockaddr *)&peer, "bad \"signature\"");
		CHECK(mcpg_audit_emit_wait(&ev) == 0);
		f = fopen("ledger/a.log", "r");
		while (f && fgets(line, sizeof(line), f) && !strstr(line, "mcpg.auth.failed"))
			;
		if (f)
			fclose(f);
		CHECK(strstr(line, "\"action\":\"mcpg.auth.failed\",\"outcome\":\"failure\"") != NULL);
		CHECK(strstr(line, "\"details\":{\"peer\":\"192.0.2.9\",\"reason\":\"bad \\\"signature\\\"\"}") != NULL);
		CHECK(strstr(line, "\"actor\":{\"kind\":\"anonymous\",\"trust_level\":\"unauthenticated\"") != NULL);
	}
	mcpg_audit_stop();
	CHECK(verify(2, both) == 0);
	CHECK(!mcpg_audit_active());
	CHECK(mcpg_audit_emit_wait(&ev) == 0); /* not active: nothing to wait for */
	mcpg_rt_release(mcpg_rt_publish(NULL));
}

/* A reload that names another file: the writer moves to it before its next batch. */
static void
reload_moves_the_ledger(void)
{
	struct mcpg_rt *a, *b;
	char err[512], line[2048] = "";
	struct mcpg_audit_event ev = { "mcpg.test", NULL, NULL, "success", NULL, NULL, 1 };
	char *pa[] = { "p1.log" }, *pb[] = { "p2.log" };
	FILE *f;

	unlink("p1.log");
	unlink("p2.log");
	a = load("gateway: {server: {bind_address: \"127.0.0.1:8787\"}}\n"
		 "governance:\n  audit:\n    sinks: [{kind: dev.mcpg.builtin.audit.local-file,"
		 " config: {path: p1.log}}]\n");
	b = load("gateway: {server: {bind_address: \"127.0.0.1:8787\"}}\n"
		 "governance:\n  audit:\n    sinks: [{kind: dev.mcpg.builtin.audit.local-file,"
		 " config: {path: p2.log}}]\n");
	CHECK(a && b);
	if (!a || !b)
		return;
	CHECK(mcpg_audit_configure(a, err, sizeof(err)) == 0);
	CHECK(mcpg_audit_emit_wait(&ev) == 0);
	CHECK(mcpg_audit_emit_wait(&ev) == 0);
	CHECK(mcpg_audit_configure(b, err, sizeof(err)) == 0);
	CHECK(mcpg_audit_emit_wait(&ev) == 0);
	mcpg_audit_stop();
	CHECK(verify(1, pa) == 0);
	CHECK(verify(1, pb) == 0);
	f = fopen("p2.log", "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	CHECK(line[0] && !strstr(line, "prev_event_hash")); /* p2.log starts its own chain */
	mcpg_rt_release(a);
	mcpg_rt_release(b);
}

/*
 * An existing ledger whose last line is longer than the first piece of the
 * tail the writer reads, followed by a torn write longer than that piece
 * too: the torn bytes are cut off and the chain goes on from the long line.
 */
static void
chain_from_a_long_last_line(void)
{
	struct mcpg_rt *rt;
	struct mcpg_audit_event ev = { "mcpg.test", NULL, NULL, "success", NULL, NULL, 1 };
	char err[512], want[65], *line = malloc(40001), *got = malloc(50000), *rec;
	FILE *f;
	size_t n;

	if (!line || !got)
		return;
	memset(line, 'x', 40000);
	line[40000] = '\0';
	mcpg_audit_line_hash(line, 40000, want);
	f = fopen("long.log", "w");
	fprintf(f, "{\"first\":1}\n%s\n", line);
	for (int i = 0; i < 2000; i++)
		fputs("torn write ", f); /* 22,000 bytes, no newline */
	fclose(f);
	rt = load("gateway: {server: {bind_address: \"127.0.0.1:8787\"}}\n"
		  "governance:\n  audit:\n    sinks: [{kind: dev.mcpg.builtin.audit.local-file,"
		  " config: {path: long.log}}]\n");
	CHECK(rt != NULL);
	if (rt) {
		CHECK(mcpg_audit_configure(rt, err, sizeof(err)) == 0);
		CHECK(mcpg_audit_emit_wait(&ev) == 0);
		mcpg_audit_stop();
		mcpg_rt_release(rt);
	}
	f = fopen("long.log", "r");
	n = f ? fread(got, 1, 49999, f) : 0;
	if (f)
		fclose(f);
	got[n] = '\0';
	CHECK(n > 40012 && !memcmp(got + 12, line, 40000) && got[40012] == '\n');
	rec = got + 40013;
	CHECK(!strstr(got, "torn write"));
	CHECK(strstr(rec, "\"prev_event_hash\":\"") && strstr(rec, want));
	CHECK(strchr(rec, '\n') && strchr(rec, '\n')[1] == '\0');
	free(line);
	free(got);
}

int
main(void)
{
	TEST(group_commit_and_rotation);
	TEST(reload_moves_the_ledger);
	TEST(chain_from_a_long_last_line);
	return test_done();
}
