/*
 * format.h - string formats named in the schema (format(socket_addr) etc.).
 *
 * Shared by mcpgc, which checks literal values at compile time, and mcpg,
 * which checks values again after resolving ${env.*} at boot.  The checks
 * are syntactic only: nothing here resolves a name or touches the network.
 */
#ifndef MCPG_FORMAT_H
#define MCPG_FORMAT_H

#include "schema_desc.h"

/*
 * Check `s` against format `f`.  For MCPG_FMT_URL, `schemes` is the
 * space-separated list of allowed schemes (compared case-insensitively), or
 * NULL for any.  Returns 0 when it matches; -1 otherwise, with *why (if
 * `why` is not NULL) set to a static phrase for the message, such as
 * "port must be a number 1..65535".  MCPG_FMT_NONE accepts everything.
 *
 *   socket_addr  HOST:PORT or [IPV6]:PORT; HOST an IPv4 address or a host
 *                name; PORT decimal 1..65535
 *   url          SCHEME://AUTHORITY[/...], no spaces or control bytes;
 *                AUTHORITY is [USERINFO@]HOST[:PORT], HOST a name, an IPv4
 *                address or [IPV6]
 *   abs_path     begins with '/', no spaces or control bytes
 *   file_path    not empty
 *   cidr         IPv4 or IPv6 address, optional /LEN (0..32 or 0..128)
 *   host         a host name, an IPv4 address, or an IPv6 address (bare or
 *                in brackets)
 */
int mcpg_format_check(enum mcpg_format f, const char *s, const char *schemes,
		      const char **why);

/* The schema's spelling of a format ("socket_addr"), or NULL. */
const char *mcpg_format_name(enum mcpg_format f);

/*
 * 1 when `host_or_addr` names the loopback interface: localhost (any case,
 * optional trailing dot), 127.0.0.0/8, ::1 or ::ffff:127.x.x.x.  Accepts a
 * bare host, [IPV6], HOST:PORT or [IPV6]:PORT.  0 otherwise, including for
 * 0.0.0.0, :: and anything malformed.  For cross-field rules such as
 * "anonymous identity needs a loopback bind address".
 */
int mcpg_is_loopback_host(const char *host_or_addr);

#endif /* MCPG_FORMAT_H */
