/*
 * update_conf_fuzzer.c - the vigil-update.conf reader (cli/update_conf.c)
 * on arbitrary bytes: it parses or names a line, never more.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/update_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vg_update_conf c;
	char err[256] = "";

	if (size > VG_UPDATE_MAX_CONF)
		return 0;
	if (vg_update_conf_defaults(&c) != 0)
		abort();
	if (vg_update_conf_parse(&c, (const char *)data, size, err,
	                         sizeof err) != 0) {
		if (strncmp(err, "line ", 5) != 0)
			abort(); /* every error names its line */
	} else if (c.nmirrors > VG_UPDATE_MAX_LIST ||
	           c.ncommands > VG_UPDATE_MAX_LIST || !c.dir || !c.bundle ||
	           strchr(c.bundle, '/') || c.max_size < 1024 ||
	           c.max_attempts < 1) {
		abort(); /* a value outside its bounds got through */
	}
	vg_update_conf_free(&c);
	return 0;
}
