/*
 * u-backend.c - the built-in backends (runtime/backend*.c) through
 * mcpg_backend_run(), on snapshots compiled in process from small configs.
 *
 * The snapshot is put together by hand (struct mcpg_rt with its bindings),
 * so these tests need nothing of runtime/rt.c.  HTTP cases talk to a tiny
 * HTTP/1.1 server that this process runs on 127.0.0.1 in its own threads
 * (one per connection, canned answers by path); command cases run /bin and
 * /usr/bin programs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "backend.h"
#include "backend_int.h"
#include "compile.h"
#include "diag.h"
#include "image.h"
#include "mcpg_config.h"
#include "rt.h"
#include "schema_desc.h"

#include "test.h"

/* ------------------------------------------------------------------------
 * The test HTTP server
 */

#define MAX_PATHS 64

static struct {
	int fd;
	int port;
	atomic_int stop;
	atomic_int active;
	pthread_mutex_t mu;
	/* The last request, and how often each path was asked for. */
	char method[16];
	char target[2048];
	char headers[8192];
	char body[8192];
	char paths[MAX_PATHS][128];
	int hits[MAX_PATHS];
	int npaths;
	int requests, connections;
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void
srv_count(const char *path)
{
	int i;

	for (i = 0; i < srv.npaths; i++)
		if (!strcmp(srv.paths[i], path))
			break;
	if (i == srv.npaths) {
		if (i == MAX_PATHS)
			return;
		snprintf(srv.paths[i], sizeof(srv.paths[i]), "%s", path);
		srv.hits[i] = 0;
		srv.npaths++;
	}
	srv.hits[i]++;
}

static int
srv_hits(const char *path)
{
	int n = 0;

	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < srv.npaths; i++)
		if (!strcmp(srv.paths[i], path))
			n = srv.hits[i];
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static void
srv_reset(void)
{
	pthread_mutex_lock(&srv.mu);
	srv.npaths = srv.requests = srv.connections = 0;
	srv.method[0] = srv.target[0] = srv.headers[0] = srv.body[0] = '\0';
	pthread_mutex_unlock(&srv.mu);
}

static void
send_all(int fd, const void *p, size_t len)
{
	const char *s = p;

	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Answer; `keep` leaves the connection open for the next request. */
static void
respond_ka(int fd, int status, const char *ctype, const char *body, size_t len,
	   const char *extra, int keep)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "%sConnection: %s\r\n\r\n",
			 status, ctype, len, extra ? extra : "", keep ? "keep-alive" : "close");

	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

static void
respond(int fd, int status, const char *ctype, const char *body, size_t len,
	const char *extra)
{
	respond_ka(fd, status, ctype, body, len, extra, 0);
}

/* Sleep `ms` unless the server is stopping. */
static void
srv_sleep(int ms)
{
	for (int i = 0; i < ms / 10 && !atomic_load(&srv.stop); i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/* recv(), giving up when the server stops. */
static ssize_t
srv_recv(int fd, char *buf, size_t len)
{
	while (!atomic_load(&srv.stop)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			return recv(fd, buf, len, 0);
	}
	return -1;
}

/* Read one request into buf; its header length in *hlen.  0, or -1 at EOF. */
static int
read_request(int fd, char *buf, size_t size, size_t *len, size_t *hlen)
{
	size_t clen = 0;
	char *end, *p;
	ssize_t n;

	*len = 0;
	buf[0] = '\0';
	while (!(end = strstr(buf, "\r\n\r\n"))) {
		if (*len + 1 >= size || (n = srv_recv(fd, buf + *len, size - 1 - *len)) <= 0)
			return -1;
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	*hlen = (size_t)(end + 4 - buf);
	if ((p = strcasestr(buf, "\r\nContent-Length:")))
		clen = strtoul(p + 17, NULL, 10);
	while (*len < *hlen + clen && *len + 1 < size) {
		if ((n = srv_recv(fd, buf + *len, size - 1 - *len)) <= 0)
			break;
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	return 0;
}

/* Answer one request; 1 to keep the connection for another. */
static int
srv_answer(int fd, const char *buf, size_t len, size_t hlen)
{
	char path[128];
	int hits = 0;

	pthread_mutex_lock(&srv.mu);
	sscanf(buf, "%15s %2047s", srv.method, srv.target);
	snprintf(srv.headers, sizeof(srv.headers), "%.*s", (int)hlen, buf);
	snprintf(srv.body, sizeof(srv.body), "%.*s", (int)(len - hlen), buf + hlen);
	snprintf(path, sizeof(path), "%.*s", (int)sizeof(path) - 1, srv.target);
	path[strcspn(path, "?")] = '\0';
	srv_count(path);
	srv.requests++;
	for (int i = 0; i < srv.npaths; i++)
		if (!strcmp(srv.paths[i], path))
			hits = srv.hits[i];
	pthread_mutex_unlock(&srv.mu);

	if (!strncmp(path, "/status/", 8) || !strncmp(path, "/status-", 8)) {
		respond(fd, atoi(path + 8), "text/plain", "nope", 4, NULL);
	} else if (!strcmp(path, "/text")) {
		respond(fd, 200, "text/plain", "hello", 5, NULL);
	} else if (!strcmp(path, "/notjson")) {
		respond(fd, 200, "text/html", "<html>", 6, NULL);
	} else if (!strcmp(path, "/array")) {
		respond(fd, 200, "application/json", "[1,2]", 5, NULL);
	} else if (!strcmp(path, "/binary")) {
		respond(fd, 200, "application/octet-stream", "\xff\xfe\x00\x01", 4, NULL);
	} else if (!strcmp(path, "/slow")) {
		srv_sleep(3000);
		respond(fd, 200, "application/json", "{}", 2, NULL);
	} else if (!strcmp(path, "/stall")) {
		const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";

		send_all(fd, h, strlen(h));
		srv_sleep(3000);
	} else if (!strcmp(path, "/big")) {
		char big[10000];

		memset(big, 'x', sizeof(big));
		respond(fd, 200, "text/plain", big, sizeof(big), NULL);
	} else if (!strcmp(path, "/bigstream")) {
		/* No Content-Length: only the write callback can stop it. */
		const char *h = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
		char chunk[1000];

		memset(chunk, 'y', sizeof(chunk));
		send_all(fd, h, strlen(h));
		for (int i = 0; i < 10; i++)
			send_all(fd, chunk, sizeof(chunk));
	} else if (!strcmp(path, "/flaky")) {
		if (hits <= 2)
			respond(fd, 503, "text/plain", "busy", 4, NULL);
		else
			respond(fd, 200, "application/json", "{\"ok\":true}", 11, NULL);
	} else if (!strcmp(path, "/redirect")) {
		respond(fd, 302, "text/plain", "", 0, "Location: /echo\r\n");
	} else {
		/* Everything else, /echo included: kept alive. */
		respond_ka(fd, 200, "application/json", "{\"ok\":true,\"n\":1}", 17, NULL, 1);
		return 1;
	}
	return 0;
}

static void *
srv_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[16384];
	size_t len, hlen;

	while (!read_request(fd, buf, sizeof(buf), &len, &hlen) && srv_answer(fd, buf, len, hlen))
		;
	close(fd);
	atomic_fetch_sub(&srv.active, 1);
	return NULL;
}

static void *
srv_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&srv.stop)) {
		int fd = accept4(srv.fd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t th;

		if (fd < 0)
			continue;
		atomic_fetch_add(&srv.active, 1);
		pthread_mutex_lock(&srv.mu);
		srv.connections++;
		pthread_mutex_unlock(&srv.mu);
		if (pthread_create(&th, NULL, srv_conn, (void *)(intptr_t)fd)) {
			close(fd);
			atomic_fetch_sub(&srv.active, 1);
			continue;
		}
		pthread_detach(th);
	}
	return NULL;
}

static pthread_t srv_thread;

static int
srv_start(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(srv.fd, 64) || getsockname(srv.fd, (struct sockaddr *)&a, &alen))
		return -1;
	srv.port = ntohs(a.sin_port);
	return pthread_create(&srv_thread, NULL, srv_main, NULL) ? -1 : 0;
}

static void
srv_stop(void)
{
	atomic_store(&srv.stop, 1);
	shutdown(srv.fd, SHUT_RDWR);
	pthread_join(srv_thread, NULL);
	close(srv.fd);
	for (int i = 0; i < 500 && atomic_load(&srv.active); i++)
		usleep(10000);
}

/* A port nothing listens on. */
static int
closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &alen);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ------------------------------------------------------------------------
 * Snapshots from YAML
 */

