/* yara_gate_fuzzer.c - the YARA source classifier on arbitrary text: it
 * must answer 0 or 1, read only inside the text (the copy is exactly as
 * long, so ASan sees any overread), and give the same answer twice. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signatures/yara_gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	int a, b;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	a = vg_yara_gate_mz(copy, size);
	b = vg_yara_gate_mz(copy, size);
	if ((a != 0 && a != 1) || a != b)
		abort();
	(void)vg_yara_is_mz(data, size);
	free(copy);
	return 0;
}
