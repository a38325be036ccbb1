/*
 * format.c - checkers for the schema's string formats (format.h).
 *
 * Written as small parsers over (pointer, length) pieces so each format can
 * reuse the host, address and port pieces of the others.  IPv4 addresses
 * are parsed strictly (four decimal parts, no leading zeros) because
 * inet_aton's octal and short forms have surprised operators before; IPv6
 * goes through inet_pton.
 */
#include "format.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

static const char *const format_names[MCPG_FMT__COUNT] = {
	[MCPG_FMT_NONE] = "none",
	[MCPG_FMT_SOCKET_ADDR] = "socket_addr",
	[MCPG_FMT_URL] = "url",
	[MCPG_FMT_ABS_PATH] = "abs_path",
	[MCPG_FMT_FILE_PATH] = "file_path",
	[MCPG_FMT_CIDR] = "cidr",
	[MCPG_FMT_HOST] = "host",
};

const char *
mcpg_format_name(enum mcpg_format f)
{
	return (unsigned)f < MCPG_FMT__COUNT ? format_names[f] : NULL;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Four decimal parts 0..255 separated by dots, no leading zeros. */
static int
parse_ipv4(const char *s, size_t len, unsigned char out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start;

		if (part && (i >= len || s[i++] != '.'))
			return -1;
		start = i;
		while (i < len && is_digit(s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return -1;
		out[part] = (unsigned char)v;
	}
	return i == len ? 0 : -1;
}

static int
parse_ipv6(const char *s, size_t len, unsigned char out[16])
{
	char tmp[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(tmp) || memchr(s, '\0', len))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1 ? 0 : -1;
}

/* Digits and dots only: it can only be meant as an IPv4 address. */
static int
looks_ipv4(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_digit(s[i]) && s[i] != '.')
			return 0;
	return len > 0;
}

/*
 * A DNS name: labels of letters, digits, '-' and '_' (service names in
 * compose files use it), 1..63 bytes, not starting or ending with '-';
 * 253 bytes at most, one optional trailing dot; the last label is not all
 * digits (that would be a malformed IPv4 address).
 */
static int
is_hostname(const char *s, size_t len)
{
	size_t label = 0;
	int all_digits = 1;

	if (len && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (label == 0) {
			if (s[i] == '-')
				return 0;
			all_digits = 1;
		}
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
		if (!is_digit(s[i]))
			all_digits = 0;
		label++;
	}
	return !all_digits;
}

/* Decimal 1..65535, at most 5 digits. */
static int
parse_port(const char *s, size_t len)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v >= 1 && v <= 65535 ? 0 : -1;
}

/* A host that is not bracketed: an IPv4 address or a name. */
static int
check_name_or_v4(const char *s, size_t len, const char **why)
{
	unsigned char a4[4];

	if (len == 0) {
		*why = "missing host";
		return -1;
	}
	if (looks_ipv4(s, len)) {
		if (parse_ipv4(s, len, a4) < 0) {
			*why = "bad IPv4 address";
			return -1;
		}
		return 0;
	}
	if (!is_hostname(s, len)) {
		*why = "bad host name";
		return -1;
	}
	return 0;
}

/*
 * HOST[:PORT] or [IPV6][:PORT] as in socket addresses and URL authorities.
 * need_port: the port must be there.
 */
static int
check_host_port(const char *s, size_t len, int need_port, const char **why)
{
	unsigned char a6[16];
	const char *colon;
	size_t hlen;

	if (len && s[0] == '[') {
		const char *end = memchr(s, ']', len);

		if (!end) {
			*why = "missing ']' after the IPv6 address";
			return -1;
		}
		if (parse_ipv6(s + 1, (size_t)(end - s - 1), a6) < 0) {
			*why = "bad IPv6 address";
			return -1;
		}
		hlen = (size_t)(end - s) + 1;
		if (hlen == len) {
			if (need_port) {
				*why = "missing port";
				return -1;
			}
			return 0;
		}
		if (s[hlen] != ':') {
			*why = "expected ':' and a port after ']'";
			return -1;
		}
		if (parse_port(s + hlen + 1, len - hlen - 1) < 0) {
			*why = "port must be a number 1..65535";
			return -1;
		}
		return 0;
	}
	colon = memchr(s, ':', len);
	if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
		*why = "an IPv6 address needs brackets: [ADDRESS]:PORT";
		return -1;
	}
	hlen = colon ? (size_t)(colon - s) : len;
	if (check_name_or_v4(s, hlen, why) < 0)
		return -1;
	if (!colon) {
		if (need_port) {
			*why = "missing port";
			return -1;
		}
		return 0;
	}
	if (parse_port(colon + 1, len - hlen - 1) < 0) {
		*why = "port must be a number 1..65535";
		return -1;
	}
	return 0;
}

