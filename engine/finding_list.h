/*
 * finding_list.h - the names of the findings vigil makes about the scan
 * itself: one per vigil_limit that can be hit, then the ones no single
 * limit stands for. The one source of these names: the code reports
 * them through vg_finding_names (engine/vg.h), vigil_limit_name gives
 * them to front ends, and tests/doc_sync.sh checks that libvigil(3)
 * lists exactly these and that no other Limit.* or Unpack.* name is
 * spelled out anywhere in the sources.
 *
 * VG_LIMIT(limit, name): the finding a hit of VIGIL_LIMIT_<limit>
 * reports; NULL for a limit no finding names (a cache size, a
 * threshold of another limit). One line per vigil_limit, in its order.
 * VG_FINDING(id, name): other findings of stage "limit" or "unpack".
 */
VG_LIMIT(MAX_FILESIZE, "Limit.MaxFileSize")
VG_LIMIT(YARA_TIMEOUT_MS, "Limit.YaraTimeout")
VG_LIMIT(CACHE_ENTRIES, NULL)
VG_LIMIT(MAX_DEPTH, "Limit.MaxDepth")
VG_LIMIT(MAX_EXTRACTED, "Limit.MaxExtracted")
VG_LIMIT(MAX_MEMBERS, "Limit.MaxMembers")
VG_LIMIT(MAX_MEMBER_SIZE, "Limit.MaxMemberSize")
VG_LIMIT(MAX_RATIO, "Limit.MaxRatio")
VG_LIMIT(RATIO_MIN_SIZE, NULL)
VG_LIMIT(MAX_SCAN_MS, "Limit.ScanTime")
VG_LIMIT(MAX_WORKER_MEMORY, "Limit.Memory")
VG_FINDING(YARA_TOO_MANY_MATCHES, "Limit.YaraTooManyMatches")
VG_FINDING(TEMP_FILE, "Limit.TempFile")
VG_FINDING(CLAMAV, "Limit.ClamAV")
VG_FINDING(CRASH, "Limit.Crash")
VG_FINDING(ENCRYPTED, "Unpack.Encrypted")
VG_FINDING(DAMAGED, "Unpack.Damaged")
