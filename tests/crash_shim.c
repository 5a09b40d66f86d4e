/*
 * crash_shim.c - test only (LD_PRELOAD into vigild): wraps vigil_scan_fd
 * and calls abort() when the object holds the marker
 * VIGIL-TEST-CRASH-MARKER, as a library crashing on a hostile file
 * would. Never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/vigil.h"

vigil_error vigil_scan_fd(vigil_scanner *scanner, int fd, const char *name,
                          vigil_result **out)
{
	static vigil_error (*real)(vigil_scanner *, int, const char *,
	                           vigil_result **);
	char buf[65536];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);

	if (n > 0) {
		buf[n] = 0;
		if (memmem(buf, (size_t)n, "VIGIL-TEST-CRASH-MARKER", 23))
			abort();
	}
	if (!real)
		real = (vigil_error (*)(vigil_scanner *, int, const char *,
		                        vigil_result **))dlsym(RTLD_NEXT, "vigil_scan_fd");
	return real(scanner, fd, name, out);
}
