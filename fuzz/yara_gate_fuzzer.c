/* yara_gate_fuzzer.c - the YARA source classifier on arbitrary text: it
 * must answer 0 or 1, read only inside the text (the copy is exactly as
 * long, so ASan sees any overread), and give the same answer twice. The
 * splitter must give texts as long as the input that differ from it only
 * by blanks (newlines kept), at least one of them, and MZ whenever the
 * classifier says the whole file is gated. The not-MZ rewrite must keep
 * the number of lines. */
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
	{
		char *texts[VG_GATE_NSETS];
		int any = 0;

		if (vg_yara_gate_split(copy, size, texts) == 0) {
			for (int k = 0; k < VG_GATE_NSETS; k++) {
				if (!texts[k])
					continue;
				any = 1;
				for (size_t i = 0; i < size; i++)
					if (texts[k][i] != copy[i] &&
					    (texts[k][i] != ' ' || copy[i] == '\n'))
						abort();
				if (texts[k][size] != '\0')
					abort();
				free(texts[k]);
			}
			if (!any || (a && !texts[VG_GATE_SET_MZ]))
				abort();
		}
	}
	{
		/* the not-MZ rewrite: same lines, a NUL-terminated text */
		char *out = NULL;
		size_t outlen = 0, nl_in = 0, nl_out = 0;
		int rc = vg_yara_gate_unpe(copy, size, &out, &outlen);

		if (rc < -1 || rc > 1 || (rc == 1) != (out != NULL))
			abort();
		if (rc == 1) {
			for (size_t i = 0; i < size; i++)
				nl_in += copy[i] == '\n';
			for (size_t i = 0; i < outlen; i++)
				nl_out += out[i] == '\n';
			if (nl_in != nl_out || out[outlen] != '\0')
				abort();
			free(out);
		}
	}
	free(copy);
	return 0;
}
