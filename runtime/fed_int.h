/*
 * fed_int.h - what fed.c (supervisors, catalogue, forwarding) shares with
 * the two upstream transports, fed_http.c and fed_stdio.c.  Nothing else
 * includes it.
 */
#ifndef MCPG_FED_INT_H
#define MCPG_FED_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct fed_up;

/* One request to an upstream, from send to response. */
struct fed_rq {
	int64_t id;                 /* the id on the wire: unique in this process */
	const char *method;
	json_t *params;             /* borrowed; NULL for none */
	int64_t deadline_ms;        /* CLOCK_MONOTONIC */
	const atomic_int *cancelled; /* NULL: cannot be cancelled */
	/*
	 * A notification or request of the upstream that belongs to this
	 * request (on its SSE stream, or carrying its progress token); `msg` is
	 * borrowed.  NULL: such messages go to fed_unrelated().
	 */
	void (*on_msg)(struct fed_rq *rq, json_t *msg);
	/* The upstream ended the request's SSE stream before its answer (the
	 * transport resumes it); NULL: nothing to do. */
	void (*on_closed)(struct fed_rq *rq);
	void *ctx;
	/* Out. */
	char usid[160];             /* the upstream session it went on ("" for stdio) */
	json_t *result;             /* the result, owned by the caller */
	int code;                   /* JSON-RPC error code when there is no result */
	char message[256];
	json_t *data;               /* the error's data, owned by the caller */
	int transport;              /* 1: the upstream could not be reached */
	int stopped;                /* 1: cancelled, 2: deadline */
	/* fed_stdio.c: the waiters' list. */
	struct fed_rq *next;
	int done, busy;
};

struct fed_ops {
	/* Connect and initialize; the initialize result in *init.  0, or -1 with err. */
	int (*connect)(struct fed_up *u, json_t **init, char *err, size_t len);
	/* Send rq and wait for its answer.  0 result, -1 error (rq->code etc). */
	int (*request)(struct fed_up *u, struct fed_rq *rq);
	/* Send a notification or response (JSON text) on upstream session usid. */
	int (*send)(struct fed_up *u, const char *usid, const char *json);
	/* Block for unrelated messages until fed_should_wake(u) or the connection is lost
	 * (then return -1). */
	int (*watch)(struct fed_up *u);
	/* Drop the connection (any thread, also while requests run). */
	void (*disconnect)(struct fed_up *u);
	/* Free the transport state (last reference gone). */
	void (*free)(struct fed_up *u);
};

extern const struct fed_ops mcpg_fed_http_ops, mcpg_fed_stdio_ops;

/* The configuration an upstream was started with (copies). */
struct fed_cfg {
	char *name, *prefix;
	int64_t timeout_ms;
	char *url;          /* http */
	char **headers;     /* http: "Name: value", NULL-terminated */
	char **argv;        /* stdio: argv[0] is the program as configured */
	char **envp;        /* stdio: NULL-terminated */
};

struct fed_up {
	atomic_int refs;
	struct fed_cfg cfg;
	const struct fed_ops *ops;
	void *tp;           /* the transport's state */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop, refresh;  /* lock */
};

/* The supervisor should stop watching (stop or refresh asked). */
int fed_should_wake(struct fed_up *u);

/* A message of the upstream that no request claims (list_changed, resources/updated...). */
void fed_unrelated(struct fed_up *u, const char *usid, json_t *msg);

/* The connection broke: wake the supervisor. */
void fed_lost(struct fed_up *u);

/* pthread_cond_timedwait on `c` for at most `ms` milliseconds (m held). */
void fed_cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, int64_t ms);

/*
 * An initialize request: the capabilities the gateway offers upstreams on
 * its clients' behalf (sampling, elicitation, roots).  The caller owns
 * rq->params.
 */
void fed_initialize_rq(struct fed_up *u, struct fed_rq *rq);

/* The id for the next upstream request. */
int64_t fed_next_id(void);

/* Fill rq's error. */
void fed_rq_error(struct fed_rq *rq, int code, int transport, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Take the answer to rq out of `msg` when it is one (id matches); 1 if it was. */
int fed_rq_answer(struct fed_rq *rq, json_t *msg);

/* The JSON text of a request, notification or response. */
char *fed_request_json(const struct fed_rq *rq);

#endif /* MCPG_FED_INT_H */
