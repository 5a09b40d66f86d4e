/*
 * yara_gate.h - tells, from a YARA source file's text, whether none of
 * its rules can match an object that does not start with "MZ", so the
 * stage can skip the file's rules on every other object (doc/yara.md).
 */
#ifndef VIGIL_YARA_GATE_H
#define VIGIL_YARA_GATE_H

#include <stddef.h>

/*
 * 1 when the source src[0..len) holds at least one rule and every rule,
 * private and global ones included, has a condition whose top level is a
 * conjunction with `uint16(0) == 0x5a4d` (or `uint16be(0) == 0x4d5a`) as
 * one of its terms. 0 otherwise, and whenever the text is anything the
 * classifier does not fully understand (includes, syntax errors, ...):
 * 0 is always a safe answer. Never reads outside src[0..len).
 */
int vg_yara_gate_mz(const char *src, size_t len);

/* The sets a rule file's rules go to (vg_yara_gate_split). */
enum { VG_GATE_SET_ALL, VG_GATE_SET_MZ, VG_GATE_SET_NOT_MZ, VG_GATE_NSETS };
#define VG_GATE_ALL 0x1    /* scanned on every object */
#define VG_GATE_MZ 0x2     /* only on objects starting "MZ" */
#define VG_GATE_NOT_MZ 0x4 /* only on the others */

/*
 * Splits a source file by rule into up to three texts, each the whole
 * file with the rules that go elsewhere (and the imports none of its
 * rules name) blanked, newlines kept so lines number as in the file:
 * texts[VG_GATE_SET_MZ] gets the rules vg_yara_gate_mz's test proves
 * gated; a rule naming a module (`pe.`...) goes to both
 * texts[VG_GATE_SET_MZ] and texts[VG_GATE_SET_NOT_MZ] (the two halves
 * see disjoint objects, so each object runs it once, and a set without
 * modules costs no module set-up per object); every other rule goes to
 * texts[VG_GATE_SET_ALL]. A file the tokenizer does not fully
 * understand, with global rules, with a rule naming another rule of the
 * file or with a name twice is not split: all of it goes to one place
 * (MZ when every rule is gated, both halves when it may import a
 * module, ALL otherwise). A NULL text gets no rules. Each text is
 * malloc'd, NUL-terminated and as long as src. 0, or -1 on ENOMEM (no
 * text is left allocated).
 */
int vg_yara_gate_split(const char *src, size_t len,
                       char *texts[VG_GATE_NSETS]);

/*
 * For a text of the not-MZ set: the same rules with every use of the pe
 * module replaced by what it gives on an object not starting "MZ" (the
 * module then finds no PE header): `pe.is_pe` by 0, every other member
 * and the functions that check for a PE by an integer YARA cannot read
 * (`uint8(filesize)`, undefined), `P == "text"` and the like by an
 * undefined comparison, a constant by undefined where its other operand
 * already is; `import "pe"` blanked. Undefined stays undefined through
 * every operator (and `and`, `or`, `not`, `defined`, `at`, `in`, `of`
 * treat both the same), so each rule gives what it gave with the module
 * there, and a set without the module costs no pe set-up per object. A
 * replacement of the wrong type fails to compile: the caller then keeps
 * the original. Lines keep their numbers. 1 with the new text in *out
 * (malloc'd, NUL-terminated), 0 when pe is named in a way not replaced
 * or not at all, -1 on ENOMEM.
 */
int vg_yara_gate_unpe(const char *src, size_t len, char **out,
                      size_t *outlen);

/* 1 when the object's first two bytes are "MZ". */
int vg_yara_is_mz(const unsigned char *data, size_t size);

#endif
