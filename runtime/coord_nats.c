/* placeholder, replaced below */
#include "coord.h"
#include <stdio.h>
const struct mcpg_coord_ops *
mcpg_coord_nats_start(const struct mcpg_rt *rt, char *err, size_t errlen)
{
	(void)rt;
	snprintf(err, errlen, "not yet");
	return NULL;
}
