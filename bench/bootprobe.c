/*
 * bootprobe.c - time from exec to the first 200 of a URL, for bench/boot.sh.
 *
 *   bootprobe RUNS PORT PATH -- PROGRAM ARGS...
 *   PROBE_ANY=1 bootprobe ...       any HTTP answer counts, not only 200
 *
 * Each run: take CLOCK_MONOTONIC, posix_spawn PROGRAM, then try to connect
 * to 127.0.0.1:PORT and GET PATH every 100 us until the answer is 200,
 * take the clock again, send SIGTERM and reap the child.  Prints one line
 * per run ("run wall_ms=N ready_ms=M", M being the boot_ms of mcpg's
 * "ready" log line on stderr, or "-") and a summary ("boot_ms median=N
 * min=N max=N").
 *
 * bench/httpaux.py used to do the same in Python; on a 2-CPU machine its
 * interpreter, its subprocess start and its polling loop competed with the
 * two threads mcpg boots with (structural check and SHA-256), and added one
 * to two milliseconds to what they measured.  This probe sleeps between
 * attempts and costs a few microseconds per attempt.
 *
 * Even so, a process that wakes every 100 us takes a CPU from one of
 * mcpg's two boot threads each time it wakes (about 30% of a CPU on the
 * 2-CPU VM, where a context switch is slow), so the probe runs itself
 * under SCHED_IDLE: it polls whenever a CPU is free and never preempts
 * the program it times.  The program is started under SCHED_OTHER.  The
 * clock still starts before posix_spawn and stops at the first 200, so the
 * time is never less than the program took; PROBE_POLICY=other keeps the
 * probe under SCHED_OTHER for comparison.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* 1 when 127.0.0.1:port answers GET path with 200 (with PROBE_ANY set in
 * the environment: with any HTTP answer). */
static int
ready(int port, const char *path)
{
	static int any = -1;

	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char req[512], buf[64];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			 "Connection: close\r\n\r\n", path, port);
		if (write(fd, req, strlen(req)) == (ssize_t)strlen(req) &&
		    (n = read(fd, buf, sizeof(buf) - 1)) > 12) {
			buf[n] = '\0';
			if (any < 0)
				any = getenv("PROBE_ANY") != NULL;
			ok = any ? !strncmp(buf, "HTTP/", 5) : !strncmp(buf + 9, "200", 3);
		}
	}
	close(fd);
	return ok;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int runs, port;
	double *t;

	if (argc < 6 || strcmp(argv[4], "--")) {
		fprintf(stderr, "usage: bootprobe RUNS PORT PATH -- PROGRAM ARGS...\n");
		return 2;
	}
	runs = atoi(argv[1]);
	port = atoi(argv[2]);
	if (runs < 1 || !(t = calloc((size_t)runs, sizeof(*t))))
		return 2;
	{
		const char *pol = getenv("PROBE_POLICY");
		struct sched_param sp = { 0 };

		if ((!pol || strcmp(pol, "other")) && sched_setscheduler(0, SCHED_IDLE, &sp) < 0)
			perror("bootprobe: SCHED_IDLE");
	}
	for (int i = 0; i < runs; i++) {
		struct timespec nap = { 0, 100000 };
		posix_spawn_file_actions_t fa;
		posix_spawnattr_t sa;
		struct sched_param sp0 = { 0 };
		double t0, deadline;
		pid_t pid;
		int st;

		int pfd[2];
		char log[65536], *bm;
		size_t got = 0;
		ssize_t k;

		if (pipe(pfd) < 0) {
			perror("pipe");
			return 1;
		}
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
		posix_spawn_file_actions_addclose(&fa, pfd[0]);
		/* The program runs under the normal policy, not the probe's. */
		posix_spawnattr_init(&sa);
		posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSCHEDULER);
		posix_spawnattr_setschedpolicy(&sa, SCHED_OTHER);
		posix_spawnattr_setschedparam(&sa, &sp0);
		t0 = now_ms();
		if (posix_spawn(&pid, argv[5], &fa, &sa, argv + 5, environ)) {
			perror(argv[5]);
			return 1;
		}
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&sa);
		close(pfd[1]);
		deadline = t0 + 30000;
		while (!ready(port, argv[3])) {
			if (now_ms() > deadline || waitpid(pid, &st, WNOHANG) == pid) {
				fprintf(stderr, "bootprobe: no 200 on port %d\n", port);
				return 1;
			}
			nanosleep(&nap, NULL);
		}
		t[i] = now_ms() - t0;
		kill(pid, SIGTERM);
		/* The log, up to what fits: the ready line comes early. */
		while (got < sizeof(log) - 1 && (k = read(pfd[0], log + got, sizeof(log) - 1 - got)) > 0)
			got += (size_t)k;
		log[got] = '\0';
		close(pfd[0]);
		waitpid(pid, &st, 0);
		bm = strstr(log, "\"msg\":\"ready\"");
		bm = bm ? strstr(bm, "\"boot_ms\":") : NULL;
		if (bm)
			printf("run wall_ms=%.3f ready_ms=%g\n", t[i], atof(bm + 10));
		else
			printf("run wall_ms=%.3f ready_ms=-\n", t[i]);
		usleep(100000);
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp);
	printf("boot_ms median=%.2f min=%.2f max=%.2f\n", t[runs / 2], t[0], t[runs - 1]);
	return 0;
}
