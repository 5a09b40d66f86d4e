/*
 * csv.h - a CSV reader (RFC 4180) for `vigil ml score --csv`: fields
 * separated by commas, records by LF or CRLF, double-quoted fields that
 * may hold commas, line breaks and doubled quotes. What it cannot read
 * as CSV it refuses with the line number, never guesses: a quote inside
 * an unquoted field, text after a closing quote, a quoted field left
 * open at the end, a bare CR, a NUL byte, a record or a field count past
 * the limits. Datasets are untrusted input (fuzz/csv_fuzzer.c).
 */
#ifndef VIGIL_CLI_CSV_H
#define VIGIL_CLI_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct vg_csv vg_csv;

/* A reader over f (not closed by the reader) that refuses records of
 * more than max_bytes bytes or max_fields fields. NULL on ENOMEM. */
vg_csv *vg_csv_new(FILE *f, size_t max_bytes, size_t max_fields);
void vg_csv_free(vg_csv *c);

/*
 * Reads the next record: 1 and *fields / *nfields set (NUL-terminated
 * strings, valid until the next call), 0 at the end of the input, -1
 * when the input is not CSV (vg_csv_error says why, vg_csv_line where)
 * or cannot be read. A blank line is a record of one empty field. A
 * UTF-8 byte order mark at the start is skipped.
 */
int vg_csv_next(vg_csv *c, char ***fields, size_t *nfields);

/* Why the last vg_csv_next returned -1. */
const char *vg_csv_error(const vg_csv *c);

/* The line (1-based) the last record read starts on, or the error is
 * on (for a quoted field left open: the line that opened it). */
size_t vg_csv_line(const vg_csv *c);

#endif
