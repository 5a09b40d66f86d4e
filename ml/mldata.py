"""mldata.py - the training data of vigil's ML stage, loaded and split
the same way by ml/train.py and ml/evaluate.py.

Sources (all read from the shared data folder, never copied):
  - ClaMP: ClaMP_Raw-5184.csv joined to ClaMP_Integrated-5184.csv. The two
    files describe the same programs (5,171 of 5,184 rows match on 27 raw
    header columns), so a Raw row takes from its Integrated twin the
    columns Raw lacks: E_text, E_data, filesize, E_file, fileinfo,
    sus_sections, non_sus_sections.
  - Kaggle PE headers (dataset_malwares.csv): 50 raw header columns.
  - Debian: real benign PE files from the packages of the manifest, with
    features computed by vigil's own extractor (ml/ml_extract).

Rows are deduplicated; split groups are built so that no row shared by
two datasets lands on both sides of a split; Debian files are split by
package.
"""
import csv
import hashlib
import math
import os
import subprocess
import tempfile

import numpy as np

SEED = 1234
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


def shared_dir():
    return os.environ.get("VIGIL_SHARED") or os.path.join(TOP, "..", "shared")


def data_dir():
    return os.path.join(shared_dir(), "data", "ml")


# ---------------------------------------------------------------------
# The extractor and its feature list
# ---------------------------------------------------------------------

def build_extractor(out_dir):
    """Compiles ml/ml_extract from the sources with cc (no build tree
    needed: pe.c and features.c depend on engine/bytes.h only)."""
    exe = os.path.join(out_dir, "ml_extract")
    srcs = [os.path.join(HERE, f) for f in ("ml_extract.c", "features.c", "pe.c")]
    if os.path.exists(exe) and all(os.path.getmtime(s) <= os.path.getmtime(exe) for s in srcs):
        return exe
    subprocess.run(["cc", "-std=gnu11", "-O2", "-I", TOP, "-I", os.path.join(TOP, "include"),
                    "-o", exe] + srcs + ["-lm"], check=True)
    return exe


def feature_names(extractor):
    out = subprocess.run([extractor], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0].split(",")[1:]


def feature_hash(names):
    """FNV-1a 64 of the names, each followed by a newline (features.c)."""
    h = 0xcbf29ce484222325
    for n in names:
        for b in (n + "\n").encode():
            h ^= b
            h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


# Features the model may use. The others are computed by vigil for the
# explanation and for researchers, but no labelled malware row has them
# (only the benign Debian files would), so a model trained on them would
# learn "has an import count" = benign.
RAW_HEADER = [
    "e_magic", "e_cblp", "e_cp", "e_crlc", "e_cparhdr", "e_minalloc", "e_maxalloc",
    "e_ss", "e_sp", "e_csum", "e_ip", "e_cs", "e_lfarlc", "e_ovno", "e_oemid",
    "e_oeminfo", "e_lfanew", "Machine", "NumberOfSections", "CreationYear",
    "PointerToSymbolTable", "NumberOfSymbols", "SizeOfOptionalHeader",
    "Characteristics", "Magic", "MajorLinkerVersion", "MinorLinkerVersion",
    "SizeOfCode", "SizeOfInitializedData", "SizeOfUninitializedData",
    "AddressOfEntryPoint", "BaseOfCode", "BaseOfData", "ImageBase",
    "SectionAlignment", "FileAlignment", "MajorOperatingSystemVersion",
    "MinorOperatingSystemVersion", "MajorImageVersion", "MinorImageVersion",
    "MajorSubsystemVersion", "MinorSubsystemVersion", "SizeOfImage",
    "SizeOfHeaders", "CheckSum", "Subsystem", "DllCharacteristics",
    "SizeOfStackReserve", "SizeOfStackCommit", "SizeOfHeapReserve",
    "SizeOfHeapCommit", "LoaderFlags", "NumberOfRvaAndSizes"]
FLAGS = (["FH_char%d" % i for i in range(15)] + ["OH_DLLchar%d" % i for i in range(11)]
         + ["CreationYear_ok", "ImageBase_std", "SectionAlignment_ok",
            "FileAlignment_ok", "SizeOfImage_ok", "SizeOfHeaders_ok", "LoaderFlags_zero"])
# Columns left out of the model (see "what was tried" in REPORT.md:
# ml/transfer.py measures what leaving them out does to cross-dataset
# transfer).
DROPPED = []

# Ratios of raw header fields (features.c derive_ratios), computed for
# every dataset from its raw columns.
RATIOS = ["EntryInCode", "EntryRatio", "CodeRatio", "InitDataRatio",
          "UninitDataRatio", "DeclaredRatio"]
