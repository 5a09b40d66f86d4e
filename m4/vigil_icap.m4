# VIGIL_CHECK_C_ICAP: the c-icap service module srv_vigil.so (icap/).
# --with-c-icap is on by default when libicapapi and c-icap-config are
# present; the module then also needs zlib, brotli and zstd to decode
# Content-Encoding before a scan. --with-c-icap=yes makes them required.
# The module goes to c-icap's ServicesDir when vigil is installed in
# c-icap's own prefix, else to $libdir/c_icap (so that make distcheck
# and --prefix installs stay inside the prefix); --with-c-icap-moduledir
# and --with-c-icap-templatedir choose other places.
AC_DEFUN([VIGIL_CHECK_C_ICAP], [
  AC_ARG_WITH([c-icap],
    [AS_HELP_STRING([--with-c-icap], [build srv_vigil.so, the c-icap service (default: when found)])],
    [], [with_c_icap=check])
  AC_ARG_WITH([c-icap-moduledir],
    [AS_HELP_STRING([--with-c-icap-moduledir=DIR], [where srv_vigil.so is installed])],
    [cicapmoduledir=$withval], [cicapmoduledir=])
  AC_ARG_WITH([c-icap-templatedir],
    [AS_HELP_STRING([--with-c-icap-templatedir=DIR], [c-icap's TemplateDir, for templates/vigil])],
    [cicaptemplatedir=$withval], [cicaptemplatedir=])
  have_c_icap=no
  AS_IF([test "$with_c_icap" != no], [
    AC_PATH_PROG([C_ICAP_CONFIG], [c-icap-config], [no])
    AS_IF([test "$C_ICAP_CONFIG" != no], [
      C_ICAP_CFLAGS=`$C_ICAP_CONFIG --cflags | tr ' ' '\n' | grep -E '^-(I|D)' | grep -vx -- '-I/usr/include' | tr '\n' ' '`
      vg_save_CPPFLAGS=$CPPFLAGS
      CPPFLAGS="$CPPFLAGS $C_ICAP_CFLAGS"
      AC_CHECK_HEADER([c_icap/c-icap.h], [
        AC_CHECK_LIB([icapapi], [ci_txt_template_build_content], [have_c_icap=yes])])
      CPPFLAGS=$vg_save_CPPFLAGS
    ])
    AS_IF([test "$have_c_icap" = yes], [
      PKG_CHECK_MODULES([ICAP_DECODERS], [zlib libbrotlidec libzstd], [],
        [have_c_icap=no
         AS_IF([test "$with_c_icap" = yes], [AC_MSG_ERROR([srv_vigil needs zlib, libbrotlidec and libzstd: $ICAP_DECODERS_PKG_ERRORS])])])
    ])
    AS_IF([test "$with_c_icap" = yes && test "$have_c_icap" != yes],
      [AC_MSG_ERROR([--with-c-icap: libicapapi (libicapapi-dev) not found])])
  ])
  AS_IF([test "$have_c_icap" = yes], [
    C_ICAP_LIBS=-licapapi
    vg_icap_prefix=`$C_ICAP_CONFIG --prefix`
    AS_IF([test -z "$cicapmoduledir"], [
      AS_IF([test "x$prefix" = "x$vg_icap_prefix"],
        [cicapmoduledir=`$C_ICAP_CONFIG --modulesdir`],
        [cicapmoduledir='${libdir}/c_icap'])])
    AS_IF([test -z "$cicaptemplatedir"], [
      AS_IF([test "x$prefix" = "x$vg_icap_prefix"],
        [cicaptemplatedir=`$C_ICAP_CONFIG --datarootdir`/templates],
        [cicaptemplatedir='${datadir}/c_icap/templates'])])
  ])
  AC_MSG_CHECKING([whether to build srv_vigil.so for c-icap])
  AC_MSG_RESULT([$have_c_icap])
  AC_SUBST([C_ICAP_CFLAGS])
  AC_SUBST([C_ICAP_LIBS])
  AC_SUBST([cicapmoduledir])
  AC_SUBST([cicaptemplatedir])
  AM_CONDITIONAL([HAVE_C_ICAP], [test "$have_c_icap" = yes])
])
