/*
 * clock.h - the runtime's monotonic clock, in milliseconds and microseconds
 * (CLOCK_MONOTONIC: deadlines, idle times, TTLs, latencies).  One place, so
 * every module measures time the same way.
 */
#ifndef MCPG_CLOCK_H
#define MCPG_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
mcpg_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t
mcpg_mono_ms(void)
{
	return mcpg_mono_us() / 1000;
}

#endif /* MCPG_CLOCK_H */
