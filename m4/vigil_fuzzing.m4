# VIGIL_ARG_FUZZING: --enable-fuzzing builds the libFuzzer targets in
# fuzz/ (needs clang). Without it, make check still replays each target's
# seed corpus through a plain driver (fuzz/replay_main.c).
AC_DEFUN([VIGIL_ARG_FUZZING], [
  AC_ARG_ENABLE([fuzzing],
    [AS_HELP_STRING([--enable-fuzzing], [build libFuzzer targets (CC=clang)])],
    [], [enable_fuzzing=no])
  AM_CONDITIONAL([FUZZING], [test "$enable_fuzzing" = yes])
  AS_IF([test "$enable_fuzzing" = yes], [
    FUZZ_FLAGS="-fsanitize=fuzzer"
    CFLAGS="$CFLAGS -fsanitize=fuzzer-no-link,address,undefined -g -O1"
    LDFLAGS="$LDFLAGS -fsanitize=address,undefined"
  ])
  AC_SUBST([FUZZ_FLAGS])
])
