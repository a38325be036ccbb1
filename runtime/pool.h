/*
 * pool.h - worker threads for work that may block (backend calls).
 *
 * HTTP threads never block: a tools/call or resources/read that may wait
 * (a mock with delay_ms, an http or command backend) is handed to this pool
 * and its connection suspended until the work is done.  The pool keeps
 * `min` threads and grows up to `max` while every thread is busy and work is
 * waiting; a thread idle for a while above `min` exits.
 */
#ifndef MCPG_POOL_H
#define MCPG_POOL_H

/* Start the pool.  Returns 0, or -1 when no thread could be started. */
int mcpg_pool_start(int min, int max);

/* Queue fn(arg).  Never fails (the queue is a linked list of `item`s the
   caller provides inside its own object, so queueing allocates nothing). */
struct mcpg_pool_item {
	struct mcpg_pool_item *next;
	void (*fn)(struct mcpg_pool_item *item);
};
void mcpg_pool_submit(struct mcpg_pool_item *item);

/* Stop taking work, let queued work finish, join the threads. */
void mcpg_pool_stop(void);

#endif /* MCPG_POOL_H */
