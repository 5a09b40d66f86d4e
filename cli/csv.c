/*
 * csv.c - the CSV reader of csv.h: a small state machine over a
 * buffered stream, writing each record's fields, NUL-terminated, into
 * one buffer that never grows past the record limit.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli/csv.h"

#define READ_CHUNK 65536

struct vg_csv {
	FILE *f;
	size_t max_bytes, max_fields;
	unsigned char in[READ_CHUNK];   /* read-ahead */
	size_t in_len, in_pos;
	int eof, started;
	char *rec;                       /* the record's fields, NUL-separated */
	size_t rec_len, rec_cap;
	size_t *starts;                  /* where each field begins in rec */
	char **fields;
	size_t nfields;
	size_t line;                     /* line the reader is on */
	size_t rec_line;                 /* line the last record started on */
	const char *error;
};

vg_csv *vg_csv_new(FILE *f, size_t max_bytes, size_t max_fields)
{
	vg_csv *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->f = f;
	c->max_bytes = max_bytes;
	c->max_fields = max_fields ? max_fields : 1;
	c->line = 1;
	c->starts = calloc(c->max_fields, sizeof *c->starts);
	c->fields = calloc(c->max_fields, sizeof *c->fields);
	if (!c->starts || !c->fields) {
		vg_csv_free(c);
		return NULL;
	}
	return c;
}

void vg_csv_free(vg_csv *c)
{
	if (!c)
		return;
	free(c->rec);
	free(c->starts);
	free(c->fields);
	free(c);
}

const char *vg_csv_error(const vg_csv *c)
{
	return c->error ? c->error : "";
}

size_t vg_csv_line(const vg_csv *c)
{
	return c->rec_line;
}

/* The next byte, or -1 at the end (-2 on a read error). */
static int next_byte(vg_csv *c)
{
	if (c->in_pos == c->in_len) {
		if (c->eof)
			return -1;
		c->in_len = fread(c->in, 1, sizeof c->in, c->f);
		c->in_pos = 0;
		if (c->in_len == 0) {
			c->eof = 1;
			return ferror(c->f) ? -2 : -1;
		}
	}
	return c->in[c->in_pos++];
}

/* The next byte without taking it. */
static int peek_byte(vg_csv *c)
{
	int b = next_byte(c);

	if (b >= 0)
		c->in_pos--;
	return b;
}

/* The error, on the line the reader is on. */
static int fail(vg_csv *c, const char *why)
{
	c->error = why;
	c->rec_line = c->line;
	return -1;
}

/* Appends a byte to the record, within the limit. */
static int put(vg_csv *c, char ch)
{
	if (c->rec_len == c->rec_cap) {
		size_t cap = c->rec_cap ? c->rec_cap * 2 : 4096;
		char *n;
		if (c->rec_cap >= c->max_bytes + 1)
			return fail(c, "record longer than the limit");
		if (cap > c->max_bytes + 1)
			cap = c->max_bytes + 1;
		if (!(n = realloc(c->rec, cap)))
			return fail(c, "out of memory");
		c->rec = n;
		c->rec_cap = cap;
	}
	c->rec[c->rec_len++] = ch;
	return 0;
}

static int end_field(vg_csv *c)
{
	return put(c, '\0');
}

static int new_field(vg_csv *c)
{
	if (c->nfields == c->max_fields)
		return fail(c, "more fields than the limit");
	c->starts[c->nfields++] = c->rec_len;
	return 0;
}

/* A quoted field, after its opening quote; stops after the closing one. */
static int quoted(vg_csv *c)
{
	size_t opened = c->line;

	for (;;) {
		int b = next_byte(c);
		if (b == -2)
			return fail(c, "read error");
		if (b == -1) {
			fail(c, "quoted field not closed before the end");
			c->rec_line = opened; /* where to look */
			return -1;
		}
		if (b == '\0')
			return fail(c, "NUL byte");
		if (b == '"') {
			if (peek_byte(c) != '"')
				return 0;
			next_byte(c); /* "" is one quote */
		} else if (b == '\n') {
			c->line++;
		}
		if (put(c, (char)b) != 0)
			return -1;
	}
}

/* What follows a field: 1 for another field, 0 for the record's end. */
static int after_field(vg_csv *c, int b)
{
	if (b == ',')
		return 1;
	if (b == '\n' || b == -1) {
		if (b == '\n')
			c->line++;
		return 0;
	}
	if (b == '\r') {
		if (next_byte(c) != '\n')
			return fail(c, "carriage return not followed by a line feed");
		c->line++;
		return 0;
	}
	return fail(c, "text after a closing quote");
}

int vg_csv_next(vg_csv *c, char ***fields, size_t *nfields)
{
	int b, more;

	c->rec_len = 0;
	c->nfields = 0;
	c->rec_line = c->line;
	if (!c->started) {
		c->started = 1;
		/* a byte order mark from a Windows tool */
		if (peek_byte(c) == 0xef) {
			next_byte(c);
			if (next_byte(c) != 0xbb || next_byte(c) != 0xbf)
				return fail(c, "not UTF-8 text");
		}
	}
	if ((b = peek_byte(c)) == -1)
		return 0;
	if (b == -2)
		return fail(c, "read error");
	do {
		if (new_field(c) != 0)
			return -1;
		b = next_byte(c);
		if (b == '"') {
			if (quoted(c) != 0)
				return -1;
			b = next_byte(c);
		} else {
			for (; b >= 0 && b != ',' && b != '\n' && b != '\r';
			     b = next_byte(c)) {
				if (b == '"')
					return fail(c, "quote inside an unquoted field");
				if (b == '\0')
					return fail(c, "NUL byte");
				if (put(c, (char)b) != 0)
					return -1;
			}
		}
		if (b == -2)
			return fail(c, "read error");
		if (end_field(c) != 0)
			return -1;
		if ((more = after_field(c, b)) < 0)
			return -1;
	} while (more);
	for (size_t i = 0; i < c->nfields; i++)
		c->fields[i] = c->rec + c->starts[i];
	*fields = c->fields;
	*nfields = c->nfields;
	return 1;
}
