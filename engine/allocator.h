/*
 * allocator.h - what vigil knows of the allocator it runs on. VG_ASAN is
 * 1 in a build under AddressSanitizer (gcc's and clang's ways of saying
 * so), whose allocator replaces glibc's: code that talks to glibc's heap
 * directly must know.
 */
#ifndef VIGIL_ALLOCATOR_H
#define VIGIL_ALLOCATOR_H

#include "config.h"

#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define VG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VG_ASAN 1
#endif
#endif
#ifndef VG_ASAN
#define VG_ASAN 0
#endif

/*
 * Hands freed heap back to the system (compiling rules and sorting hash
 * sets leave megabytes of it). Not under ASan: there glibc's heap is
 * unused, malloc_trim would be the first call into it, and two threads
 * making that call at once race in glibc's set-up and abort at exit.
 */
static inline void vg_heap_trim(void)
{
#if defined(HAVE_MALLOC_TRIM) && !VG_ASAN
	malloc_trim(0);
#endif
}

#endif
