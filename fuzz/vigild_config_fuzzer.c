/*
 * vigild_config_fuzzer.c - vigild.conf's parser on arbitrary bytes: it
 * either returns a configuration whose every value reads back, or an
 * error that names the file.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onaccess/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	vg_config *c = vg_config_parse((const char *)data, size, "fuzz.conf",
	                               err, sizeof err);
	FILE *null;

	if (!c) {
		if (strncmp(err, "fuzz.conf", 9) != 0)
			abort(); /* every error names the file */
		return 0;
	}
	for (int i = 0; i < VG_CONF_COUNT; i++) {
		(void)vg_conf_num(c, (vg_conf_id)i);
		if (!vg_conf_str(c, (vg_conf_id)i))
			abort();
		for (size_t j = 0; j < vg_conf_list_count(c, (vg_conf_id)i); j++)
			if (!vg_conf_list(c, (vg_conf_id)i, j))
				abort();
	}
	if ((null = fopen("/dev/null", "w"))) {
		vg_config_dump(c, null);
		fclose(null);
	}
	vg_config_free(c);
	return 0;
}
