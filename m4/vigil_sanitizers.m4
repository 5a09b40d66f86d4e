# VIGIL_ARG_SANITIZERS: --enable-sanitizers builds everything with ASan
# and UBSan, stopping at the first report.
AC_DEFUN([VIGIL_ARG_SANITIZERS], [
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers], [build with AddressSanitizer and UndefinedBehaviorSanitizer])],
    [], [enable_sanitizers=no])
  AS_IF([test "$enable_sanitizers" = yes], [
    SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    CFLAGS="$CFLAGS $SAN_FLAGS -g -O1"
    LDFLAGS="$LDFLAGS $SAN_FLAGS"
  ])
])
