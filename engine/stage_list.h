/*
 * stage_list.h - the stages, in pipeline order. One line adds a stage:
 * it names a `const vg_stage vg_stage_<id>` defined in the stage's file.
 * Allowlist and hash sets come first because they are cheapest and an
 * allowlisted object needs nothing else.
 */
VG_STAGE(hash)
VG_STAGE(yara)
VG_STAGE(clamav)
VG_STAGE(ml)
VG_STAGE(cloud)
