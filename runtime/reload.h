/*
 * reload.h - replace the live configuration while serving.
 *
 * Triggers: inotify on the image's directory (a rename onto the image name,
 * a write closed on it, a symlink created under its name, and the
 * "..data" rename Kubernetes does for ConfigMap volumes) and SIGHUP.  A
 * reload loads and verifies the new image completely (mcpg_rt_load) and
 * publishes it with one atomic swap; on any failure the old snapshot keeps
 * serving and the failure is logged and counted.  Keys flagged `restart`
 * that changed are logged and keep their boot values (the listener, TLS and
 * routes are only read at start).  Sessions live outside snapshots and
 * survive.
 */
#ifndef MCPG_RELOAD_H
#define MCPG_RELOAD_H

#include <stddef.h>

/*
 * Remember how to reload: the image at `path`; when `layers` is not NULL
 * (MCPG_CONFIG mode), SIGHUP first rebuilds `path` from those YAML layers
 * with `mcpgc`.  Starts the inotify watcher unless `watch` is 0.
 * Returns 0, or -1 when the watch cannot be set up (logged; SIGHUP still
 * works).
 */
int mcpg_reload_start(const char *path, const char *layers, const char *mcpgc, int watch);

/*
 * Reload now (`source` names the trigger in the log: "sighup", "inotify").
 * Returns 1 when a new image was published, 0 when the image was unchanged,
 * -1 when it was refused.
 */
int mcpg_reload_now(const char *source);

/* Stop the watcher thread. */
void mcpg_reload_stop(void);

/*
 * Run `mcpgc build LAYER... -o OUT` (layers ':'-separated).  Returns 0, or
 * -1 with a message in `err` (mcpgc's own diagnostics went to stderr).
 */
int mcpg_build_image(const char *mcpgc, const char *layers, const char *out, char *err,
		     size_t errlen);

#endif /* MCPG_RELOAD_H */