#define MAX_BINDINGS 64

struct fixture {
	struct mcc_config cfg;
	struct mcpg_rt rt;
	struct mcpg_binding b[MAX_BINDINGS];
	int ok;
};

static int nfixtures;

/* Compile `yaml` (printf format) into f->rt; f->ok says whether it worked. */
static void fixture_load(struct fixture *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
fixture_load(struct fixture *f, const char *fmt, ...)
{
	const struct mcpg_image *img;
	const struct mcpg_capabilities *caps;
	const struct mcpg_tool *tools;
	const struct mcpg_resource *res;
	const struct mcpg_resource_template *rts;
	struct mcpg_verify_error verr;
	struct mcc_diag d;
	char path[64];
	const char *files[1] = { path };
	uint32_t n;
	size_t nb = 0;
	va_list ap;
	FILE *fp;

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "u-backend-%d.yaml", ++nfixtures);
	if (!(fp = fopen(path, "w"))) {
		printf("    cannot write %s\n", path);
		test_failed_now = 1;
		return;
	}
	fputs("gateway:\n  server:\n    bind_address: \"127.0.0.1:8787\"\n"
	      "    trust_subject_header: true\n    trusted_proxies: [\"127.0.0.1/32\"]\n", fp);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);

	mcc_diag_init(&d, stdout, MCC_DIAG_TEXT);
	if (mcc_compile(&f->cfg, &mcpg_schema, files, 1, 0, &d) || d.nerrors) {
		printf("    %s does not compile\n", path);
		test_failed_now = 1;
		mcc_diag_release(&d);
		return;
	}
	mcc_diag_release(&d);
	if (mcpg_image_verify(&f->rt.img, f->cfg.bytes, f->cfg.len, &mcpg_schema, &verr)) {
		printf("    %s: %s\n", path, verr.msg);
		test_failed_now = 1;
		return;
	}
	img = &f->rt.img;
	atomic_init(&f->rt.refs, 1);
	f->rt.generation = 1;
	f->rt.cfg = mcpg_cfg(img);
	caps = mcpg_mcp_capabilities(img, mcpg_config_mcp(img, f->rt.cfg));

	tools = mcpg_capabilities_tools(img, caps, &n);
	for (uint32_t i = 0; i < n && nb < MAX_BINDINGS; i++, nb++) {
		f->b[nb].kind = MCPG_B_TOOL;
		f->b[nb].name = mcpg_tool_name(img, &tools[i]);
		f->b[nb].backend = mcpg_tool_backend(img, &tools[i]);
		f->b[nb].retry = mcpg_tool_retry(img, &tools[i]);
		f->b[nb].tool = &tools[i];
	}
	res = mcpg_capabilities_resources(img, caps, &n);
	for (uint32_t i = 0; i < n && nb < MAX_BINDINGS; i++, nb++) {
		f->b[nb].kind = MCPG_B_RESOURCE;
		f->b[nb].name = mcpg_resource_name(img, &res[i]);
		f->b[nb].backend = mcpg_resource_backend(img, &res[i]);
		f->b[nb].retry = mcpg_resource_retry(img, &res[i]);
		f->b[nb].resource = &res[i];
	}
	rts = mcpg_capabilities_resource_templates(img, caps, &n);
	for (uint32_t i = 0; i < n && nb < MAX_BINDINGS; i++, nb++) {
		f->b[nb].kind = MCPG_B_RESOURCE_TEMPLATE;
		f->b[nb].name = mcpg_resource_template_name(img, &rts[i]);
		f->b[nb].backend = mcpg_resource_template_backend(img, &rts[i]);
		f->b[nb].retry = mcpg_resource_template_retry(img, &rts[i]);
		f->b[nb].resource_template = &rts[i];
	}
	f->rt.bindings = f->b;
	f->rt.nbindings = nb;
	f->ok = 1;
}

static void
fixture_release(struct fixture *f)
{
	mcc_config_release(&f->cfg);
	memset(f, 0, sizeof(*f));
}

static const struct mcpg_binding *
binding(const struct fixture *f, const char *name)
{
	for (size_t i = 0; i < f->rt.nbindings; i++)
		if (!strcmp(f->b[i].name, name))
			return &f->b[i];
	return NULL;
}

/* ------------------------------------------------------------------------
 * Calls
 */

struct tcall {
	struct mcpg_call call;
	json_t *args;
	int rc;
	int64_t ms;  /* how long run() took */
	int64_t end; /* when it returned (mcpg_mono_ms) */
};

static void
tcall_init(struct tcall *t, const struct fixture *f, enum mcpg_call_op op, const char *name,
	   const char *args)
{
	memset(t, 0, sizeof(*t));
	t->args = json_loads(args ? args : "{}", 0, NULL);
	t->call.op = op;
	t->call.rt = &f->rt;
	t->call.binding = binding(f, name);
	t->call.arguments = t->args;
	atomic_init(&t->call.cancelled, 0);
	if (!t->call.binding) {
		printf("    no binding '%s'\n", name);
		test_failed_now = 1;
	}
}

static void
tcall_run(struct tcall *t)
{
	int64_t start = mcpg_mono_ms();

	if (!t->call.binding) {
		t->rc = -2;
		return;
	}
	t->rc = mcpg_backend_run(&t->call);
	t->end = mcpg_mono_ms();
	t->ms = t->end - start;
}

static void
tcall_release(struct tcall *t)
{
	mcpg_call_release(&t->call);
	json_decref(t->args);
}

/* Run a tools/call of `name` with `args`. */
static void
tool(struct tcall *t, const struct fixture *f, const char *name, const char *args)
{
	tcall_init(t, f, MCPG_CALL_TOOL, name, args);
	tcall_run(t);
}

/* The result's content[i].text, or NULL. */
static const char *
text_of(const struct tcall *t, size_t i)
{
	json_t *c = json_array_get(json_object_get(t->call.result, "content"), i);

	return json_string_value(json_object_get(c, "text"));
}

static int
is_error(const struct tcall *t)
{
	return json_is_true(json_object_get(t->call.result, "isError"));
}

