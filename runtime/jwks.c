/*
 * jwks.c - remote key sets and their fetch thread (see jwks.h).
 */
#include "jwks.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "log.h"
#include "mcp.h"

#define MAX_DOC (1 << 20)     /* a discovery document or key set larger than this is refused */
#define RETRY_MS 1000         /* before the first success */
#define FAIL_RETRY_MS 5000    /* after a failed refresh, at most this long until the next try */

struct mcpg_jwks_src {
	struct mcpg_jwks_src *next; /* registry (reg_lock) */
	int refs;                   /* reg_lock */
	struct mcpg_jwks_cfg cfg;   /* strings owned */
	char *key;                  /* settings, for sharing */
	/* lock: */
	pthread_mutex_t lock;
	struct mcpg_keyset *ks;
	unsigned char body_hash[32]; /* of the key set text the current ks came from */
	int64_t last_ok_ms;          /* 0: never */
	int64_t next_ms;             /* next scheduled fetch */
	int64_t last_kick_ms;        /* last fetch a kid miss asked for */
	int kicked;
	char *jwks_uri;              /* discovered (or cfg.jwks_uri) */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cond;
static struct mcpg_jwks_src *sources;
static pthread_t fetch_thread;
static int thread_started, thread_stop;

static char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ------------------------------------------------------------------------
 * HTTP
 */

struct body {
	char *buf;
	size_t len;
	int over;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct body *b = ud;
	size_t add = sz * n;
	char *nb;

