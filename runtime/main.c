/*
 * main.c - the mcpg runtime entry point.
 *
 *   mcpg [--image PATH]        PATH defaults to $MCPG_IMAGE
 *
 * Today it maps the image, verifies it once and reports its digest; the
 * HTTP server arrives with the runtime issue.  A corrupt, truncated or
 * foreign image is refused with one line and exit status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "schema_desc.h"

static const char usage_text[] = "usage: mcpg [--image PATH]\n";

int
main(int argc, char **argv)
{
	const char *path = getenv("MCPG_IMAGE");
	struct mcpg_image img;
	struct mcpg_verify_error err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--image") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strncmp(argv[i], "--image=", 8)) {
			path = argv[i] + 8;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("mcpg %s (schema %s)\n", MCPG_VERSION, mcpg_schema.hash_hex);
			return 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else {
			fprintf(stderr, "mcpg: error: unknown argument '%s'\n%s", argv[i], usage_text);
			return 2;
		}
	}
	if (!path || !*path) {
		fprintf(stderr, "mcpg: error: no image: pass --image PATH or set MCPG_IMAGE\n");
		return 2;
	}
	if (mcpg_image_open(&img, path, &mcpg_schema, &err)) {
		fprintf(stderr, "mcpg: error: %s: %s\n", path, err.msg);
		return 1;
	}
	fprintf(stderr, "{\"level\":\"info\",\"msg\":\"image verified\",\"image\":\"%s\","
			"\"digest\":\"%s\",\"bytes\":%zu}\n",
		path, img.digest_hex, img.size);
	fprintf(stderr, "mcpg: the HTTP runtime is not built yet (issue 4); exiting after "
			"verifying the image\n");
	mcpg_image_close(&img);
	return 0;
}
