/*
 * hashdb_load.c - ClamAV's hash list text format (.hdb .hsb .fp .sfp)
 * into a vg_hashdb, line by line through a bounded buffer, with an
 * error naming the file and line for anything malformed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/vg.h"
#include "signatures/hashdb.h"

/* Lines longer than this are an error: it bounds the reader's buffer,
 * which is also its read size. */
#define LINE_MAX_BYTES 65535

/* Hex digit values + 1; 0 for anything else. */
static const uint8_t hex_plus1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Decodes len hex digits into out; 0 on a non-hex digit. */
static int unhex(const char *s, size_t len, uint8_t *out)
{
	int ok = 1;

	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_plus1[(unsigned char)s[i]];
		int lo = hex_plus1[(unsigned char)s[i + 1]];
		ok &= hi && lo;
		out[i / 2] = (uint8_t)(((hi - 1) & 15) << 4 | ((lo - 1) & 15));
	}
	return ok;
}

/* A decimal number of at most max_digits digits; 0 if not one. */
static int parse_decimal(const char *s, size_t len, size_t max_digits,
                         uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > max_digits)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 1;
}

struct field {
	const char *s;
	size_t len;
};

#define MAX_FIELDS 5 /* hash, size, name, min FLEVEL, max FLEVEL */

/* Adds the entry on one line (no line ending); NULL on success, else the
 * reason the line is bad. *err is set for errors that are not the
 * line's fault (ENOMEM). */
static const char *parse_line(vg_hashdb *db, const char *line, size_t len,
                              vigil_error *err)
{
	struct field f[MAX_FIELDS];
	size_t nf = 0, start = 0;
	uint8_t hash[32];
	uint64_t size, flevel;
	vg_hash_kind kind;

	for (;;) {
		const char *colon = memchr(line + start, ':', len - start);
		size_t end = colon ? (size_t)(colon - line) : len;
		if (nf == MAX_FIELDS)
			return "too many fields (want HASH:SIZE:NAME[:FLEVEL[:FLEVEL]])";
		f[nf].s = line + start;
		f[nf].len = end - start;
		nf++;
		if (!colon)
			break;
		start = end + 1;
	}
	if (nf < 3)
		return "too few fields (want HASH:SIZE:NAME)";

	switch (f[0].len) {
	case 32: kind = VG_HASH_MD5; break;
	case 40: kind = VG_HASH_SHA1; break;
	case 64: kind = VG_HASH_SHA256; break;
	default:
		return "hash must be 32, 40 or 64 hex digits (MD5, SHA-1, SHA-256)";
	}
	if (!unhex(f[0].s, f[0].len, hash))
		return "hash has a character that is not a hex digit";

	if (f[1].len == 1 && f[1].s[0] == '*')
		size = VG_HASH_ANY_SIZE;
	else if (!parse_decimal(f[1].s, f[1].len, 10, &size) ||
	         size > VG_HASH_MAX_SIZE)
		return "size must be a byte count below 4294967295, or *";

	if (f[2].len == 0)
		return "empty threat name";
	if (f[2].len > VG_HASH_MAX_NAME)
		return "threat name longer than 512 bytes";
	for (size_t i = 0; i < f[2].len; i++) {
		unsigned char c = (unsigned char)f[2].s[i];
		if (c < 0x20 || c == 0x7f)
			return "control character in threat name";
	}
	/* FLEVEL bounds are ClamAV engine versions; vigil handles every
	 * hash entry, so they are only checked, never used to skip one. */
	for (size_t i = 3; i < nf; i++)
		if (f[i].len && !parse_decimal(f[i].s, f[i].len, 9, &flevel))
			return "FLEVEL must be a decimal number";

	*err = vg_hashdb_add(db, kind, hash, size, f[2].s, f[2].len);
	if (*err == VIGIL_OK)
		return NULL;
	return *err == VIGIL_ENOMEM ? "out of memory" : "set already frozen";
}

/* A bounded line reader over a descriptor. */
struct reader {
	int fd;
	char buf[LINE_MAX_BYTES + 1];
	size_t start, end;
	int eof;
};

/* Next line without its '\n': 1 with line and len set, 0 at the end, -1 on a
 * read error (errno set), -2 for a line longer than LINE_MAX_BYTES. */
static int next_line(struct reader *rd, char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(rd->buf + rd->start, '\n', rd->end - rd->start);
		if (nl) {
			*line = rd->buf + rd->start;
			*len = (size_t)(nl - *line);
			rd->start += *len + 1;
			return 1;
		}
		if (rd->eof) {
			if (rd->start == rd->end)
				return 0;
			*line = rd->buf + rd->start;
			*len = rd->end - rd->start;
			rd->start = rd->end;
			return 1;
		}
		if (rd->start > 0) {
			memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
			rd->end -= rd->start;
			rd->start = 0;
		}
		if (rd->end == sizeof rd->buf)
			return -2;
		ssize_t got = read(rd->fd, rd->buf + rd->end,
		                   sizeof rd->buf - rd->end);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			rd->eof = 1;
		rd->end += (size_t)got;
	}
}

static int blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

vigil_error vg_hashdb_load(vg_hashdb *db, vigil_engine *e, const char *path)
{
	struct reader *rd;
	struct stat st;
	vg_hashdb_mark mark;
	size_t lineno = 0, len;
	char *line;
	vigil_error err = VIGIL_OK;
	int rc;

	if (!db || !e || !path)
		return VIGIL_EINVAL;
	if (!(rd = calloc(1, sizeof *rd)))
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", path);
	/* O_NONBLOCK: a FIFO named like a list must not hang the load;
	 * it changes nothing for a regular file */
	if ((rd->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		int en = errno;
		free(rd);
		return vg_engine_fail(e, en == ENOENT ? VIGIL_ENOENT :
		                      en == EACCES ? VIGIL_EACCES : VIGIL_EIO,
		                      "%s: %s", path, strerror(en));
	}
	if (fstat(rd->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(rd->fd);
		free(rd);
		return vg_engine_fail(e, VIGIL_ENOTREG, "%s: not a regular file",
		                      path);
	}
	mark = vg_hashdb_checkpoint(db);

	while ((rc = next_line(rd, &line, &len)) == 1) {
		const char *why;
		lineno++;
		if (len && line[len - 1] == '\r')
			len--;
		if (lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
			line += 3; /* a UTF-8 byte order mark from a Windows editor */
			len -= 3;
		}
		if (len == 0 || line[0] == '#' || blank(line, len))
			continue;
		if ((why = parse_line(db, line, len, &err))) {
			if (err == VIGIL_OK)
				err = VIGIL_EDATABASE;
			vg_engine_fail(e, err, "%s:%zu: %s", path, lineno, why);
			break;
		}
	}
	if (rc == -1) {
		err = vg_engine_fail(e, VIGIL_EIO, "%s: %s", path, strerror(errno));
	} else if (rc == -2) {
		err = vg_engine_fail(e, VIGIL_EDATABASE,
		                     "%s:%zu: line longer than %d bytes", path,
		                     lineno + 1, LINE_MAX_BYTES);
	}
	close(rd->fd);
	free(rd);
	if (err != VIGIL_OK)
		vg_hashdb_roll_back(db, &mark);
	return err;
}