CLAMP_EXTRAS = ["E_text", "E_data", "filesize", "E_file", "fileinfo",
                "sus_sections", "non_sus_sections"]

FH_BITS = [0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x80, 0x100, 0x200, 0x400, 0x800,
           0x1000, 0x2000, 0x4000, 0x8000]
DLL_BITS = [0x40, 0x80, 0x100, 0x200, 0x400, 0x800, 0x2000, 0x8000, 0x20, 0x1000, 0x4000]


def derive(X, names):
    """The flag features from raw header columns where the flag is
    missing and its inputs are present: the same rules as vg_ml_derive
    in features.c (the exactness test checks they agree)."""
    col = {n: i for i, n in enumerate(names)}
    g = lambda n: X[:, col[n]]

    def fill(name, value, present):
        c = X[:, col[name]]
        m = np.isnan(c) & present
        c[m] = value[m].astype(np.float64)

    with np.errstate(invalid="ignore", divide="ignore"):
        ch = g("Characteristics")
        ok = ~np.isnan(ch)
        chi = np.where(ok, ch, 0).astype(np.int64)
        for i, b in enumerate(FH_BITS):
            fill("FH_char%d" % i, (chi & b) != 0, ok)
        dl = g("DllCharacteristics")
        ok = ~np.isnan(dl)
        dli = np.where(ok, dl, 0).astype(np.int64)
        for i, b in enumerate(DLL_BITS):
            fill("OH_DLLchar%d" % i, (dli & b) != 0, ok)
        cy = g("CreationYear")
        fill("CreationYear_ok", (cy >= 1980) & (cy <= 2015), ~np.isnan(cy))
        ib = g("ImageBase")
        fill("ImageBase_std", (ib == 0x10000000) | (ib == 0x10000) | (ib == 0x400000), ~np.isnan(ib))
        sa, fa = g("SectionAlignment"), g("FileAlignment")
        both = ~np.isnan(sa) & ~np.isnan(fa)
        fill("SectionAlignment_ok", sa >= fa, both)
        fill("FileAlignment_ok", ((sa >= 512) & (np.fmod(fa, 2) == 0) & (fa >= 512) & (fa <= 65536))
             | ((sa < 512) & (fa == sa)), both)
        si = g("SizeOfImage")
        fill("SizeOfImage_ok", (sa > 0) & (np.fmod(si, np.where(sa > 0, sa, 1)) == 0),
             both & ~np.isnan(si))
        sh = g("SizeOfHeaders")
        fill("SizeOfHeaders_ok", (fa > 0) & (np.fmod(sh, np.where(fa > 0, fa, 1)) == 0),
             both & ~np.isnan(sh))
        lf = g("LoaderFlags")
        fill("LoaderFlags_zero", lf == 0, ~np.isnan(lf))
        # ratios: same arithmetic as features.c, in float64
        aep, boc, soc = g("AddressOfEntryPoint"), g("BaseOfCode"), g("SizeOfCode")
        fill("EntryInCode", (aep >= boc) & (aep < boc + soc),
             ~np.isnan(aep) & ~np.isnan(boc) & ~np.isnan(soc))
        img = g("SizeOfImage")
        ok = img > 0
        den = np.where(ok, img, 1.0)
        ini, uni = g("SizeOfInitializedData"), g("SizeOfUninitializedData")
        for name, num in (("EntryRatio", aep), ("CodeRatio", soc), ("InitDataRatio", ini),
                          ("UninitDataRatio", uni), ("DeclaredRatio", soc + ini + uni)):
            fill(name, num / den, ok & ~np.isnan(num))
    return X


# ---------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------

def _num(v):
    v = v.strip()
    if v == "":
        return math.nan
    try:
        return float(v)
    except ValueError:
        return math.nan


def _read_csv(path):
    with open(path, newline="") as fp:
        rows = [r for r in csv.DictReader(fp) if any(v.strip() for v in r.values() if v)]
    return rows


def _matrix(rows, names, mapping):
    """rows of dicts -> float64 matrix in extractor feature order;
    mapping: feature name -> CSV column."""
    X = np.full((len(rows), len(names)), np.nan)
    for j, n in enumerate(names):
        c = mapping.get(n)
        if c is None:
            continue
        X[:, j] = [_num(r.get(c, "")) for r in rows]
    return X


CLAMP_JOIN_KEYS = [
    "e_cblp", "e_cp", "e_cparhdr", "e_maxalloc", "e_sp", "e_lfanew", "NumberOfSections",
    "MajorLinkerVersion", "MinorLinkerVersion", "SizeOfCode", "SizeOfInitializedData",
    "SizeOfUninitializedData", "AddressOfEntryPoint", "BaseOfCode", "BaseOfData",
    "MajorOperatingSystemVersion", "MinorOperatingSystemVersion", "MajorImageVersion",
    "MinorImageVersion", "MajorSubsystemVersion", "MinorSubsystemVersion", "CheckSum",
    "Subsystem", "SizeOfStackReserve", "SizeOfStackCommit", "SizeOfHeapReserve",
    "SizeOfHeapCommit", "class"]


