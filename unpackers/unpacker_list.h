/*
 * unpacker_list.h - the unpackers, in bidding order. One line adds an
 * unpacker: it names a `const vg_unpacker vg_unpacker_<id>` defined in
 * unpackers/<id>.c. The highest bid wins and ties go to the earlier
 * line, so cheap and exact readers come first (libarchive's order).
 */
VG_UNPACKER(archive)
VG_UNPACKER(clamav)