static int
starts_with(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

#define CHECK_PREFIX(s, prefix)                                                  \
	do {                                                                     \
		const char *s_ = (s);                                            \
		if (!starts_with(s_, prefix)) {                                  \
			test_failed_now = 1;                                     \
			printf("    %s:%d: '%s' does not start with '%s'\n",     \
			       __FILE__, __LINE__, s_ ? s_ : "(null)", prefix);  \
		}                                                                \
	} while (0)

/* Set `cancelled` after a delay, from another thread. */
struct canceller {
	pthread_t th;
	atomic_int *flag;
	int ms;
	int64_t at; /* when the flag was set (mcpg_mono_ms) */
};

static void *
cancel_main(void *arg)
{
	struct canceller *c = arg;

	usleep((useconds_t)c->ms * 1000);
	c->at = mcpg_mono_ms();
	atomic_store(c->flag, 1);
	return NULL;
}

static void
cancel_after(struct canceller *c, struct tcall *t, int ms)
{
	c->flag = &t->call.cancelled;
	c->ms = ms;
	pthread_create(&c->th, NULL, cancel_main, c);
}

/* No child of this process is left, zombie or running. */
static int
no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* ------------------------------------------------------------------------
 * mock
 */

static struct fixture mock;

static void
mock_setup(void)
{
	fixture_load(&mock,
		     "mcp:\n  capabilities:\n    tools:\n"
		     "      - name: m.echo\n        description: d\n"
		     "        backend: {kind: mock, response: {ok: true, n: [1, 2.5], s: \"x\\n\", e: {}, a: []}}\n"
		     "      - name: m.null\n        description: d\n"
		     "        backend: {kind: mock}\n"
		     "      - name: m.slow\n        description: d\n"
		     "        backend: {kind: mock, delay_ms: 5000}\n"
		     "      - name: m.prog\n        description: d\n"
		     "        backend: {kind: mock, delay_ms: 100}\n"
		     "      - name: m.short\n        description: d\n"
		     "        backend: {kind: mock, delay_ms: 120, response: 1}\n"
		     "      - name: m.err\n        description: d\n"
		     "        backend: {kind: mock, error: true}\n"
		     "      - name: m.err2\n        description: d\n"
		     "        backend: {kind: mock, error: true, error_message: \"disk on fire\"}\n"
		     "      - name: m.pass\n        description: d\n"
		     "        backend:\n          kind: mock\n          passthrough: true\n"
		     "          response: {content: [{type: text, text: raw}], isError: false, _meta: {x: 1}}\n"
		     "    resources:\n"
		     "      - name: r.str\n        description: d\n        uri: \"mem://str\"\n"
		     "        backend: {kind: mock, response: \"hello\"}\n"
		     "      - name: r.json\n        description: d\n        uri: \"mem://json\"\n"
		     "        backend: {kind: mock, response: {a: 1, b: [true]}}\n"
		     "      - name: r.mime\n        description: d\n        uri: \"mem://mime\"\n"
		     "        mime_type: application/vnd.x+json\n"
		     "        backend: {kind: mock, response: {a: 1}}\n"
		     "      - name: r.err\n        description: d\n        uri: \"mem://err\"\n"
		     "        backend: {kind: mock, error: true}\n"
		     "      - name: r.pass\n        description: d\n        uri: \"mem://pass\"\n"
		     "        backend:\n          kind: mock\n          passthrough: true\n"
		     "          response: {contents: [{uri: \"mem://pass\", text: p}]}\n");
}

static void
mock_default_shape(void)
{
	struct tcall t;
	json_t *sc;

	tool(&t, &mock, "m.echo", "{\"q\": \"hi\", \"k\": [1]}");
	CHECK(t.rc == 0);
	CHECK(!is_error(&t));
	CHECK(json_is_false(json_object_get(t.call.result, "isError")));
	CHECK(json_array_size(json_object_get(t.call.result, "content")) == 1);
	CHECK_STR(json_string_value(json_object_get(
			  json_array_get(json_object_get(t.call.result, "content"), 0), "type")),
		  "text");
	CHECK_STR(text_of(&t, 0), "{\n  \"ok\": true,\n  \"n\": [\n    1,\n    2.5\n  ],\n"
				  "  \"s\": \"x\\n\",\n  \"e\": {},\n  \"a\": []\n}");
	sc = json_object_get(t.call.result, "structuredContent");
	CHECK_STR(json_string_value(json_object_get(sc, "toolName")), "m.echo");
	CHECK_STR(json_string_value(json_object_get(sc, "bindingKind")), "mock");
	CHECK(json_is_true(json_object_get(sc, "simulated")));
	CHECK(json_integer_value(json_object_get(sc, "delayMs")) == 0);
	CHECK(json_equal(json_object_get(sc, "arguments"), t.args));
	CHECK(json_is_true(json_object_get(json_object_get(sc, "response"), "ok")));
	CHECK(t.call.error_kind == NULL);
	tcall_release(&t);

	/* No response: null, pretty-printed as null. */
	tool(&t, &mock, "m.null", NULL);
	CHECK(t.rc == 0);
	CHECK_STR(text_of(&t, 0), "null");
	CHECK(json_is_null(json_object_get(json_object_get(t.call.result, "structuredContent"),
					   "response")));
	tcall_release(&t);
}

static void
mock_delay(void)
{
	struct tcall t;

	tool(&t, &mock, "m.short", NULL);
	CHECK(t.rc == 0);
	CHECK(t.ms >= 120);
	CHECK(t.ms < 1000);
	CHECK_STR(text_of(&t, 0), "1");
	CHECK(json_integer_value(json_object_get(json_object_get(t.call.result,
								 "structuredContent"),
						 "delayMs")) == 120);
	tcall_release(&t);
}

static json_t *notes; /* what notify() got */

static void
collect(struct mcpg_call *call, json_t *note)
{
	(void)call;
	json_array_append_new(notes, note);
}

static void
mock_progress(void)
{
	static const int want[] = { 0, 50, 100 };
	json_t *tok = json_string("progress-test-1");
	struct tcall t;
	size_t i;
	json_t *n;

	notes = json_array();
	tcall_init(&t, &mock, MCPG_CALL_TOOL, "m.prog", NULL);
	t.call.progress_token = tok;
	t.call.notify = collect;
	tcall_run(&t);
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK(json_array_size(notes) == 3);
	json_array_foreach(notes, i, n) {
		json_t *p = json_object_get(n, "params");

		CHECK_STR(json_string_value(json_object_get(n, "method")), "notifications/progress");
		CHECK(json_equal(json_object_get(p, "progressToken"), tok));
		CHECK(i < 3 && json_integer_value(json_object_get(p, "progress")) == want[i]);
		CHECK(json_integer_value(json_object_get(p, "total")) == 100);
	}
	tcall_release(&t);
	json_decref(notes);

	/* No token: no notifications. */
	notes = json_array();
	tcall_init(&t, &mock, MCPG_CALL_TOOL, "m.prog", NULL);
	t.call.notify = collect;
	tcall_run(&t);
	CHECK(json_array_size(notes) == 0);
	tcall_release(&t);
	json_decref(notes);
	json_decref(tok);
}

static void
mock_delay_cancel(void)
{
	struct canceller c;
	struct tcall t;

	tcall_init(&t, &mock, MCPG_CALL_TOOL, "m.slow", NULL);
	cancel_after(&c, &t, 100);
	tcall_run(&t);
	pthread_join(c.th, NULL);
	CHECK(t.rc == -1);
	CHECK(t.call.result == NULL);
	CHECK(t.call.error_code == MCPG_RPC_CANCELLED);
	CHECK_STR(t.call.error_kind, "cancelled");
	CHECK(t.ms >= 100);
	CHECK(t.end - c.at < 100); /* stopped within 100 ms of the cancel */
	tcall_release(&t);
}

static void
mock_deadline(void)
{
	struct tcall t;

	tcall_init(&t, &mock, MCPG_CALL_TOOL, "m.slow", NULL);
	t.call.deadline_ms = mcpg_mono_ms() + 100;
	tcall_run(&t);
	CHECK(t.rc == -1);
	CHECK(t.call.error_code == MCPG_RPC_TIMEOUT);
	CHECK_STR(t.call.error_kind, "deadline");
	CHECK(t.ms < 300);
	tcall_release(&t);

	/* Already cancelled: nothing runs. */
	tcall_init(&t, &mock, MCPG_CALL_TOOL, "m.slow", NULL);
	atomic_store(&t.call.cancelled, 1);
	tcall_run(&t);
	CHECK(t.rc == -1 && t.ms < 50);
	tcall_release(&t);
}

static void
mock_error(void)
{
	struct tcall t;

	tool(&t, &mock, "m.err", NULL);
	CHECK(t.rc == 0);
	CHECK(is_error(&t));
	CHECK_STR(text_of(&t, 0), "mock error");
	CHECK(json_object_get(t.call.result, "structuredContent") == NULL);
	CHECK_STR(t.call.error_kind, "mock");
	tcall_release(&t);

	tool(&t, &mock, "m.err2", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "disk on fire");
	tcall_release(&t);
}

static void
mock_passthrough(void)
{
	struct tcall t;
	json_t *want = json_loads("{\"content\":[{\"type\":\"text\",\"text\":\"raw\"}],"
				  "\"isError\":false,\"_meta\":{\"x\":1}}", 0, NULL);

	tool(&t, &mock, "m.pass", "{\"a\":1}");
	CHECK(t.rc == 0);
	CHECK(json_equal(t.call.result, want));
	tcall_release(&t);
	json_decref(want);
}

static void
mock_resources(void)
{
	struct tcall t;
	json_t *c;

	tcall_init(&t, &mock, MCPG_CALL_RESOURCE_READ, "r.str", NULL);
	t.call.uri = "mem://str";
	tcall_run(&t);
	CHECK(t.rc == 0);
	c = json_array_get(json_object_get(t.call.result, "contents"), 0);
	CHECK_STR(json_string_value(json_object_get(c, "uri")), "mem://str");
	CHECK_STR(json_string_value(json_object_get(c, "mimeType")), "text/plain");
	CHECK_STR(json_string_value(json_object_get(c, "text")), "hello");
	tcall_release(&t);

	tcall_init(&t, &mock, MCPG_CALL_RESOURCE_READ, "r.json", NULL);
	tcall_run(&t); /* no uri given: the resource's own */
	c = json_array_get(json_object_get(t.call.result, "contents"), 0);
	CHECK_STR(json_string_value(json_object_get(c, "uri")), "mem://json");
	CHECK_STR(json_string_value(json_object_get(c, "mimeType")), "application/json");
	CHECK_STR(json_string_value(json_object_get(c, "text")), "{\"a\":1,\"b\":[true]}");
	tcall_release(&t);

	tcall_init(&t, &mock, MCPG_CALL_RESOURCE_READ, "r.mime", NULL);
	tcall_run(&t);
	c = json_array_get(json_object_get(t.call.result, "contents"), 0);
	CHECK_STR(json_string_value(json_object_get(c, "mimeType")), "application/vnd.x+json");
	tcall_release(&t);

	tcall_init(&t, &mock, MCPG_CALL_RESOURCE_READ, "r.err", NULL);
	tcall_run(&t);
	CHECK(t.rc == -1 && !t.call.result);
	CHECK(t.call.error_code == MCPG_RPC_INTERNAL);
	CHECK_STR(t.call.error_message, "mock error");
	tcall_release(&t);

	tcall_init(&t, &mock, MCPG_CALL_RESOURCE_READ, "r.pass", NULL);
	tcall_run(&t);
	c = json_array_get(json_object_get(t.call.result, "contents"), 0);
	CHECK_STR(json_string_value(json_object_get(c, "text")), "p");
	tcall_release(&t);

	/* A read of a tool and a call of a resource are refused, not crashed on. */
	tcall_init(&t, &mock, MCPG_CALL_RESOURCE_READ, "m.echo", NULL);
	tcall_run(&t);
	CHECK(t.rc == -1 && t.call.error_code == MCPG_RPC_INTERNAL);
	tcall_release(&t);
	tool(&t, &mock, "r.str", NULL);
	CHECK(t.rc == -1 && t.call.error_code == MCPG_RPC_INTERNAL);
	tcall_release(&t);
}

/* ------------------------------------------------------------------------
 * http
 */

static struct fixture web;     /* gateway allows private targets */
static struct fixture strict;  /* it does not */

static void
http_setup(void)
{
	int p = srv.port, dead = closed_port();

	setenv("MCPG_TEST_TOKEN", "s3cret", 1);
	fixture_load(&web,
		     "    allow_private_backends: true\n"
		     "mcp:\n  capabilities:\n    tools:\n"
		     "      - name: h.get\n        description: d\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/echo/${arguments.id}\"\n"
		     "      - name: h.post\n        description: d\n"
		     "        backend:\n          kind: http\n"
		     "          url: \"http://127.0.0.1:%d/echo\"\n"
		     "      - name: h.headers\n        description: d\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/echo\"\n"
		     "          headers:\n"
		     "            X-Tenant: \"t-${arguments.tenant}\"\n"
		     "            X-Sub: \"${identity.subject_id}\"\n"
		     "            Authorization: \"Bearer ${env.MCPG_TEST_TOKEN}\"\n"
		     "            X-Empty: \"\"\n"
		     "      - name: h.path\n        description: d\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/${arguments.p}\"\n"
		     "      - name: h.post.path\n        description: d\n"
		     "        backend:\n          kind: http\n"
		     "          url: \"http://127.0.0.1:%d/${arguments.p}\"\n"
		     "      - name: h.404ok\n        description: d\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/status/404\"\n"
		     "          expected_status_codes: [200, 404]\n"
		     "      - name: h.slow\n        description: d\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/slow\"\n          timeout_ms: 300\n"
		     "      - name: h.small\n        description: d\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/${arguments.p}\"\n"
		     "          max_response_bytes: 4096\n"
		     "      - name: h.json\n        description: d\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/${arguments.p}\"\n"
		     "          require_json_response: true\n"
		     "      - name: h.retry\n        description: d\n"
		     "        retry: {max_attempts: 3, initial_backoff_ms: 20}\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/${arguments.p}\"\n"
		     "      - name: h.retry.dead\n        description: d\n"
		     "        retry: {max_attempts: 3, initial_backoff_ms: 20}\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/echo\"\n"
		     "      - name: h.retry.slow\n        description: d\n"
		     "        retry: {max_attempts: 5, initial_backoff_ms: 1000}\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/status/503\"\n"
		     "      - name: h.notransport\n        description: d\n"
		     "        retry: {max_attempts: 3, initial_backoff_ms: 10, retry_on_transport_error: false}\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/echo\"\n"
		     "      - name: h.deny\n        description: d\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/echo\"\n"
		     "          allow_private_backends: false\n"
		     "    resources:\n"
		     "      - name: hr.text\n        description: d\n        uri: \"web://text\"\n"
		     "        backend: {kind: http, method: get, url: \"http://127.0.0.1:%d/text\"}\n"
		     "      - name: hr.bin\n        description: d\n        uri: \"web://bin\"\n"
		     "        backend: {kind: http, method: get, url: \"http://127.0.0.1:%d/binary\"}\n"
		     "      - name: hr.fail\n        description: d\n        uri: \"web://fail\"\n"
		     "        backend: {kind: http, method: get, url: \"http://127.0.0.1:%d/status/500\"}\n"
		     "    resource_templates:\n"
		     "      - name: hr.item\n        description: d\n"
		     "        uri_template: \"web://items/{id}\"\n        mime_type: application/json\n"
		     "        backend: {kind: http, method: get, url: \"http://127.0.0.1:%d/items/${arguments.id}\"}\n",
		     p, p, p, p, p, p, p, p, p, p, dead, p, dead, p, p, p, p, p);
	fixture_load(&strict,
		     "mcp:\n  capabilities:\n    tools:\n"
		     "      - name: s.ip\n        description: d\n"
		     "        backend: {kind: http, method: get, url: \"http://127.0.0.1:%d/echo\"}\n"
		     "      - name: s.name\n        description: d\n"
		     "        backend: {kind: http, method: get, url: \"http://localhost:%d/echo\"}\n"
		     "      - name: s.allow\n        description: d\n"
		     "        backend:\n          kind: http\n          method: get\n"
		     "          url: \"http://127.0.0.1:%d/echo\"\n"
		     "          allow_private_backends: true\n",
		     p, p, p);
}

static void
http_get_query(void)
{
	struct tcall t;
	char want[512];

	srv_reset();
	tool(&t, &web, "h.get",
	     "{\"id\": \"a b/c?\", \"q\": \"x&y=z\", \"n\": 5, \"f\": 2.5, \"t\": true,"
	     " \"o\": {\"k\": [1]}, \"u\": \"\xc3\xa9\", \"z\": null}");
	CHECK(t.rc == 0);
	CHECK(!is_error(&t));
	snprintf(want, sizeof(want),
		 "/echo/a%%20b%%2Fc%%3F?id=a%%20b%%2Fc%%3F&q=x%%26y%%3Dz&n=5&f=2.5&t=true"
		 "&o=%%7B%%22k%%22%%3A%%5B1%%5D%%7D&u=%%C3%%A9&z=null");
	CHECK_STR(srv.target, want);
	CHECK_STR(srv.method, "GET");
	CHECK_STR(text_of(&t, 0), "{\"ok\":true,\"n\":1}");
	CHECK(json_integer_value(json_object_get(json_object_get(t.call.result,
								 "structuredContent"),
						 "n")) == 1);
	CHECK(srv.body[0] == '\0');
	tcall_release(&t);

	/* A body that is JSON but not an object: text only. */
	tool(&t, &web, "h.path", "{\"p\": \"array\"}");
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK_STR(text_of(&t, 0), "[1,2]");
	CHECK(json_object_get(t.call.result, "structuredContent") == NULL);
	tcall_release(&t);

	/* "..": refused by the URL mode of the template engine. */
	tool(&t, &web, "h.path", "{\"p\": \"..\"}");
	CHECK(t.rc == -1 && t.call.error_code == MCPG_RPC_INVALID_PARAMS);
	tcall_release(&t);
}

static void
http_post_json(void)
{
	struct tcall t;

	srv_reset();
	tool(&t, &web, "h.post", "{\"a\": 1, \"b\": \"x\\\"y\", \"c\": [null]}");
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK_STR(srv.method, "POST");
	CHECK_STR(srv.target, "/echo");
	CHECK_STR(srv.body, "{\"a\":1,\"b\":\"x\\\"y\",\"c\":[null]}");
	CHECK(strcasestr(srv.headers, "\r\nContent-Type: application/json\r\n") != NULL);
	CHECK(strcasestr(srv.headers, "\r\nExpect:") == NULL);
	CHECK(strcasestr(srv.headers, "\r\nUser-Agent: mcpg/") != NULL);
	tcall_release(&t);

	/* No arguments: an empty object. */
	srv_reset();
	tool(&t, &web, "h.post", NULL);
	CHECK(t.rc == 0);
	CHECK_STR(srv.body, "{}");
	tcall_release(&t);
}

static void
http_headers_templated(void)
{
	struct mcpg_identity_view id = { .subject_id = "alice", .trust_level = MCPG_TRUST_VERIFIED };
	struct tcall t;

	srv_reset();
	tcall_init(&t, &web, MCPG_CALL_TOOL, "h.headers", "{\"tenant\": \"acme\"}");
	t.call.identity = &id;
	tcall_run(&t);
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK(strstr(srv.headers, "\r\nX-Tenant: t-acme\r\n") != NULL);
	CHECK(strstr(srv.headers, "\r\nX-Sub: alice\r\n") != NULL);
	CHECK(strstr(srv.headers, "\r\nAuthorization: Bearer s3cret\r\n") != NULL);
	CHECK(strstr(srv.headers, "\r\nX-Empty:") != NULL);
	/* get with arguments: they are query parameters too */
	CHECK_STR(srv.target, "/echo?tenant=acme");
	tcall_release(&t);

	/* CR LF in a header value: refused before anything is sent. */
	srv_reset();
	tcall_init(&t, &web, MCPG_CALL_TOOL, "h.headers", "{\"tenant\": \"a\\r\\nX-Evil: 1\"}");
	t.call.identity = &id;
	tcall_run(&t);
	CHECK(t.rc == -1);
	CHECK(t.call.error_code == MCPG_RPC_INVALID_PARAMS);
	CHECK(strstr(t.call.error_message, "control character") != NULL);
	CHECK(srv_hits("/echo") == 0);
	tcall_release(&t);

	/* Anonymous: ${identity.subject_id} cannot be filled. */
	tool(&t, &web, "h.headers", "{\"tenant\": \"acme\"}");
	CHECK(t.rc == -1);
	CHECK(t.call.error_code == MCPG_RPC_DENIED);
	CHECK_STR(t.call.error_kind, "identity");
	tcall_release(&t);
}

static void
http_missing_argument(void)
{
	struct tcall t;

	tool(&t, &web, "h.get", "{}");
	CHECK(t.rc == -1);
	CHECK(t.call.result == NULL);
	CHECK(t.call.error_code == MCPG_RPC_INVALID_PARAMS);
	CHECK_STR(t.call.error_message, "missing argument 'id'");
	tcall_release(&t);
}

static void
http_unexpected_status(void)
{
	struct tcall t;

	tool(&t, &web, "h.path", "{\"p\": \"status-404\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "upstream returned HTTP 404");
	CHECK_STR(text_of(&t, 1), "nope");
	CHECK_STR(t.call.error_kind, "status");
	tcall_release(&t);

	tool(&t, &web, "h.404ok", NULL);
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK_STR(text_of(&t, 0), "nope");
	tcall_release(&t);

	/* Redirects are not followed. */
	srv_reset();
	tool(&t, &web, "h.path", "{\"p\": \"redirect\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "upstream returned HTTP 302");
	CHECK(srv_hits("/echo") == 0);
	tcall_release(&t);

	/* Resource reads fail with a JSON-RPC error. */
	tcall_init(&t, &web, MCPG_CALL_RESOURCE_READ, "hr.fail", NULL);
	tcall_run(&t);
	CHECK(t.rc == -1 && t.call.error_code == MCPG_RPC_INTERNAL);
	CHECK_STR(t.call.error_message, "upstream returned HTTP 500");
	tcall_release(&t);
}

static void
http_timeout(void)
{
	struct tcall t;

	tool(&t, &web, "h.slow", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "timeout after 300 ms");
	CHECK_STR(t.call.error_kind, "timeout");
	CHECK(t.ms >= 290 && t.ms < 1000);
	tcall_release(&t);

	/* The call's deadline ends it sooner, as a deadline error. */
	tcall_init(&t, &web, MCPG_CALL_TOOL, "h.slow", NULL);
	t.call.deadline_ms = mcpg_mono_ms() + 100;
	tcall_run(&t);
	CHECK(t.rc == -1 && t.call.error_code == MCPG_RPC_TIMEOUT);
	CHECK(t.ms < 250);
	tcall_release(&t);
}

static void
http_cancel(void)
{
	struct canceller c;
	struct tcall t;

	/* Headers and 10 of 100 body bytes arrive, then the server stalls. */
	tcall_init(&t, &web, MCPG_CALL_TOOL, "h.path", "{\"p\": \"stall\"}");
	cancel_after(&c, &t, 100);
	tcall_run(&t);
	pthread_join(c.th, NULL);
	CHECK(t.rc == -1);
	CHECK(t.call.error_code == MCPG_RPC_CANCELLED);
	CHECK_STR(t.call.error_kind, "cancelled");
	CHECK(t.ms >= 100 && t.end - c.at < 100);
	tcall_release(&t);

	/* The thread's pool still works afterwards. */
	tool(&t, &web, "h.post", NULL);
	CHECK(t.rc == 0 && !is_error(&t));
	tcall_release(&t);
}

static void
http_oversized(void)
{
	struct tcall t;

	tool(&t, &web, "h.small", "{\"p\": \"big\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "response larger than 4096 bytes");
	CHECK_STR(t.call.error_kind, "size");
	tcall_release(&t);

	/* No Content-Length: stopped while streaming. */
	tool(&t, &web, "h.small", "{\"p\": \"bigstream\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "response larger than 4096 bytes");
	tcall_release(&t);

	tool(&t, &web, "h.small", "{\"p\": \"text\"}");
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK_STR(text_of(&t, 0), "hello");
	tcall_release(&t);
}

static void
http_require_json(void)
{
	struct tcall t;

	tool(&t, &web, "h.json", "{\"p\": \"notjson\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "upstream response is not JSON");
	CHECK_STR(text_of(&t, 1), "<html>");
	tcall_release(&t);

	tool(&t, &web, "h.json", "{\"p\": \"array\"}");
	CHECK(t.rc == 0 && !is_error(&t));
	tcall_release(&t);
}

static void
http_retry(void)
{
	struct tcall t;

	/* 503, 503, 200: three attempts, success. */
	srv_reset();
	tool(&t, &web, "h.retry", "{\"p\": \"flaky\"}");
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK(srv_hits("/flaky") == 3);
	CHECK(t.ms >= 20 + 40);
	CHECK_STR(text_of(&t, 0), "{\"ok\":true}");
	tcall_release(&t);

	/* Always 503: three attempts, then the last failure. */
	srv_reset();
	tool(&t, &web, "h.retry", "{\"p\": \"status-503\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK(srv_hits("/status-503") == 3);
	CHECK_STR(text_of(&t, 0), "upstream returned HTTP 503");
	tcall_release(&t);

	/* 404 is not retried. */
	srv_reset();
	tool(&t, &web, "h.retry", "{\"p\": \"status-404\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK(srv_hits("/status-404") == 1);
	tcall_release(&t);

	/* Connection refused is a transport error: retried, then reported. */
	tool(&t, &web, "h.retry.dead", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_PREFIX(text_of(&t, 0), "request failed: ");
	CHECK_STR(t.call.error_kind, "transport");
	CHECK(t.ms >= 20 + 40);
	tcall_release(&t);

	tool(&t, &web, "h.notransport", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK(t.ms < 20);
	tcall_release(&t);

	/* The backoff is cancellable... */
	{
		struct canceller c;

		srv_reset();
		tcall_init(&t, &web, MCPG_CALL_TOOL, "h.retry.slow", NULL);
		cancel_after(&c, &t, 100);
		tcall_run(&t);
		pthread_join(c.th, NULL);
		CHECK(t.rc == -1 && t.call.error_code == MCPG_RPC_CANCELLED);
		CHECK(t.end - c.at < 100);
		CHECK(srv_hits("/status/503") == 1);
		tcall_release(&t);
	}
	/* ...and one that would outlast the deadline is not started. */
	srv_reset();
	tcall_init(&t, &web, MCPG_CALL_TOOL, "h.retry.slow", NULL);
	t.call.deadline_ms = mcpg_mono_ms() + 500;
	tcall_run(&t);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "upstream returned HTTP 503");
	CHECK(t.ms < 200);
	tcall_release(&t);
}

static void
http_private_refused(void)
{
	struct tcall t;

	srv_reset();
	tool(&t, &strict, "s.ip", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_PREFIX(text_of(&t, 0), "target 127.0.0.1 is a private address");
	CHECK_STR(t.call.error_kind, "private");
	tcall_release(&t);

	/* A name is checked after DNS: localhost is 127.0.0.1 or ::1. */
	tool(&t, &strict, "s.name", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_PREFIX(text_of(&t, 0), "target ");
	CHECK(strstr(text_of(&t, 0) ? text_of(&t, 0) : "", "is a private address") != NULL);
	tcall_release(&t);
	CHECK(srv_hits("/echo") == 0);

	/* The binding's own setting wins over the gateway's, both ways. */
	tool(&t, &strict, "s.allow", NULL);
	CHECK(t.rc == 0 && !is_error(&t));
	tcall_release(&t);
	CHECK(srv_hits("/echo") == 1);

	tool(&t, &web, "h.deny", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_PREFIX(text_of(&t, 0), "target 127.0.0.1 is a private address");
	tcall_release(&t);
	CHECK(srv_hits("/echo") == 1);
}

static void
http_resource_read(void)
{
	struct tcall t;
	json_t *c;

	tcall_init(&t, &web, MCPG_CALL_RESOURCE_READ, "hr.text", NULL);
	t.call.uri = "web://text";
	tcall_run(&t);
	CHECK(t.rc == 0);
	c = json_array_get(json_object_get(t.call.result, "contents"), 0);
	CHECK_STR(json_string_value(json_object_get(c, "uri")), "web://text");
	CHECK_STR(json_string_value(json_object_get(c, "mimeType")), "text/plain");
	CHECK_STR(json_string_value(json_object_get(c, "text")), "hello");
	tcall_release(&t);

	/* Not UTF-8: a base64 blob. */
	tcall_init(&t, &web, MCPG_CALL_RESOURCE_READ, "hr.bin", NULL);
	tcall_run(&t);
	c = json_array_get(json_object_get(t.call.result, "contents"), 0);
	CHECK_STR(json_string_value(json_object_get(c, "blob")), "//4AAQ==");
	CHECK(json_object_get(c, "text") == NULL);
	tcall_release(&t);

	/* A resource template: the URI's variables are the arguments. */
	srv_reset();
	tcall_init(&t, &web, MCPG_CALL_RESOURCE_READ, "hr.item", "{\"id\": \"a/7\"}");
	t.call.uri = "web://items/a%2F7";
	tcall_run(&t);
	CHECK(t.rc == 0);
	CHECK_STR(srv.target, "/items/a%2F7?id=a%2F7");
	c = json_array_get(json_object_get(t.call.result, "contents"), 0);
	CHECK_STR(json_string_value(json_object_get(c, "uri")), "web://items/a%2F7");
	CHECK_STR(json_string_value(json_object_get(c, "mimeType")), "application/json");
	CHECK_STR(json_string_value(json_object_get(c, "text")), "{\"ok\":true,\"n\":1}");
	tcall_release(&t);

	/* The same bytes in a tool result: U+FFFD for what is not UTF-8. */
	tool(&t, &web, "h.path", "{\"p\": \"binary\"}");
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK(text_of(&t, 0) && !memcmp(text_of(&t, 0), "\xef\xbf\xbd\xef\xbf\xbd", 6));
	tcall_release(&t);
}

struct worker {
	pthread_t th;
	int ok;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 20; i++) {
		struct tcall t;

		tcall_init(&t, &web, MCPG_CALL_TOOL, "h.post", "{\"i\": 1}");
		t.rc = mcpg_backend_run(&t.call);
		if (t.rc == 0 && !is_error(&t))
			w->ok++;
		tcall_release(&t);
	}
	return NULL;
}

static void
http_threads(void)
{
	struct worker w[8];
	int ok = 0;

	memset(w, 0, sizeof(w));
	for (int i = 0; i < 8; i++)
		pthread_create(&w[i].th, NULL, worker_main, &w[i]);
	for (int i = 0; i < 8; i++) {
		pthread_join(w[i].th, NULL);
		ok += w[i].ok;
	}
	CHECK(ok == 160);
}

/* Connections are kept alive per thread, in separate pools for bindings that
 * may and may not reach private targets. */
static void
http_keepalive(void)
{
	struct tcall t;
	int conns;

	srv_reset();
	for (int i = 0; i < 3; i++) {
		tool(&t, &web, "h.post", NULL);
		CHECK(t.rc == 0 && !is_error(&t));
		tcall_release(&t);
	}
	pthread_mutex_lock(&srv.mu);
	conns = srv.connections;
	pthread_mutex_unlock(&srv.mu);
	CHECK(srv.requests == 3);
	CHECK(conns <= 1); /* 0 when the pool still had one from earlier */

	/* The open connection of an allowed binding is not reused by a
	 * refused one on the same thread, host and port. */
	srv_reset();
	tool(&t, &strict, "s.allow", NULL);
	CHECK(t.rc == 0 && !is_error(&t));
	tcall_release(&t);
	tool(&t, &strict, "s.ip", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_PREFIX(text_of(&t, 0), "target 127.0.0.1 is a private address");
	tcall_release(&t);
	CHECK(srv.requests == 1);
}

static int
private_addr(const char *text)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, text, &a4.sin_addr) == 1)
		return mcpg_addr_is_private((struct sockaddr *)&a4);
	if (inet_pton(AF_INET6, text, &a6.sin6_addr) == 1)
		return mcpg_addr_is_private((struct sockaddr *)&a6);
	return -1;
}

static void
http_private_table(void)
{
	static const char *const priv[] = {
		"127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255",
		"192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
		"255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::",
		"ff02::1", "::127.0.0.1",
	};
	static const char *const pub[] = {
		"8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1",
		"2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2606:4700::1111",
	};

	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		if (private_addr(priv[i]) != 1) {
			test_failed_now = 1;
			printf("    %s should be private\n", priv[i]);
		}
	for (size_t i = 0; i < sizeof(pub) / sizeof(pub[0]); i++)
		if (private_addr(pub[i]) != 0) {
			test_failed_now = 1;
			printf("    %s should be public\n", pub[i]);
		}
}

/* ------------------------------------------------------------------------
 * command
 */

static struct fixture cmd;

static void
command_setup(void)
{
	setenv("MCPG_TEST_SECRET", "gateway-only", 1);
	fixture_load(&cmd,
		     "mcp:\n  capabilities:\n    tools:\n"
		     "      - name: c.cat\n        description: d\n"
		     "        backend: {kind: command, command: /bin/cat}\n"
		     "      - name: c.printf\n        description: d\n"
		     "        backend:\n          kind: command\n          command: printf\n"
		     "          args: [\"%%s|%%s|%%s\", \"${arguments.name}\", \"x${arguments.n}\","
		     " \"${arguments.o}\"]\n"
		     "      - name: c.env\n        description: d\n"
		     "        backend:\n          kind: command\n          command: /usr/bin/env\n"
		     "          env: {FOO: bar, EMPTY: \"\"}\n"
		     "      - name: c.sh\n        description: d\n"
		     "        backend:\n          kind: command\n          command: /bin/sh\n"
		     "          args: [\"-c\", \"${arguments.script}\"]\n"
		     "          max_output_bytes: 1000\n"
		     "      - name: c.sleep\n        description: d\n"
		     "        backend:\n          kind: command\n          command: /bin/sleep\n"
		     "          args: [\"10\"]\n          timeout_ms: 200\n"
		     "      - name: c.sleeplong\n        description: d\n"
		     "        backend:\n          kind: command\n          command: /bin/sleep\n"
		     "          args: [\"10\"]\n"
		     "      - name: c.group\n        description: d\n"
		     "        backend:\n          kind: command\n          command: /bin/sh\n"
		     "          args: [\"-c\", \"sleep 10 & echo $! > ${arguments.file}; wait\"]\n"
		     "          timeout_ms: 300\n"
		     "      - name: c.json\n        description: d\n"
		     "        backend:\n          kind: command\n          command: /bin/echo\n"
		     "          args: [\"${arguments.out}\"]\n          require_json_stdout: true\n"
		     "      - name: c.missing\n        description: d\n"
		     "        backend: {kind: command, command: /nonexistent/prog}\n"
		     "      - name: c.nopath\n        description: d\n"
		     "        backend: {kind: command, command: no-such-program-mcpg}\n"
		     "      - name: c.true\n        description: d\n"
		     "        backend: {kind: command, command: /bin/true}\n"
		     "      - name: c.fds\n        description: d\n"
		     "        backend: {kind: command, command: /bin/ls, args: [\"/proc/self/fd\"]}\n"
		     "    resources:\n"
		     "      - name: cr.cat\n        description: d\n        uri: \"cmd://cat\"\n"
		     "        backend: {kind: command, command: /bin/cat}\n");
}

static void
command_cat_stdin(void)
{
	struct tcall t;
	json_t *sc;

	tool(&t, &cmd, "c.cat", "{\"a\": 1, \"b\": \"x\\ny\", \"c\": [true, null]}");
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK_STR(text_of(&t, 0), "{\"a\":1,\"b\":\"x\\ny\",\"c\":[true,null]}\n");
	sc = json_object_get(t.call.result, "structuredContent");
	CHECK(json_equal(sc, t.args));
	CHECK(no_children());
	tcall_release(&t);

	tcall_init(&t, &cmd, MCPG_CALL_RESOURCE_READ, "cr.cat", "{\"id\": \"7\"}");
	t.call.uri = "cmd://cat";
	tcall_run(&t);
	CHECK(t.rc == 0);
	CHECK_STR(json_string_value(json_object_get(
			  json_array_get(json_object_get(t.call.result, "contents"), 0), "text")),
		  "{\"id\":\"7\"}\n");
	tcall_release(&t);
}

static void
command_args_templated(void)
{
	struct tcall t;

	/* "printf" is found in PATH; arguments are argv entries, unquoted. */
	tool(&t, &cmd, "c.printf", "{\"name\": \"bob; rm -rf /\", \"n\": 5, \"o\": {\"k\": 1}}");
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK_STR(text_of(&t, 0), "bob; rm -rf /|x5|{\"k\":1}");
	tcall_release(&t);

	tool(&t, &cmd, "c.printf", "{\"name\": \"bob\"}");
	CHECK(t.rc == -1);
	CHECK(t.call.error_code == MCPG_RPC_INVALID_PARAMS);
	CHECK_STR(t.call.error_message, "missing argument 'n'");
	CHECK(no_children());
	tcall_release(&t);
}

static void
command_env(void)
{
	struct tcall t;
	const char *out;

	tool(&t, &cmd, "c.env", NULL);
	CHECK(t.rc == 0 && !is_error(&t));
	out = text_of(&t, 0);
	CHECK(out && strstr(out, "FOO=bar\n"));
	CHECK(out && strstr(out, "EMPTY=\n"));
	CHECK(out && strstr(out, "PATH="));
	CHECK(out && !strstr(out, "MCPG_TEST_SECRET"));
	CHECK(out && !strstr(out, "HOME="));
	tcall_release(&t);
}

static void
command_nonzero_exit(void)
{
	struct tcall t;

	tool(&t, &cmd, "c.sh", "{\"script\": \"echo out; echo oops >&2; exit 3\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "command exited with status 3");
	CHECK_STR(text_of(&t, 1), "oops\n");
	CHECK_STR(t.call.error_kind, "exit");
	tcall_release(&t);

	tool(&t, &cmd, "c.sh", "{\"script\": \"kill -SEGV $$\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "command killed by signal 11");
	tcall_release(&t);

	tool(&t, &cmd, "c.missing", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "cannot run '/nonexistent/prog': No such file or directory");
	CHECK_STR(t.call.error_kind, "spawn");
	tcall_release(&t);

	tool(&t, &cmd, "c.nopath", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "cannot run 'no-such-program-mcpg': No such file or directory");
	tcall_release(&t);
	CHECK(no_children());
}

static void
command_timeout(void)
{
	struct tcall t;

	tool(&t, &cmd, "c.sleep", NULL);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "timed out after 200 ms");
	CHECK_STR(t.call.error_kind, "timeout");
	CHECK(t.ms >= 200 && t.ms < 500);
	CHECK(no_children());
	tcall_release(&t);
}

/* 1 when process `pid` is gone or a zombie. */
static int
process_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return 1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static void
command_timeout_group(void)
{
	struct tcall t;
	char args[128];
	FILE *f;
	int gpid = 0;

	/* The shell's own child (a grandchild of ours) dies with it. */
	snprintf(args, sizeof(args), "{\"file\": \"grandchild.pid\"}");
	unlink("grandchild.pid");
	tool(&t, &cmd, "c.group", args);
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "timed out after 300 ms");
	CHECK(no_children());
	tcall_release(&t);
	if ((f = fopen("grandchild.pid", "r"))) {
		if (fscanf(f, "%d", &gpid) != 1)
			gpid = 0;
		fclose(f);
	}
	CHECK(gpid > 0);
	for (int i = 0; i < 100 && gpid > 0 && !process_gone(gpid); i++)
		usleep(10000);
	CHECK(gpid > 0 && process_gone(gpid));
}

static void
command_cancel(void)
{
	struct canceller c;
	struct tcall t;

	tcall_init(&t, &cmd, MCPG_CALL_TOOL, "c.sleeplong", NULL);
	cancel_after(&c, &t, 100);
	tcall_run(&t);
	pthread_join(c.th, NULL);
	CHECK(t.rc == -1 && t.call.error_code == MCPG_RPC_CANCELLED);
	CHECK(t.ms >= 100 && t.end - c.at < 100);
	CHECK(no_children());
	tcall_release(&t);
}

static void
command_output_cap(void)
{
	struct tcall t;

	tool(&t, &cmd, "c.sh", "{\"script\": \"head -c 100000 /dev/zero; sleep 5\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "stdout larger than 1000 bytes");
	CHECK_STR(t.call.error_kind, "size");
	CHECK(t.ms < 1000);
	CHECK(no_children());
	tcall_release(&t);

	tool(&t, &cmd, "c.sh", "{\"script\": \"head -c 1001 /dev/zero >&2\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "stderr larger than 1000 bytes");
	tcall_release(&t);

	/* Exactly at the cap is fine. */
	tool(&t, &cmd, "c.sh", "{\"script\": \"head -c 1000 /dev/zero | tr '\\\\0' a\"}");
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK(text_of(&t, 0) && strlen(text_of(&t, 0)) == 1000);
	tcall_release(&t);
}

static void
command_require_json(void)
{
	struct tcall t;

	tool(&t, &cmd, "c.json", "{\"out\": \"not json\"}");
	CHECK(t.rc == 0 && is_error(&t));
	CHECK_STR(text_of(&t, 0), "stdout is not JSON");
	CHECK_STR(text_of(&t, 1), "not json\n");
	CHECK_STR(t.call.error_kind, "json");
	tcall_release(&t);

	tool(&t, &cmd, "c.json", "{\"out\": \"{\\\"a\\\": [1]}\"}");
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK_STR(text_of(&t, 0), "{\"a\": [1]}\n");
	CHECK(json_is_array(json_object_get(json_object_get(t.call.result,
							    "structuredContent"), "a")));
	tcall_release(&t);

	/* JSON, not an object: text only. */
	tool(&t, &cmd, "c.json", "{\"out\": \"[1]\"}");
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK(json_object_get(t.call.result, "structuredContent") == NULL);
	tcall_release(&t);
}

static void
command_stdin_unread(void)
{
	struct tcall t;
	json_t *big = json_object();
	char *s = malloc(1 << 20), *args;

	/* 1 MiB on the stdin of a child that never reads it: no SIGPIPE. */
	memset(s, 'a', (1 << 20) - 1);
	s[(1 << 20) - 1] = '\0';
	json_object_set_new(big, "s", json_string(s));
	args = json_dumps(big, 0);
	tool(&t, &cmd, "c.true", args);
	CHECK(t.rc == 0 && !is_error(&t));
	CHECK_STR(text_of(&t, 0), "");
	tcall_release(&t);
	free(args);
	free(s);
	json_decref(big);
	CHECK(no_children());
}

static void
command_no_fd_leak(void)
{
	struct tcall t;
	int fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
	const char *out;

	CHECK(fd >= 0 && dup2(fd, 100) == 100);
	tool(&t, &cmd, "c.fds", NULL);
	CHECK(t.rc == 0 && !is_error(&t));
	out = text_of(&t, 0);
	/* 0, 1, 2 and the directory ls reads (3). */
	CHECK_STR(out, "0\n1\n2\n3\n");
	tcall_release(&t);
	close(100);
	close(fd);
}

/* ------------------------------------------------------------------------ */

static void
helpers_json(void)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *v = json_loads("{\"a\":[{},[],{\"b\":\"\\u0001\"}],\"c\":-0.5,\"d\":1e300}", 0, NULL);
	json_t *s;

	mcpg_json_pretty(&sb, v);
	CHECK_STR(sb.buf, "{\n  \"a\": [\n    {},\n    [],\n    {\n      \"b\": \"\\u0001\"\n"
			  "    }\n  ],\n  \"c\": -0.5,\n  \"d\": 1e+300\n}");
	strbuf_release(&sb);
	json_decref(v);

	CHECK(mcpg_utf8_valid("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
	CHECK(!mcpg_utf8_valid("\xc0\xaf", 2));         /* overlong */
	CHECK(!mcpg_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	CHECK(!mcpg_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	CHECK(!mcpg_utf8_valid("\xe2\x82", 2));         /* truncated */
	CHECK(!mcpg_utf8_valid("a\0b", 3));
	s = mcpg_json_text("a\xff" "b\xe2\x82", 5);
	CHECK_STR(json_string_value(s), "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(s);
}

int
main(void)
{
	signal(SIGPIPE, SIG_DFL); /* a stray SIGPIPE must kill the test, visibly */
	if (srv_start()) {
		printf("not ok - u-backend: cannot start the test HTTP server: %s\n",
		       strerror(errno));
		return 1;
	}

	TEST(helpers_json);

	TEST(mock_setup);
	TEST(mock_default_shape);
	TEST(mock_delay);
	TEST(mock_progress);
	TEST(mock_delay_cancel);
	TEST(mock_deadline);
	TEST(mock_error);
	TEST(mock_passthrough);
	TEST(mock_resources);

	TEST(http_setup);
	TEST(http_private_table);
	TEST(http_get_query);
	TEST(http_post_json);
	TEST(http_headers_templated);
	TEST(http_missing_argument);
	TEST(http_unexpected_status);
	TEST(http_timeout);
	TEST(http_cancel);
	TEST(http_oversized);
	TEST(http_require_json);
	TEST(http_retry);
	TEST(http_private_refused);
	TEST(http_resource_read);
	TEST(http_keepalive);
	TEST(http_threads);

	TEST(command_setup);
	TEST(command_cat_stdin);
	TEST(command_args_templated);
	TEST(command_env);
	TEST(command_nonzero_exit);
	TEST(command_timeout);
	TEST(command_timeout_group);
	TEST(command_cancel);
	TEST(command_output_cap);
	TEST(command_require_json);
	TEST(command_stdin_unread);
	TEST(command_no_fd_leak);

	fixture_release(&mock);
	fixture_release(&web);
	fixture_release(&strict);
	fixture_release(&cmd);
	srv_stop();
	return test_done();
}
