/*
 * error.c - messages for error codes and verdict names.
 */
#include "config.h"

#include <errno.h>

#include "engine/vg.h"

/* Kept in step with vigil_error and doc/vigil-errors.md by a test. */
static const char *const messages[VIGIL_ERROR_COUNT] = {
	[VIGIL_OK] = "no error",
	[VIGIL_ENOMEM] = "out of memory",
	[VIGIL_EINVAL] = "invalid argument",
	[VIGIL_EIO] = "input/output error",
	[VIGIL_ENOENT] = "no such file or directory",
	[VIGIL_EACCES] = "permission denied",
	[VIGIL_EDATABASE] = "malformed signature database",
	[VIGIL_EFORMAT] = "unknown signature file type",
	[VIGIL_EFROZEN] = "engine is frozen",
	[VIGIL_ENOTFROZEN] = "engine is not frozen",
	[VIGIL_EYARA] = "YARA error",
	[VIGIL_ECLAMAV] = "libclamav error",
	[VIGIL_ETOOLARGE] = "file too large",
	[VIGIL_ENOTREG] = "not a regular file",
	[VIGIL_EMODEL] = "malformed or mismatched model",
	[VIGIL_EINTERNAL] = "internal error",
	[VIGIL_ECHANGED] = "file changed since it was scanned",
	[VIGIL_EUNSAFE] = "unsafe path: outside the scan roots or through a symbolic link",
	[VIGIL_EVAULT] = "quarantine vault unusable or item damaged",
	[VIGIL_EFULL] = "quarantine vault full",
	[VIGIL_EEXIST] = "file exists",
	[VIGIL_ENODETECTION] = "nothing detected to act on",
	[VIGIL_ESIGNATURE] = "bundle signature missing, bad or not trusted",
	[VIGIL_EROLLBACK] = "bundle older than the version in use",
	[VIGIL_EWORKER] = "cannot start an unpacking worker",
};

const char *vigil_strerror(vigil_error err)
{
	if ((unsigned)err >= VIGIL_ERROR_COUNT || !messages[err])
		return "unknown error";
	return messages[err];
}

const char *vigil_verdict_name(vigil_verdict v)
{
	switch (v) {
	case VIGIL_CLEAN: return "CLEAN";
	case VIGIL_INCOMPLETE: return "INCOMPLETE";
	case VIGIL_SUSPICIOUS: return "SUSPICIOUS";
	case VIGIL_MALICIOUS: return "MALICIOUS";
	}
	return "UNKNOWN";
}

vigil_error vg_error_from_errno(int err)
{
	switch (err) {
	case ENOENT: case ENOTDIR: return VIGIL_ENOENT;
	case EACCES: case EPERM: return VIGIL_EACCES;
	case ENOMEM: return VIGIL_ENOMEM;
	default: return VIGIL_EIO;
	}
}
