/*
 * unpackd.c - vigil-unpackd, the unpacking worker libvigil starts (see
 * worker/worker.h). It is not meant to be run by hand: it talks to its
 * parent on descriptor 3.
 *
 * Built a second time for the tests only, with VG_WORKER_TEST_MODES, as
 * tests/vigil-unpackd-test: there a member named "vigil-test-abort",
 * "vigil-test-loop" or "vigil-test-alloc" makes the worker abort, spin
 * or allocate without end in the middle of a job. The installed helper
 * has no such code.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/allocator.h"
#include "worker/worker.h"

/* Under ASan, leak checking (which needs ptrace, forbidden by seccomp)
 * is off, and fatal signals reach the worker's own handlers. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0:handle_segv=0:handle_abort=0:handle_sigbus=0:"
	       "handle_sigfpe=0";
}

/*
 * Every allocation of the worker (libarchive's, libclamav's) passes
 * here on its way to glibc, so a failed one is seen even when the
 * library turns it into "bad data": the job then ends with
 * Limit.Memory, and the worker is replaced. ASan brings its own
 * allocator, and its own way of failing (see above).
 */
#if VG_ASAN
/*
 * ASan has its own allocator: a failed allocation is one of its
 * reports ("out of memory", "allocation-size-too-big", a failed mmap
 * with no report at all), after which it ends the process. The report
 * says which, and the caller hears it before the end.
 */
#include "worker/proto.h"
void __asan_set_error_report_callback(void (*cb)(const char *));
void __sanitizer_set_death_callback(void (*cb)(void));
void __sanitizer_print_stack_trace(void);
static volatile int asan_kind;

static void asan_report(const char *report)
{
	asan_kind = strstr(report, "out of memory") ||
	            strstr(report, "allocation-size-too-big") ||
	            strstr(report, "failed to allocate") ?
	            VG_DYING_MEMORY : VG_DYING_CRASH;
}

static void asan_death(void)
{
	/* no report: ASan failed to map memory and gave up */
	vg_confine_dying(asan_kind ? (unsigned)asan_kind : VG_DYING_MEMORY, 0);
}
#else
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);
	if (!p)
		vg_worker_alloc_failed = 1;
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p = __libc_calloc(n, size);
	if (!p && n && size)
		vg_worker_alloc_failed = 1;
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p = __libc_realloc(old, n);
	if (!p && n)
		vg_worker_alloc_failed = 1;
	return p;
}
#endif

#ifdef VG_WORKER_TEST_MODES
static void misbehave(const char *name)
{
	if (strcmp(name, "vigil-test-abort") == 0)
		abort();
	if (strcmp(name, "vigil-test-loop") == 0)
		for (volatile unsigned long i = 0;; i++)
			;
	if (strcmp(name, "vigil-test-alloc") == 0) {
		/* a parser that trusts a length and never checks malloc */
		for (;;) {
			char *p = malloc(1 << 20);
			memset(p, 0xa5, 1 << 20);
		}
	}
}
#endif

int main(void)
{
	struct stat st;

	/* only the socket from the caller; anything else inherited from
	 * an embedding process goes before a byte of input is read */
	if (fstat(VG_WORKER_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "vigil-unpackd: started by libvigil only\n");
		return 2;
	}
	close_range(VG_WORKER_FD + 1, ~0u, 0);
#ifdef VG_WORKER_TEST_MODES
	vg_worker_test_hook = misbehave;
#endif
#if VG_ASAN
	__asan_set_error_report_callback(asan_report);
	__sanitizer_set_death_callback(asan_death);
	/* ASan's symbolizer maps its tables on first use: a report made at
	 * the memory limit would fail to, and hang on its own lock */
	__sanitizer_print_stack_trace();
#endif
	return vg_worker_main();
}
