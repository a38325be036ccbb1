/*
 * bare.c - the ceiling of mcpg's HTTP stack, for bench/http.sh.
 *
 *   bare --body FILE [--type CT] [--header 'Name: value']... [--port N]
 *        [--threads N] [--mode pool|single|tpc] [--turbo]
 *
 * A libmicrohttpd server on 127.0.0.1 that answers every request, whatever
 * its method, path or body, with status 200 and the bytes of FILE: the body
 * bench/http.sh captured from mcpg for the same tools/call, with the same
 * Content-Type and extra headers.  It does no JSON and no MCP, so the gap
 * between its throughput and mcpg's is what mcpg's own work costs.
 *
 * It handles a request the way mcpg has to: the first call of the access
 * handler (headers only) just marks the request and returns MHD_YES, the
 * upload calls consume the body, and the response is queued on the final
 * call.  Queueing on the first call makes libmicrohttpd 0.9.75 close the
 * connection after the response (see ../shared/reference/toolchain.md,
 * section 5), which would measure connection setup instead of requests.
 * The response object is built once and queued for every request.
 *
 * The daemon is started as runtime/http.c starts mcpg's: an internal epoll
 * thread pool with one thread per online CPU, MHD_ALLOW_SUSPEND_RESUME and
 * MHD_USE_ITC, a 120 s connection timeout, a 10,000 connection limit and
 * 256 KiB thread stacks.  --mode and --threads select other modes, for
 * comparison; --turbo adds MHD_USE_TURBO, which mcpg does not use.
 *
 * Prints "bare: listening on 127.0.0.1:PORT" on stdout once it serves, and
 * exits 0 on SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEADERS 16

static struct MHD_Response *canned;
static char request_mark;

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
	   const char *method, const char *version, const char *upload_data,
	   size_t *upload_data_size, void **req_cls)
{
	if (!*req_cls) {
		*req_cls = &request_mark;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	return MHD_queue_response(conn, MHD_HTTP_OK, canned);
}

static char *
read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t got;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !(buf = malloc(st.st_size + 1))) {
		close(fd);
		return NULL;
	}
	while (off < (size_t)st.st_size &&
	       (got = read(fd, buf + off, st.st_size - off)) > 0)
		off += got;
	close(fd);
	*len = off;
	return buf;
}

static void
usage(void)
{
	fputs("usage: bare --body FILE [--type CT] [--header 'Name: value']... [--port N]\n"
	      "            [--threads N] [--mode pool|single|tpc] [--turbo]\n",
	      stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *body_path = NULL, *type = "application/json", *mode = "pool";
	const char *headers[MAX_HEADERS];
	int nr_headers = 0, port = 0, threads = 0, turbo = 0;
	unsigned int flags;
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	size_t body_len;
	char *body;
	sigset_t sigs;
	int sig;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--body") && i + 1 < argc)
			body_path = argv[++i];
		else if (!strcmp(argv[i], "--type") && i + 1 < argc)
			type = argv[++i];
		else if (!strcmp(argv[i], "--header") && i + 1 < argc && nr_headers < MAX_HEADERS)
			headers[nr_headers++] = argv[++i];
		else if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
			mode = argv[++i];
		else if (!strcmp(argv[i], "--turbo"))
			turbo = 1;
		else
			usage();
	}
	if (!body_path)
		usage();
	if (!(body = read_file(body_path, &body_len))) {
		fprintf(stderr, "bare: error: cannot read '%s': %s\n", body_path, strerror(errno));
		return 2;
	}
	canned = MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
	if (!canned || MHD_add_response_header(canned, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES)
		return 2;
	for (int i = 0; i < nr_headers; i++) {
		char name[256];
		const char *colon = strchr(headers[i], ':');
		size_t n = colon ? (size_t)(colon - headers[i]) : 0;

		if (!n || n >= sizeof(name)) {
			fprintf(stderr, "bare: error: bad header '%s'\n", headers[i]);
			return 2;
		}
		memcpy(name, headers[i], n);
		name[n] = '\0';
		colon++;
		while (*colon == ' ')
			colon++;
		if (MHD_add_response_header(canned, name, colon) != MHD_YES)
			return 2;
	}

	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 1;
	}
	if (!strcmp(mode, "pool"))
		flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
	else if (!strcmp(mode, "single"))
		flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC,
		threads = 1;
	else if (!strcmp(mode, "tpc"))
		flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			MHD_USE_POLL, threads = 1;
	else
		usage();
	if (turbo)
		flags |= MHD_USE_TURBO;

	/* Block the stop signals before MHD starts its threads, so that only
	 * sigwait() below sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A pool of one is what mcpg starts on a one-CPU machine, so "pool"
	 * passes the option whatever the count; "single" and "tpc" do not. */
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_CONNECTION_TIMEOUT, 120u,
			     MHD_OPTION_CONNECTION_LIMIT, 10000u,
			     MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
			     !strcmp(mode, "pool") ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
			     (unsigned int)threads, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bare: error: cannot listen on 127.0.0.1:%d\n", port);
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("bare: listening on 127.0.0.1:%u (%s, %d thread%s%s)\n",
	       info ? info->port : (unsigned)port, mode, threads, threads == 1 ? "" : "s",
	       turbo ? ", turbo" : "");
	fflush(stdout);

	while (sigwait(&sigs, &sig))
		;
	MHD_stop_daemon(d);
	MHD_destroy_response(canned);
	free(body);
	return 0;
}
