/*
 * crash_shim.c - test only (LD_PRELOAD into vigild), never installed.
 * It wraps vigil_scan_fd as a library misbehaving on a hostile file
 * would: abort() when the object holds VIGIL-TEST-CRASH-MARKER, a
 * 3-second stall when it holds VIGIL-TEST-HANG-MARKER. It also wraps
 * readlink so that resolving a path holding VIGIL-TEST-STALL sleeps for
 * a minute: a stall of vigild's on-access event loop, for its watchdog.
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
		if (memmem(buf, (size_t)n, "VIGIL-TEST-HANG-MARKER", 22))
			sleep(3);
	}
	if (!real)
		real = (vigil_error (*)(vigil_scanner *, int, const char *,
		                        vigil_result **))dlsym(RTLD_NEXT, "vigil_scan_fd");
	return real(scanner, fd, name, out);
}

ssize_t readlink(const char *restrict path, char *restrict buf, size_t len)
{
	static ssize_t (*real)(const char *restrict, char *restrict, size_t);
	ssize_t n;

	if (!real)
		real = (ssize_t (*)(const char *restrict, char *restrict, size_t))
		       dlsym(RTLD_NEXT, "readlink");
	n = real(path, buf, len);
	if (n > 0 && memmem(buf, (size_t)n, "VIGIL-TEST-STALL", 16))
		sleep(60);
	return n;
}
