/*
 * alloc_fail.h - fail the Nth allocation (tests only; see alloc_fail.c).
 * State is per thread: only the thread that armed the hook sees failures.
 */
#ifndef VIGIL_TESTS_ALLOC_FAIL_H
#define VIGIL_TESTS_ALLOC_FAIL_H

/* The nth allocation from now on fails (n >= 1), once. */
void vg_alloc_fail_arm(long n);
/* Disarms; 1 when an allocation was failed since vg_alloc_fail_arm. */
int vg_alloc_fail_disarm(void);
/* Counts the allocations between start and stop. */
void vg_alloc_count_start(void);
long vg_alloc_count_stop(void);

#endif /* VIGIL_TESTS_ALLOC_FAIL_H */
