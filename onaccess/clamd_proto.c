/*
 * clamd_proto.c - see clamd_proto.h.
 */
#include "config.h"

#include <string.h>

#include "engine/bytes.h"
#include "onaccess/clamd_proto.h"

static const struct {
	const char *name;
	vg_clamd_id id;
	int need_arg;
} commands[] = {
	{ "PING", VG_CLAMD_PING, 0 },
	{ "VERSION", VG_CLAMD_VERSION, 0 },
	{ "VERSIONCOMMANDS", VG_CLAMD_VERSIONCOMMANDS, 0 },
	{ "RELOAD", VG_CLAMD_RELOAD, 0 },
	{ "SHUTDOWN", VG_CLAMD_SHUTDOWN, 0 },
	{ "SCAN", VG_CLAMD_SCAN, 1 },
	{ "CONTSCAN", VG_CLAMD_CONTSCAN, 1 },
	{ "MULTISCAN", VG_CLAMD_MULTISCAN, 1 },
	{ "ALLMATCHSCAN", VG_CLAMD_ALLMATCHSCAN, 1 },
	{ "INSTREAM", VG_CLAMD_INSTREAM, 0 },
	{ "FILDES", VG_CLAMD_FILDES, 0 },
	{ "STATS", VG_CLAMD_STATS, 0 },
	{ "IDSESSION", VG_CLAMD_IDSESSION, 0 },
	{ "END", VG_CLAMD_END, 0 },
	{ "AUTH", VG_CLAMD_AUTH, 1 },
};

long vg_clamd_frame(const uint8_t *buf, size_t len, size_t max)
{
	uint8_t term = '\n';
	const uint8_t *end;
	size_t look;

	if (len == 0)
		return 0;
	if (buf[0] == 'z')
		term = 0;
	look = len < max ? len : max;
	end = memchr(buf, term, look);
	if (end)
		return (long)(end - buf) + 1;
	return len >= max ? -1 : 0;
}

void vg_clamd_parse(uint8_t *buf, size_t n, vg_clamd_cmd *out)
{
	char *s;
	size_t len;

	memset(out, 0, sizeof *out);
	out->term = '\n';
	if (n == 0)
		return;
	if (buf[0] == 'z' || buf[0] == 'n') {
		if (n < 2)
			return;
		out->term = buf[0] == 'z' ? '\0' : '\n';
		s = (char *)buf + 1;
		len = n - 2; /* prefix and terminator */
	} else {
		out->legacy = 1;
		s = (char *)buf;
		len = n - 1;
	}
	s[len] = 0;
	if (memchr(s, 0, len))
		return; /* a NUL inside a command: nothing valid */
	if (out->term == '\n') {
		while (len && s[len - 1] == '\r')
			s[--len] = 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		size_t k = strlen(commands[i].name);
		if (len < k || memcmp(s, commands[i].name, k) != 0)
			continue;
		if (commands[i].need_arg) {
			if (len < k + 2 || s[k] != ' ')
				continue;
			out->arg = s + k + 1;
		} else if (len != k) {
			continue;
		}
		out->id = commands[i].id;
		return;
	}
}

const char *vg_clamd_name(vg_clamd_id id)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].id == id)
			return commands[i].name;
	return "";
}

uint32_t vg_clamd_chunk_len(const uint8_t b[4])
{
	uint32_t v = 0;
	vg_u32be(b, 4, 0, &v);
	return v;
}
