# VIGIL_CHECK_DEPS: the libraries libvigil and its tools need, through
# pkg-config. Each is required: vigil without one of them would scan less
# and say nothing about it.
AC_DEFUN([VIGIL_CHECK_DEPS], [
  PKG_CHECK_MODULES([YARA], [yara >= 4.1])
  PKG_CHECK_MODULES([CLAMAV], [libclamav >= 0.103])
  PKG_CHECK_MODULES([ARCHIVE], [libarchive >= 3.4])
  PKG_CHECK_MODULES([PCRE2], [libpcre2-8 >= 10.34])
  PKG_CHECK_MODULES([XXHASH], [libxxhash >= 0.8])
  PKG_CHECK_MODULES([CRYPTO], [libcrypto >= 1.1.1])
  PKG_CHECK_MODULES([JANSSON], [jansson >= 2.12])
  # the cloud stage's HTTP client (libvigil), vigil-cloudd, vigil update
  PKG_CHECK_MODULES([CURL], [libcurl >= 7.68])
  PKG_CHECK_MODULES([MICROHTTPD], [libmicrohttpd >= 0.9.70])
  PKG_CHECK_MODULES([SQLITE], [sqlite3 >= 3.31])
  PKG_CHECK_MODULES([HIREDIS], [hiredis >= 0.14])
  # vigild: sd_notify (READY, RELOADING, WATCHDOG) under systemd
  PKG_CHECK_MODULES([SYSTEMD], [libsystemd >= 247])
  # the quarantine vault (secretstream, base64) and bundle signatures
  # (Ed25519, BLAKE2b)
  PKG_CHECK_MODULES([SODIUM], [libsodium >= 1.0.18])
  # the unpacking workers' system-call filter (worker/confine.c)
  PKG_CHECK_MODULES([SECCOMP], [libseccomp >= 2.4])
  PKG_CHECK_MODULES([CHECK], [check >= 0.13], [have_check=yes], [have_check=no])
  AM_CONDITIONAL([HAVE_CHECK], [test "$have_check" = yes])
  # Libraries libvigil links, kept private in vigil.pc.
  VIGIL_PC_REQUIRES_PRIVATE="yara libclamav libarchive libpcre2-8 libxxhash libcrypto libcurl jansson libsodium libseccomp"
  AC_SUBST([VIGIL_PC_REQUIRES_PRIVATE])
  # The trust store of bundle signing keys engines use by default.
  AC_ARG_WITH([trust-dir],
    [AS_HELP_STRING([--with-trust-dir=DIR],
      [public keys trusted to sign bundles @<:@SYSCONFDIR/vigil/trusted-keys@:>@])],
    [VIGIL_TRUST_DIR=$withval],
    [VIGIL_TRUST_DIR='${sysconfdir}/vigil/trusted-keys'])
  AC_SUBST([VIGIL_TRUST_DIR])
])
