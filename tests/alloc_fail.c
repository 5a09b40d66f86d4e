/*
 * alloc_fail.c - a test-only allocator hook in the spirit of curl's
 * torture mode: the test program defines malloc and its kin, so every
 * allocation of the process (libvigil linked statically, and the shared
 * libyara, libclamav, libarchive, libc) comes through here. Armed with
 * N, the Nth allocation from then on returns NULL (once); the others go
 * on to the next allocator (libc's, or ASan's in a sanitizer build).
 *
 * Only allocations made by code that handles their failure count and
 * fail: vigil's own (linked into the test program), libarchive's and
 * libyara's, each told apart by the caller's address. libclamav's do
 * not: its Rust parts abort the process on a failed allocation, by
 * design, which no caller can handle.
 *
 * Only the test programs that want it link this file.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/alloc_fail.h"

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);

/* dlsym may itself call calloc before the real one is known: serve it
 * from here (never freed, never reused). */
static _Alignas(max_align_t) unsigned char boot[4096];
static size_t boot_used;
static int resolving;

static __thread long countdown;   /* 0: disarmed */
static __thread long counted;     /* allocations while counting */
static __thread int failed_one;
static __thread int counting;

/* Address ranges of the code whose allocations may fail. */
static struct range { uintptr_t lo, hi; } ranges[32];
static int nranges = -1;

static int eligible_object(const char *name)
{
	return !*name ||
	       strstr(name, "/libyara.so");
}

static int add_ranges(struct dl_phdr_info *info, size_t size, void *ud)
{
	(void)size;
	(void)ud;
	if (!eligible_object(info->dlpi_name ? info->dlpi_name : ""))
		return 0;
	for (int i = 0; i < info->dlpi_phnum && nranges < 32; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		ranges[nranges].lo = info->dlpi_addr + ph->p_vaddr;
		ranges[nranges].hi = ranges[nranges].lo + ph->p_memsz;
		nranges++;
	}
	return 0;
}

static int eligible(const void *caller)
{
	uintptr_t a = (uintptr_t)caller;

	for (int i = 0; i < nranges; i++)
		if (a >= ranges[i].lo && a < ranges[i].hi)
			return 1;
	return 0;
}

static void *boot_alloc(size_t n)
{
	size_t at = (boot_used + 15) & ~(size_t)15;

	if (at + n > sizeof boot)
		return NULL;
	boot_used = at + n;
	return boot + at;
}

static int is_boot(const void *p)
{
	return (const unsigned char *)p >= boot &&
	       (const unsigned char *)p < boot + sizeof boot;
}

static void resolve(void)
{
	if (next_malloc || resolving)
		return;
	resolving = 1;
	next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	next_posix_memalign = (int (*)(void **, size_t, size_t))
		dlsym(RTLD_NEXT, "posix_memalign");
	next_aligned_alloc = (void *(*)(size_t, size_t))
		dlsym(RTLD_NEXT, "aligned_alloc");
	next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	resolving = 0;
}

/* 1 when this allocation, made from caller, is the one to fail. */
static int fail_now(const void *caller)
{
	if ((!counting && countdown <= 0) || !eligible(caller))
		return 0;
	if (counting)
		counted++;
	if (countdown <= 0)
		return 0;
	if (--countdown > 0)
		return 0;
	failed_one = 1;
	errno = ENOMEM;
	return 1;
}

static void find_ranges(void)
{
	if (nranges < 0) {
		nranges = 0;
		dl_iterate_phdr(add_ranges, NULL);
	}
}

void vg_alloc_fail_arm(long n)
{
	find_ranges();
	countdown = n;
	failed_one = 0;
}

int vg_alloc_fail_disarm(void)
{
	int was = failed_one;

	countdown = 0;
	failed_one = 0;
	return was;
}

void vg_alloc_count_start(void)
{
	find_ranges();
	counted = 0;
	counting = 1;
}

long vg_alloc_count_stop(void)
{
	counting = 0;
	return counted;
}

void *malloc(size_t n)
{
	resolve();
	if (!next_malloc)
		return boot_alloc(n);
	return fail_now(__builtin_return_address(0)) ? NULL : next_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	resolve();
	if (!next_calloc) {
		void *p;
		if (size && n > SIZE_MAX / size)
			return NULL;
		if ((p = boot_alloc(n * size)))
			memset(p, 0, n * size);
		return p;
	}
	return fail_now(__builtin_return_address(0)) ? NULL : next_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	resolve();
	if (is_boot(p)) {
		void *q = malloc(n);
		if (q)
			memcpy(q, p, n < sizeof boot ? n : sizeof boot);
		return q;
	}
	/* realloc(p, 0) frees: not an allocation that can fail */
	if (p && n == 0)
		return next_realloc(p, n);
	return fail_now(__builtin_return_address(0)) ? NULL : next_realloc(p, n);
}

void free(void *p)
{
	if (!p || is_boot(p))
		return;
	resolve();
	next_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	resolve();
	if (fail_now(__builtin_return_address(0)))
		return ENOMEM;
	return next_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	resolve();
	return fail_now(__builtin_return_address(0)) ? NULL : next_aligned_alloc(align, n);
}

/* libc's own would call malloc from libc: judge by their caller */
char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	resolve();
	if (fail_now(__builtin_return_address(0)) || !(p = next_malloc(n)))
		return NULL;
	return memcpy(p, s, n);
}

char *strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *p;

	resolve();
	if (fail_now(__builtin_return_address(0)) || !(p = next_malloc(n + 1)))
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