def load_clamp(names):
    d = os.path.join(data_dir(), "clamp")
    raw = _read_csv(os.path.join(d, "ClaMP_Raw-5184.csv"))
    integ = _read_csv(os.path.join(d, "ClaMP_Integrated-5184.csv"))
    key = lambda r: tuple(_num(r[c]) for c in CLAMP_JOIN_KEYS)
    twin = {}
    for r in integ:
        twin.setdefault(key(r), r)
    mapping = {n: n for n in RAW_HEADER}
    X = _matrix(raw, names, mapping)
    col = {n: i for i, n in enumerate(names)}
    joined = 0
    for i, r in enumerate(raw):
        t = twin.get(key(r))
        if t is None:
            continue
        joined += 1
        for n in CLAMP_EXTRAS:
            X[i, col[n]] = _num(t[n])
    y = np.array([int(float(r["class"])) for r in raw])
    # ClaMP wrote zeros for every optional-header field of its 11 PE32+
    # rows (Magic 0): those fields are unknown, not zero.
    bad = X[:, col["Magic"]] == 0
    for n in RAW_HEADER[RAW_HEADER.index("Magic"):]:
        X[bad, col[n]] = np.nan
    return derive(X, names), y, {"joined": joined, "rows": len(raw)}


def load_kaggle(names):
    rows = _read_csv(os.path.join(data_dir(), "kaggle-pe-headers", "dataset_malwares.csv"))
    cols = set(rows[0].keys())
    mapping = {n: n for n in RAW_HEADER if n in cols}
    X = _matrix(rows, names, mapping)
    y = np.array([int(float(r["Malware"])) for r in rows])
    return derive(X, names), y


def load_debian(extractor, cache_dir, names):
    """Features of the fetched Debian PE files (fetch first with
    tests/ml_fetch_debian_pe.sh --all CACHE_DIR). Returns X, packages,
    paths; the ClamAV test files (detected by design) are left out."""
    files = _read_csv(os.path.join(cache_dir, "files.csv"))
    files = [f for f in files if f["package"] != "clamav-testfiles"]
    out = subprocess.run([extractor, "-"], input="\n".join(f["local_file"] for f in files),
                         capture_output=True, text=True, check=True).stdout
    got = {r["path"]: r for r in csv.DictReader(out.splitlines())}
    keep = [f for f in files if f["local_file"] in got]
    X = np.array([[_num(got[f["local_file"]][n]) for n in names] for f in keep])
    pkgs = np.array(["%s:%s" % (f["package"], f["arch"]) for f in keep])
    paths = np.array(["%s:%s%s" % (f["package"], f["arch"], f["path"]) for f in keep])
    return X, pkgs, paths


# ---------------------------------------------------------------------
# Deduplication and splits
# ---------------------------------------------------------------------

def model_columns():
    """The columns the model may read: raw header fields, flags, ratios
    and ClaMP_Integrated's statistics, less DROPPED."""
    return [n for n in RAW_HEADER + FLAGS + RATIOS + CLAMP_EXTRAS if n not in DROPPED]


def row_keys(X, cols):
    """A hash of each row's values in the given columns (NaN-safe)."""
    keys = []
    for row in X[:, cols]:
        keys.append(hashlib.sha1(np.nan_to_num(row, nan=-1.5e300).tobytes()).hexdigest())
    return np.array(keys)


def dedupe(X, y, keys):
    """Keeps the first row of each distinct (features, label); drops
    feature rows seen with both labels."""
    labels = {}
    for k, l in zip(keys, y):
        labels.setdefault(k, set()).add(int(l))
    seen = set()
    keep = []
    for i, (k, l) in enumerate(zip(keys, y)):
        if len(labels[k]) > 1 or k in seen:
            continue
        seen.add(k)
        keep.append(i)
    return np.array(keep, dtype=int)


def split_groups(y, groups, seed=SEED):
    """0 = train, 1 = validation, 2 = test: StratifiedGroupKFold with 5
    folds, fold 0 the test and fold 1 the validation set."""
    from sklearn.model_selection import StratifiedGroupKFold
    part = np.zeros(len(y), dtype=int)
    skf = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    for fold, (_, idx) in enumerate(skf.split(np.zeros(len(y)), y, groups)):
        if fold == 0:
            part[idx] = 2
        elif fold == 1:
            part[idx] = 1
    return part


