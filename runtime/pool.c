/*
 * pool.c - the worker pool (see pool.h).
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define IDLE_EXIT_SEC 30

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static pthread_cond_t gone = PTHREAD_COND_INITIALIZER;
static struct mcpg_pool_item *head, *tail;
static int nthreads, nidle, nmin, nmax, stopping, nqueued;

static void *
worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct mcpg_pool_item *it;

		while (!head && !stopping) {
			struct timespec ts;
			int rc;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += IDLE_EXIT_SEC;
			nidle++;
			rc = pthread_cond_timedwait(&more, &lock, &ts);
			nidle--;
			if (rc == ETIMEDOUT && !head && nthreads > nmin)
				goto out;
		}
		if (!head)
			break; /* stopping and nothing left */
		it = head;
		nqueued--;
		head = it->next;
		if (!head)
			tail = NULL;
		pthread_mutex_unlock(&lock);
		it->fn(it);
		pthread_mutex_lock(&lock);
	}
out:
	nthreads--;
	pthread_cond_broadcast(&gone);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Start one detached worker (lock held). */
static int
spawn(void)
{
	pthread_attr_t a;
	pthread_t t;
	int rc;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 512 * 1024);
	rc = pthread_create(&t, &a, worker, NULL);
	pthread_attr_destroy(&a);
	if (rc)
		return -1;
	nthreads++;
	return 0;
}

int
mcpg_pool_start(int min, int max)
{
	int ok = 0;

	pthread_mutex_lock(&lock);
	nmin = min < 1 ? 1 : min;
	nmax = max < nmin ? nmin : max;
	stopping = 0;
	for (int i = 0; i < nmin; i++)
		ok += spawn() == 0;
	pthread_mutex_unlock(&lock);
	return ok ? 0 : -1;
}

void
mcpg_pool_submit(struct mcpg_pool_item *it)
{
	pthread_mutex_lock(&lock);
	it->next = NULL;
	if (tail)
		tail->next = it;
	else
		head = it;
	tail = it;
	nqueued++;
	/* Each idle thread takes one item; start another when they do not suffice. */
	if (nqueued > nidle && nthreads < nmax)
		spawn();
	pthread_cond_signal(&more);
	pthread_mutex_unlock(&lock);
}

void
mcpg_pool_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_broadcast(&more);
	while (nthreads)
		pthread_cond_wait(&gone, &lock);
	pthread_mutex_unlock(&lock);
}
