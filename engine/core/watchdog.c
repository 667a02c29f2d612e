// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/watchdog.h"
#include "core/error.h"

struct oc_watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	unsigned quiet_ms;
	void (*rescue)(void *arg);
	void *arg;
	unsigned long fed; /* progress count, bumped without the lock */
	bool stopping;	   /* under the lock */
	bool rescued;	   /* read once the thread is joined */
};

static struct timespec after_ms(unsigned ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

static void *watch(void *data)
{
	struct oc_watchdog *w = data;
	unsigned long seen = __atomic_load_n(&w->fed, __ATOMIC_RELAXED);

	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		struct timespec until = after_ms(w->quiet_ms);
		int r = 0;

		while (!w->stopping && r != ETIMEDOUT)
			r = pthread_cond_timedwait(&w->wake, &w->lock, &until);
		if (w->stopping)
			break;
		unsigned long now = __atomic_load_n(&w->fed, __ATOMIC_RELAXED);
		if (now != seen) {
			seen = now;
			continue;
		}
		w->rescued = true;
		pthread_mutex_unlock(&w->lock);
		w->rescue(w->arg);
		return NULL;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int oc_watchdog_start(unsigned quiet_ms, void (*rescue)(void *arg), void *arg, struct oc_watchdog **ret)
{
	struct oc_watchdog *w = calloc(1, sizeof(*w));
	pthread_condattr_t attr;
	int r;

	if (!w)
		return -ENOMEM;
	w->quiet_ms = quiet_ms;
	w->rescue = rescue;
	w->arg = arg;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &attr);
	pthread_condattr_destroy(&attr);
	r = -pthread_create(&w->thread, NULL, watch, w);
	if (r < 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return oc_error_errno(r, "cannot start a watchdog thread");
	}
	*ret = w;
	return 0;
}

void oc_watchdog_feed(struct oc_watchdog *w)
{
	if (w)
		__atomic_fetch_add(&w->fed, 1, __ATOMIC_RELAXED);
}

bool oc_watchdog_stop(struct oc_watchdog *w)
{
	bool rescued;

	if (!w)
		return false;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	rescued = w->rescued;
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return rescued;
}