	if (b->len + add > MAX_DOC) {
		b->over = 1;
		return 0;
	}
	nb = realloc(b->buf, b->len + add + 1);
	if (!nb)
		return 0;
	b->buf = nb;
	memcpy(b->buf + b->len, p, add);
	b->len += add;
	b->buf[b->len] = '\0';
	return add;
}

/* GET `url` into `b`; 0, or -1 with `err` set. */
static int
http_get(const char *url, int64_t timeout_ms, struct body *b, char *err, size_t errlen)
{
	CURL *e = curl_easy_init();
	CURLcode rc;
	long status = 0;

	memset(b, 0, sizeof(*b));
	if (!e) {
		snprintf(err, errlen, "libcurl failed to start");
		return -1;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "mcpg/" MCPG_VERSION);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	if (rc != CURLE_OK || status != 200) {
		if (b->over)
			snprintf(err, errlen, "'%s': document larger than %d bytes", url, MAX_DOC);
		else if (rc != CURLE_OK)
			snprintf(err, errlen, "'%s': %s", url, curl_easy_strerror(rc));
		else
			snprintf(err, errlen, "'%s': HTTP status %ld", url, status);
		free(b->buf);
		b->buf = NULL;
		return -1;
	}
	if (!b->buf)
		b->buf = strdup("");
	return b->buf ? 0 : -1;
}

/* The jwks_uri of `s`: configured, or read from the discovery document. */
static char *
find_jwks_uri(struct mcpg_jwks_src *s, char *err, size_t errlen)
{
	struct body b;
	json_t *doc;
	const char *uri, *iss;
	char *out = NULL;

	if (s->cfg.jwks_uri)
		return strdup(s->cfg.jwks_uri);
	if (http_get(s->cfg.discovery_uri, s->cfg.timeout_ms, &b, err, errlen) < 0)
		return NULL;
	doc = json_loadb(b.buf, b.len, 0, NULL);
	free(b.buf);
	uri = json_string_value(json_object_get(doc, "jwks_uri"));
	iss = json_string_value(json_object_get(doc, "issuer"));
	if (!uri || (strncmp(uri, "https://", 8) && strncmp(uri, "http://", 7)))
		snprintf(err, errlen, "'%s': no http(s) jwks_uri in the discovery document",
			 s->cfg.discovery_uri);
	else if (s->cfg.issuer && (!iss || strcmp(iss, s->cfg.issuer)))
		/* OpenID Connect Discovery 1.0, 4.3: the issuers must be identical. */
		snprintf(err, errlen, "'%s': discovery document names issuer '%s', not '%s'",
			 s->cfg.discovery_uri, iss ? iss : "", s->cfg.issuer);
	else
		out = strdup(uri);
	json_decref(doc);
	return out;
}

/* One fetch of `s`; publishes a new set when it changed. */
static void
fetch(struct mcpg_jwks_src *s)
{
	char err[512] = "";
	char *uri = find_jwks_uri(s, err, sizeof(err));
	struct body b = { 0 };
	struct mcpg_keyset *ks = NULL, *old = NULL;
	unsigned char h[32];
	int64_t now;
	int same = 0;

	if (uri && http_get(uri, s->cfg.timeout_ms, &b, err, sizeof(err)) == 0) {
		SHA256((const unsigned char *)b.buf, b.len, h);
		pthread_mutex_lock(&s->lock);
		same = s->ks && !memcmp(h, s->body_hash, 32);
		pthread_mutex_unlock(&s->lock);
		if (!same) {
			char perr[256];

			ks = mcpg_keyset_parse(b.buf, b.len, s->cfg.allowed, perr, sizeof(perr));
			if (!ks)
				snprintf(err, sizeof(err), "'%s': %s", uri, perr);
		}
	}
	free(b.buf);
	now = mcpg_mono_ms();
	pthread_mutex_lock(&s->lock);
	if (same || ks) {
		if (ks) {
			old = s->ks;
			s->ks = ks;
			memcpy(s->body_hash, h, 32);
		}
		s->last_ok_ms = now;
		s->next_ms = now + s->cfg.refresh_ms;
		free(s->jwks_uri);
		s->jwks_uri = uri;
		uri = NULL;
	} else {
		int64_t retry = s->last_ok_ms ? FAIL_RETRY_MS : RETRY_MS;

		s->next_ms = now + (retry < s->cfg.refresh_ms ? retry : s->cfg.refresh_ms);
	}
	pthread_mutex_unlock(&s->lock);
	free(uri);
	mcpg_keyset_put(old);
	if (ks)
		mcpg_log(MCPG_LOG_INFO, NULL, "key set loaded", "source", MCPG_LF_STR,
			 s->cfg.discovery_uri ? s->cfg.discovery_uri : s->cfg.jwks_uri, "keys",
			 MCPG_LF_U64, (uint64_t)ks->n, NULL);
	else if (!same)
		mcpg_log(MCPG_LOG_WARN, NULL, "key set fetch failed", "error", MCPG_LF_STR, err,
			 NULL);
}

static void *
fetch_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&reg_lock);
	while (!thread_stop) {
		int64_t now = mcpg_mono_ms(), wait = 60000;
		struct mcpg_jwks_src *due = NULL;

		for (struct mcpg_jwks_src *s = sources; s && !due; s = s->next) {
			int64_t at;

			pthread_mutex_lock(&s->lock);
			at = s->kicked ? now : s->next_ms;
			pthread_mutex_unlock(&s->lock);
			if (at <= now)
				due = s;
			else if (at - now < wait)
				wait = at - now;
		}
		if (due) {
			due->refs++;
			pthread_mutex_lock(&due->lock);
			due->kicked = 0;
			pthread_mutex_unlock(&due->lock);
			pthread_mutex_unlock(&reg_lock);
			fetch(due);
			mcpg_jwks_put(due);
			pthread_mutex_lock(&reg_lock);
			continue;
		}
		{
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&reg_cond, &reg_lock, &ts);
		}
	}
	pthread_mutex_unlock(&reg_lock);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Registry
 */