/* No spaces and no control bytes. */
static int
is_clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
scheme_allowed(const char *scheme, size_t len, const char *schemes)
{
	const char *p = schemes;

	while (*p) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == len && !strncasecmp(p, scheme, len))
			return 1;
		p += n;
	}
	return 0;
}

static int
check_url(const char *s, const char *schemes, const char **why)
{
	size_t slen = 0, alen;
	const char *auth, *at;

	while (is_alpha(s[slen]) ||
	       (slen && (is_digit(s[slen]) || s[slen] == '+' || s[slen] == '-' ||
			 s[slen] == '.')))
		slen++;
	if (slen == 0 || strncmp(s + slen, "://", 3)) {
		*why = "expected SCHEME://HOST";
		return -1;
	}
	if (!is_clean(s)) {
		*why = "spaces and control characters are not allowed";
		return -1;
	}
	if (schemes && !scheme_allowed(s, slen, schemes)) {
		*why = "scheme not allowed here";
		return -1;
	}
	auth = s + slen + 3;
	alen = strcspn(auth, "/?#");
	/* The host comes after the last '@' of the authority (userinfo). */
	for (at = auth + alen; at > auth && at[-1] != '@'; at--)
		;
	if (at == auth + alen) {
		*why = "missing host";
		return -1;
	}
	return check_host_port(at, (size_t)(auth + alen - at), 0, why);
}

static int
check_cidr(const char *s, const char **why)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned char a[16];
	unsigned max, v = 0;

	if (memchr(s, ':', alen)) {
		if (parse_ipv6(s, alen, a) < 0) {
			*why = "bad IPv6 address";
			return -1;
		}
		max = 128;
	} else {
		if (parse_ipv4(s, alen, a) < 0) {
			*why = "bad IPv4 address";
			return -1;
		}
		max = 32;
	}
	if (!slash)
		return 0;
	slash++;
	if (!*slash || strlen(slash) > 3) {
		*why = "bad prefix length";
		return -1;
	}
	for (const char *p = slash; *p; p++) {
		if (!is_digit(*p)) {
			*why = "bad prefix length";
			return -1;
		}
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > max) {
		*why = max == 32 ? "prefix length must be 0..32" : "prefix length must be 0..128";
		return -1;
	}
	return 0;
}

static int
check_host(const char *s, const char **why)
{
	size_t len = strlen(s);
	unsigned char a6[16];

	if (len && s[0] == '[') {
		if (s[len - 1] != ']' || parse_ipv6(s + 1, len - 2, a6) < 0) {
			*why = "bad IPv6 address";
			return -1;
		}
		return 0;
	}
	if (memchr(s, ':', len)) {
		if (parse_ipv6(s, len, a6) < 0) {
			*why = "bad IPv6 address";
			return -1;
		}
		return 0;
	}
	return check_name_or_v4(s, len, why);
}

int
mcpg_format_check(enum mcpg_format f, const char *s, const char *schemes,
		  const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = NULL;
	switch (f) {
	case MCPG_FMT_NONE:
		return 0;
	case MCPG_FMT_SOCKET_ADDR:
		if (!*s) {
			*why = "expected HOST:PORT";
			return -1;
		}
		return check_host_port(s, strlen(s), 1, why);
	case MCPG_FMT_URL:
		return check_url(s, schemes, why);
	case MCPG_FMT_ABS_PATH:
		if (s[0] != '/') {
			*why = "must begin with '/'";
			return -1;
		}
		if (!is_clean(s)) {
			*why = "spaces and control characters are not allowed";
			return -1;
		}
		return 0;
	case MCPG_FMT_FILE_PATH:
		if (!*s) {
			*why = "must not be empty";
			return -1;
		}
		return 0;
	case MCPG_FMT_CIDR:
		return check_cidr(s, why);
	case MCPG_FMT_HOST:
		return check_host(s, why);
	case MCPG_FMT__COUNT:
		break;
	}
	*why = "unknown format";
	return -1;
}

int
mcpg_is_loopback_host(const char *s)
{
	size_t len = strlen(s), hlen;
	unsigned char a[16];
	const char *colon;
	const char *why;

	if (len && s[0] == '[') {
		const char *end = memchr(s, ']', len);

		if (!end || check_host_port(s, len, 0, &why) < 0)
			return 0;
		s++;
		hlen = (size_t)(end - s);
		goto v6;
	}
	colon = memchr(s, ':', len);
	if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
		hlen = len;
		goto v6;
	}
	if (colon && check_host_port(s, len, 0, &why) < 0)
		return 0;
	hlen = colon ? (size_t)(colon - s) : len;
	if (hlen && s[hlen - 1] == '.')
		hlen--;
	if (hlen == 9 && !strncasecmp(s, "localhost", 9))
		return 1;
	return parse_ipv4(s, hlen, a) == 0 && a[0] == 127;
v6:
	if (parse_ipv6(s, hlen, a) < 0)
		return 0;
	{
		static const unsigned char loop6[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

		return !memcmp(a, loop6, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
	}
}
