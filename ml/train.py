#!/usr/bin/python3
"""train.py - trains vigil's PE model from scratch and regenerates the C
tables. One command:

    /usr/bin/python3 ml/train.py          (or: make ml-retrain)

Steps: fetch the Debian PE files (tests/ml_fetch_debian_pe.sh --all,
cached), build the feature extractor, load and split ClaMP, the Kaggle
header set and the Debian files (ml/mldata.py), train xgboost with fixed
seeds, set the two thresholds on the validation rows, then write
ml/model_tables.c, ml/model_testvectors.csv and the run-time model file
(ml/cache/vigil-pe.vgm) through ml/codegen.py.

Environment: VIGIL_SHARED (shared data, default ../shared beside the
source tree), VIGIL_ML_CACHE (work folder, default ml/cache).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mldata  # noqa: E402

MODEL_VERSION = "pe-4"
# Depth 3, regularised, without the version fields and the DOS header
# (pe-4): the setting that transferred best between ClaMP and Kaggle in
# ml/transfer.py, and as good on the held-out ClaMP rows as pe-3's depth
# 4 (REPORT.md); every tree a fixed 3-step branch-free walk in C.
PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "tree_method": "hist",
    "max_depth": 3,
    "eta": 0.15,
    "subsample": 0.8,
    "colsample_bytree": 0.5,
    "min_child_weight": 10,
    "reg_lambda": 10,
    "gamma": 1,
    "seed": mldata.SEED,
    "nthread": 2,
}
# Columns the model does not read: they tell the two datasets' benign
# rows apart (linker and OS versions, DOS stub) more than malware from
# benign programs. They are still extracted and explained.
VERSIONS = ["MajorLinkerVersion", "MinorLinkerVersion", "MajorOperatingSystemVersion",
            "MinorOperatingSystemVersion", "MajorImageVersion", "MinorImageVersion",
            "MajorSubsystemVersion", "MinorSubsystemVersion"]
DOS = ["e_magic", "e_cblp", "e_cp", "e_crlc", "e_cparhdr", "e_minalloc", "e_maxalloc",
       "e_ss", "e_sp", "e_csum", "e_ip", "e_cs", "e_lfarlc", "e_ovno", "e_oemid",
       "e_oeminfo", "e_lfanew"]
DROPPED = VERSIONS + DOS
ROUNDS = 300
# Weight of the copy of the training rows seen in ClaMP_Integrated's
# columns only (mldata.integrated_missing masked), so that feature CSVs
# missing those columns score sensibly.
MASKED_WEIGHT = 0.5
# Debian benign rows count this much more than a dataset row: they are
# the only benign programs not built by Microsoft.
DEBIAN_WEIGHT = 3.0
FPR_MALICIOUS = 0.001
FPR_SUSPICIOUS = 0.01


def cache_dir():
    return os.environ.get("VIGIL_ML_CACHE") or os.path.join(mldata.HERE, "cache")


def threshold_at_fpr(scores, fpr):
    """The lowest threshold t such that the share of benign scores >= t
    is at most fpr."""
    s = np.sort(scores)[::-1]
    k = int(np.floor(fpr * len(s)))  # benign rows allowed at or above t
    if k >= len(s):
        return float(s[-1])
    # t just above the (k+1)-th highest benign score
    return float(np.nextafter(np.float32(s[k]), np.float32(np.inf)))


def fit(X, y, w, Xv, yv, rounds=ROUNDS, params=None):
    p = dict(PARAMS)
    if params:
        p.update(params)
    dtr = xgb.DMatrix(X, label=y, weight=w, missing=np.nan)
    dva = xgb.DMatrix(Xv, label=yv, missing=np.nan)
    return xgb.train(p, dtr, rounds, evals=[(dva, "val")], verbose_eval=False)


def weights(d, idx):
    return np.where(d["source"][idx] == "debian", DEBIAN_WEIGHT, 1.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-fetch", action="store_true", help="use the cached Debian files as they are")
    ap.add_argument("--no-codegen", action="store_true")
    args = ap.parse_args()

    cdir = cache_dir()
    os.makedirs(cdir, exist_ok=True)
    debcache = os.path.join(cdir, "debian-pe")
    if not args.no_fetch:
        subprocess.run(["sh", os.path.join(mldata.TOP, "tests", "ml_fetch_debian_pe.sh"),
                        "--all", debcache], check=True)
    extractor = mldata.build_extractor(cdir)
    d = mldata.load_all(extractor, debcache)
    # after deduplication and splitting, which stay those of all columns
    d["allowed"] = [i for i in d["allowed"] if d["names"][i] not in DROPPED]
    X = mldata.model_matrix(d["X"], d["allowed"])
    y, part = d["y"], d["part"]
    tr, va = part == 0, part == 1
    print("rows: train %d, validation %d, test %d" % (tr.sum(), va.sum(), (part == 2).sum()))
    for s in ("clamp", "kaggle", "debian"):
        m = d["source"] == s
        print("  %-6s train %5d val %5d test %5d (malware %d)" % (
            s, (m & tr).sum(), (m & va).sum(), (m & (part == 2)).sum(), y[m].sum()))

    w = weights(d, np.where(tr)[0])
    Xm = X[tr].copy()
    Xm[:, mldata.integrated_missing(d["names"])] = np.nan
    bst = fit(np.vstack([X[tr], Xm]), np.concatenate([y[tr], y[tr]]),
              np.concatenate([w, MASKED_WEIGHT * w]), X[va], y[va])
    pv = bst.predict(xgb.DMatrix(X[va], missing=np.nan))
    ben = pv[y[va] == 0]
    thr_mal = threshold_at_fpr(ben, FPR_MALICIOUS)
    thr_sus = threshold_at_fpr(ben, FPR_SUSPICIOUS)
    print("thresholds from %d benign validation rows: malicious %.6f, suspicious %.6f"
          % (len(ben), thr_mal, thr_sus))

    model_path = os.path.join(cdir, "model.json")
    bst.save_model(model_path)
    meta = {
        "version": MODEL_VERSION,
        "features": d["names"],
        "feature_hash": "%016x" % mldata.feature_hash(d["names"]),
        "threshold_malicious": thr_mal,
        "threshold_suspicious": thr_sus,
        "validation_benign": int(len(ben)),
        "params": PARAMS, "rounds": ROUNDS, "debian_weight": DEBIAN_WEIGHT,
        "masked_weight": MASKED_WEIGHT, "dropped": DROPPED,
        "debian_roles": d["roles"],
        "xgboost": xgb.__version__,
    }
    with open(os.path.join(cdir, "meta.json"), "w") as fp:
        json.dump(meta, fp, indent=1)
    np.savez_compressed(os.path.join(cdir, "data.npz"), X=d["X"], y=y, part=part,
                        source=d["source"], pkg=d["pkg"], path=d["path"],
                        allowed=np.array(d["allowed"]), shared=np.array(d["shared"]))
    if not args.no_codegen:
        subprocess.run([sys.executable, os.path.join(mldata.HERE, "codegen.py")], check=True)


if __name__ == "__main__":
    main()