struct mcpg_jwks_src *
mcpg_jwks_get(const struct mcpg_jwks_cfg *cfg)
{
	char key[4096];
	struct mcpg_jwks_src *s;

	snprintf(key, sizeof(key), "%s|%s|%s|%u|%lld|%lld|%lld", cfg->jwks_uri ? cfg->jwks_uri : "",
		 cfg->discovery_uri ? cfg->discovery_uri : "", cfg->issuer ? cfg->issuer : "",
		 cfg->allowed, (long long)cfg->refresh_ms, (long long)cfg->timeout_ms,
		 (long long)cfg->max_stale_ms);
	pthread_mutex_lock(&reg_lock);
	for (s = sources; s && strcmp(s->key, key); s = s->next)
		;
	if (s) {
		s->refs++;
		pthread_mutex_unlock(&reg_lock);
		return s;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->key = strdup(key))) {
		free(s);
		pthread_mutex_unlock(&reg_lock);
		return NULL;
	}
	s->cfg = *cfg;
	s->cfg.jwks_uri = xstrdup(cfg->jwks_uri);
	s->cfg.discovery_uri = xstrdup(cfg->discovery_uri);
	s->cfg.issuer = xstrdup(cfg->issuer);
	pthread_mutex_init(&s->lock, NULL);
	s->refs = 1;
	s->next = sources;
	sources = s;
	if (!thread_started) {
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&reg_cond, &ca);
		pthread_condattr_destroy(&ca);
		curl_global_init(CURL_GLOBAL_DEFAULT);
		thread_stop = 0;
		if (pthread_create(&fetch_thread, NULL, fetch_main, NULL) == 0)
			thread_started = 1;
	}
	pthread_cond_signal(&reg_cond);
	pthread_mutex_unlock(&reg_lock);
	return s;
}

void
mcpg_jwks_put(struct mcpg_jwks_src *s)
{
	struct mcpg_jwks_src **pp;

	if (!s)
		return;
	pthread_mutex_lock(&reg_lock);
	if (--s->refs) {
		pthread_mutex_unlock(&reg_lock);
		return;
	}
	for (pp = &sources; *pp && *pp != s; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = s->next;
	pthread_mutex_unlock(&reg_lock);
	mcpg_keyset_put(s->ks);
	pthread_mutex_destroy(&s->lock);
	free((char *)s->cfg.jwks_uri);
	free((char *)s->cfg.discovery_uri);
	free((char *)s->cfg.issuer);
	free(s->jwks_uri);
	free(s->key);
	free(s);
}

/*
 * Whether the set may still be used: max_staleness counts from when the
 * next refresh was due (and had its timeout to finish), so 0 means "only
 * while refreshes succeed", not "never".
 */
static int
fresh(const struct mcpg_jwks_src *s, int64_t now_ms)
{
	return s->last_ok_ms && now_ms - s->last_ok_ms <= s->cfg.refresh_ms + s->cfg.timeout_ms +
								 s->cfg.max_stale_ms;
}

struct mcpg_keyset *
mcpg_jwks_keys(struct mcpg_jwks_src *s, int64_t now_ms, int *stale)
{
	struct mcpg_keyset *ks = NULL;

	pthread_mutex_lock(&s->lock);
	*stale = s->ks && !fresh(s, now_ms);
	if (s->ks && !*stale) {
		ks = s->ks;
		mcpg_keyset_hold(ks);
	}
	pthread_mutex_unlock(&s->lock);
	return ks;
}

uint64_t
mcpg_jwks_serial(struct mcpg_jwks_src *s, int64_t now_ms)
{
	uint64_t serial = 0;

	pthread_mutex_lock(&s->lock);
	if (s->ks && fresh(s, now_ms))
		serial = s->ks->serial;
	pthread_mutex_unlock(&s->lock);
	return serial;
}

void
mcpg_jwks_kick(struct mcpg_jwks_src *s, int64_t now_ms)
{
	int go = 0;

	pthread_mutex_lock(&s->lock);
	if (!s->last_kick_ms || now_ms - s->last_kick_ms >= s->cfg.refresh_ms) {
		s->last_kick_ms = now_ms;
		s->kicked = go = 1;
	}
	pthread_mutex_unlock(&s->lock);
	if (go) {
		pthread_mutex_lock(&reg_lock);
		pthread_cond_signal(&reg_cond);
		pthread_mutex_unlock(&reg_lock);
	}
}

int
mcpg_jwks_loaded(struct mcpg_jwks_src *s)
{
	int ok;

	pthread_mutex_lock(&s->lock);
	ok = s->ks != NULL;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void
mcpg_jwks_shutdown(void)
{
	pthread_mutex_lock(&reg_lock);
	if (!thread_started) {
		pthread_mutex_unlock(&reg_lock);
		return;
	}
	thread_stop = 1;
	pthread_cond_signal(&reg_cond);
	pthread_mutex_unlock(&reg_lock);
	pthread_join(fetch_thread, NULL);
	thread_started = 0;
}
