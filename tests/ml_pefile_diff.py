#!/usr/bin/python3
"""ml_pefile_diff.py - differential test of vigil's PE feature extractor
against pefile (Debian's python3-pefile) on real PE files.

For every PE file fetched from the Debian packages of the ML manifest
(tests/ml_fetch_debian_pe.sh), every header field vigil extracts must
equal pefile's, and so must the section, import, export and resource
counts and the entropies computed from pefile's section data (sampled
as vigil samples large ranges, see entropy() below).

usage: ml_pefile_diff.py [--all] [EXTRACTOR [CACHE_DIR]]
Under `make check` (automake sets top_builddir) the defaults are the
build tree's ml/ml_extract and its tests/ml-debian-pe cache (or
$VIGIL_PE_CACHE); the fetch runs first. Exit 0: all equal; 1: a mismatch; 77: skipped (no files).
"""
import csv
import math
import os
import subprocess
import sys

import pefile

# Header features and how pefile names them (same names).
DOS = ["e_magic", "e_cblp", "e_cp", "e_crlc", "e_cparhdr", "e_minalloc",
       "e_maxalloc", "e_ss", "e_sp", "e_csum", "e_ip", "e_cs", "e_lfarlc",
       "e_ovno", "e_oemid", "e_oeminfo", "e_lfanew"]
COFF = ["Machine", "NumberOfSections", "TimeDateStamp",
        "PointerToSymbolTable", "NumberOfSymbols", "SizeOfOptionalHeader",
        "Characteristics"]
OPT = ["Magic", "MajorLinkerVersion", "MinorLinkerVersion", "SizeOfCode",
       "SizeOfInitializedData", "SizeOfUninitializedData",
       "AddressOfEntryPoint", "BaseOfCode", "BaseOfData", "ImageBase",
       "SectionAlignment", "FileAlignment", "MajorOperatingSystemVersion",
       "MinorOperatingSystemVersion", "MajorImageVersion",
       "MinorImageVersion", "MajorSubsystemVersion", "MinorSubsystemVersion",
       "SizeOfImage", "SizeOfHeaders", "CheckSum", "Subsystem",
       "DllCharacteristics", "SizeOfStackReserve", "SizeOfStackCommit",
       "SizeOfHeapReserve", "SizeOfHeapCommit", "LoaderFlags",
       "NumberOfRvaAndSizes"]
# Counts read from the data directories. pefile's import and resource
# readers apply heuristics to malformed tables (they drop a whole import
# table they judge bogus); vigil counts what it can read. They must
# agree on well-formed files; the ClamAV test files in the manifest are
# packed on purpose (upack, mew ...) and are compared on the headers and
# sections only.
TABLES = {"ImportsNbDLL", "ImportsNb", "ImportsNbOrdinal", "ExportNb",
          "ResourcesNb"}
USUAL = {b".text", b".data", b".rdata", b".idata", b".edata", b".rsrc",
         b".bss", b".crt", b".tls"}


# vg_entropy_sampled (ml/pe.h): exact up to CHUNKS * CHUNK bytes, else
# CHUNKS chunks spread evenly, Miller-Madow corrected, capped at 8.
CHUNKS, CHUNK = 512, 32


def entropy_exact(data):
    if not data:
        return 0.0
    counts = [0] * 256
    for b in data:
        counts[b] += 1
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in counts if c)


