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

/* 1 when the object's first two bytes are "MZ". */
int vg_yara_is_mz(const unsigned char *data, size_t size);

#endif