def split_debian_packages(pkgs, seed=SEED):
    """Debian files split by binary package (name:arch): libwine:i386 and
    a third of the other packages are held back for the test, another
    third validates, the rest (with libwine:amd64) trains."""
    rng = np.random.RandomState(seed)
    others = sorted(set(pkgs) - {"libwine:i386", "libwine:amd64"})
    rng.shuffle(others)
    role = {"libwine:i386": 2, "libwine:amd64": 0}
    for i, p in enumerate(others):
        role[p] = (2, 1, 0)[i % 3]
    return np.array([role[p] for p in pkgs]), role


def load_all(extractor, cache_dir):
    """Everything train.py and evaluate.py need, deduplicated and split.
    Returns a dict of arrays: X, y, source ('clamp'|'kaggle'|'debian'),
    part (0 train, 1 val, 2 test), pkg, path; and names."""
    names = feature_names(extractor)
    Xc, yc, cinfo = load_clamp(names)
    Xk, yk = load_kaggle(names)
    Xd, pd_, paths = load_debian(extractor, cache_dir, names)
    col = {n: i for i, n in enumerate(names)}
    shared = [col[n] for n in RAW_HEADER if n not in ("Machine", "CreationYear", "BaseOfData")]
    allowed = [col[n] for n in model_columns()]

    out = {}
    # Dedupe each labelled set on the model's columns.
    for tag, X, y in (("clamp", Xc, yc), ("kaggle", Xk, yk)):
        keep = dedupe(X, y, row_keys(X, allowed))
        out[tag] = (X[keep], y[keep])
    # Groups across ClaMP and Kaggle: rows equal on the shared header
    # columns are one group, so they never straddle a split.
    X = np.vstack([out["clamp"][0], out["kaggle"][0]])
    y = np.concatenate([out["clamp"][1], out["kaggle"][1]])
    src = np.array(["clamp"] * len(out["clamp"][1]) + ["kaggle"] * len(out["kaggle"][1]))
    groups = row_keys(X, shared)
    part = np.zeros(len(y), dtype=int)
    for tag in ("clamp", "kaggle"):
        m = src == tag
        part[m] = split_groups(y[m], groups[m])
    # A group split across the two sets: follow the earlier decision.
    first = {}
    for i, g in enumerate(groups):
        if g in first:
            part[i] = part[first[g]]
        else:
            first[g] = i
    # Debian: dedupe identical feature rows within a package only (the
    # same DLL in two packages is two real files).
    dkeys = row_keys(Xd, allowed)
    keep = dedupe(Xd, np.zeros(len(Xd)), np.array([p + k for p, k in zip(pd_, dkeys)]))
    Xd, pd_, paths = Xd[keep], pd_[keep], paths[keep]
    dpart, roles = split_debian_packages(pd_)
    X = np.vstack([X, Xd])
    y = np.concatenate([y, np.zeros(len(Xd), dtype=int)])
    src = np.concatenate([src, np.array(["debian"] * len(Xd))])
    part = np.concatenate([part, dpart])
    pkg = np.concatenate([np.array([""] * (len(y) - len(Xd))), pd_])
    path = np.concatenate([np.array([""] * (len(y) - len(Xd))), paths])
    return {"X": X, "y": y, "source": src, "part": part, "pkg": pkg, "path": path,
            "names": names, "allowed": allowed, "shared": shared,
            "roles": roles, "clamp_info": cinfo}


def integrated_missing(names):
    """The model's columns a row in ClaMP_Integrated's layout lacks (it
    keeps flags instead of Characteristics, ImageBase, the alignments
    ...): train.py adds a copy of the training rows with these masked,
    so `vigil ml score --csv` scores such rows sensibly."""
    d = os.path.join(data_dir(), "clamp")
    with open(os.path.join(d, "ClaMP_Integrated-5184.csv"), newline="") as fp:
        header = next(csv.reader(fp))
    renamed = {"ImageBase", "SectionAlignment", "FileAlignment", "SizeOfImage",
               "SizeOfHeaders", "LoaderFlags", "CreationYear"}  # flags there
    have = set(h for h in header if h not in renamed)
    have |= {"ImageBase_std", "SectionAlignment_ok", "FileAlignment_ok", "SizeOfImage_ok",
             "SizeOfHeaders_ok", "LoaderFlags_zero", "CreationYear_ok"}
    # ratios over SizeOfImage cannot be computed there; EntryInCode can
    have |= {"EntryInCode"}
    return [i for i, n in enumerate(names) if n not in have]


def model_matrix(X, allowed):
    """The model sees only the allowed columns; the others are NaN so the
    trees never split on them (feature indices stay the extractor's)."""
    M = np.full_like(X, np.nan)
    M[:, allowed] = X[:, allowed]
    return M