def entropy(data):
    n = len(data)
    if n <= CHUNKS * CHUNK:
        return entropy_exact(data)
    span = n - CHUNK
    sample = b"".join(data[span * k // (CHUNKS - 1):span * k // (CHUNKS - 1) + CHUNK]
                      for k in range(CHUNKS))
    used = len(set(sample))
    h = entropy_exact(sample) + (used - 1) / (2.0 * len(sample) * math.log(2))
    return min(h, 8.0)


def f32(v):
    """vigil keeps features as float32, as xgboost does."""
    import struct
    return struct.unpack("f", struct.pack("f", float(v)))[0]


def reference(path):
    """The features pefile gives for one file: name -> value (None when
    the field is absent, as BaseOfData in PE32+)."""
    pe = pefile.PE(path, fast_load=True)
    pe.parse_data_directories(directories=[
        pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"],
        pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_EXPORT"],
        pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
    ref = {}
    for name in DOS:
        ref[name] = getattr(pe.DOS_HEADER, name)
    for name in COFF:
        ref[name] = getattr(pe.FILE_HEADER, name)
    for name in OPT:
        ref[name] = getattr(pe.OPTIONAL_HEADER, name, None)
    ref["CreationYear"] = 1970 + pe.FILE_HEADER.TimeDateStamp // 86400 // 365
    # Sections in file order (pefile sorts them by address: undo that).
    secs = sorted(pe.sections, key=lambda s: s.get_file_offset())
    names = [s.Name.split(b"\0")[0] for s in secs]
    ref["SectionsNb"] = len(secs)
    ref["non_sus_sections"] = len(set(names) & USUAL)
    ref["sus_sections"] = pe.FILE_HEADER.NumberOfSections - ref["non_sus_sections"]
    ent = [entropy(s.get_data()) for s in secs]
    for key, want in (("E_text", b".text"), ("E_data", b".data")):
        ref[key] = next((e for n, e in zip(names, ent) if n == want), 0.0)
    if secs:
        ref["SectionsMeanEntropy"] = sum(ent) / len(ent)
        ref["SectionsMinEntropy"] = min(ent)
        ref["SectionsMaxEntropy"] = max(ent)
        ref["SectionMaxRawsize"] = max(s.SizeOfRawData for s in secs)
        ref["SectionMaxVirtualsize"] = max(s.Misc_VirtualSize for s in secs)
    imports = getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])
    ref["ImportsNbDLL"] = len(imports)
    ref["ImportsNb"] = sum(len(d.imports) for d in imports)
    ref["ImportsNbOrdinal"] = sum(1 for d in imports for i in d.imports
                                  if i.import_by_ordinal)
    exp = getattr(pe, "DIRECTORY_ENTRY_EXPORT", None)
    ref["ExportNb"] = exp.struct.NumberOfFunctions if exp else 0
    leaves = 0
    stack = [getattr(pe, "DIRECTORY_ENTRY_RESOURCE", None)]
    while stack:
        d = stack.pop()
        if d is None:
            continue
        for e in d.entries:
            if hasattr(e, "directory"):
                stack.append(e.directory)
            elif hasattr(e, "data"):
                leaves += 1
    ref["ResourcesNb"] = leaves
    data = pe.__data__
    ref["filesize"] = len(data)
    ref["E_file"] = entropy(bytes(data)) if pe.sections else None
    return ref


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    top_builddir = os.environ.get("top_builddir")
    here = os.path.dirname(os.path.abspath(__file__))
    extractor = args[0] if args else os.path.join(top_builddir or ".", "ml", "ml_extract")
    # VIGIL_PE_CACHE: one download for several builds (tests/run_all.sh)
    cache = args[1] if len(args) > 1 else os.environ.get("VIGIL_PE_CACHE") or \
        os.path.join(top_builddir or ".", "tests", "ml-debian-pe")
    if not os.path.exists(os.path.join(cache, "files.csv")) or top_builddir:
        rc = subprocess.call(["sh", os.path.join(here, "ml_fetch_debian_pe.sh")]
                             + (["--all"] if "--all" in sys.argv else [])
                             + [cache])
        if rc != 0:
            print("SKIP: no Debian PE files (fetch exited %d)" % rc)
            return 77
    files = [r for r in csv.DictReader(open(os.path.join(cache, "files.csv")))]
    if not files:
        return 77
    out = subprocess.run([extractor, "-"], input="\n".join(r["local_file"] for r in files),
                         capture_output=True, text=True, check=True).stdout
    rows = {r["path"]: r for r in csv.DictReader(out.splitlines())}
    checked = failed = 0
    mismatches = {}
    for r in files:
        path = r["local_file"]
        got = rows.get(path)
        ref = reference(path)
        if got is None:
            print("FAIL %s: vigil did not extract it" % path)
            failed += 1
            continue
        packed = r["package"] == "clamav-testfiles"
        for name, want in ref.items():
            if packed and name in TABLES:
                continue
            g = got[name]
            if want is None:
                ok = g == ""
            elif isinstance(want, float) and name.startswith(("E_", "Sections")):
                ok = g != "" and abs(float(g) - want) <= 1e-5 * max(1.0, abs(want))
            else:
                ok = g != "" and float(g) == float(want)
            checked += 1
            if not ok:
                mismatches.setdefault(name, []).append((path, g, want))
        if any(path == m[0] for v in mismatches.values() for m in v):
            failed += 1
    for name, bad in sorted(mismatches.items()):
        print("MISMATCH %s in %d files, e.g. %s: vigil %r, pefile %r" %
              (name, len(bad), *bad[0]))
    print("ml_pefile_diff: %d files, %d fields compared, %d files differ"
          % (len(files), checked, failed))
    print("%d passed, %d failed" % (len(files) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
