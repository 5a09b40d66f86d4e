#!/usr/bin/python3
"""ml_bench.py - speed of the ML stage: features + score of PE files in
memory (C), and score per row, C against xgboost's own predict.

    /usr/bin/python3 bench/ml_bench.py [PE files...]   (or: make ml-bench)

Without arguments it uses the Debian PE files that ml/train.py fetched
(ml/cache/debian-pe). Builds bench/ml_bench_c.c with cc -O2. The
xgboost side predicts the same rows one at a time (inplace_predict, one
thread: what a scanner scoring files one by one would do) and in one
batch.
"""
import csv
import glob
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "ml"))
import mldata  # noqa: E402
import train  # noqa: E402


def main():
    files = sys.argv[1:]
    cdir = train.cache_dir()
    if not files:
        rows = list(csv.DictReader(open(os.path.join(cdir, "debian-pe", "files.csv"))))
        files = [r["local_file"] for r in rows]
    tmp = tempfile.mkdtemp()
    exe = os.path.join(tmp, "ml_bench_c")
    subprocess.run(["cc", "-O2", "-std=gnu11", "-I", TOP, "-I", os.path.join(TOP, "include"), "-o", exe,
                    os.path.join(HERE, "ml_bench_c.c")] +
                   [os.path.join(TOP, "ml", f) for f in ("pe.c", "features.c", "model.c", "model_avx512.c", "model_tables.c")]
                   + ["-lm"], check=True)
    out = subprocess.run([exe, "20"] + files, capture_output=True, text=True, check=True).stdout.split()
    c = dict(zip(out[0::2], out[1::2]))
    print("C: %s PE files in memory, mean %s bytes, model of %s trees of depth %s"
          % (c["files"], c["mean_bytes"], c["trees"], c["depth"]))
    print("  features + score per file (us): median %s, p90 %s, p99 %s, max %s, mean %s"
          % tuple(c["features_and_score_%s_us" % k] for k in ("median", "p90", "p99", "max", "mean")))
    print("  features alone per file (us): median %s, p90 %s"
          % (c["features_only_median_us"], c["features_only_p90_us"]))
    print("  score alone: %.3f us per row" % float(c["score_only_us"]))
    # xgboost on the same rows
    ext = mldata.build_extractor(tmp)
    names = mldata.feature_names(ext)
    X, _, _ = mldata.load_debian(ext, os.path.join(cdir, "debian-pe"), names)
    X = mldata.derive(X, names)
    z = np.load(os.path.join(cdir, "data.npz"))
    X = mldata.model_matrix(X, list(z["allowed"])).astype(np.float32)
    bst = xgb.Booster()
    bst.load_model(os.path.join(cdir, "model.json"))
    bst.set_param({"nthread": 1})
    # best of several passes, as the C figures: the least disturbed by
    # other work on the machine
    n = min(len(X), 500)
    one = batch = 1e30
    for _ in range(3):
        t0 = time.perf_counter()
        for i in range(n):
            bst.inplace_predict(X[i:i + 1], missing=np.nan)
        one = min(one, (time.perf_counter() - t0) / n * 1e6)
    for _ in range(20):
        t0 = time.perf_counter()
        bst.inplace_predict(X, missing=np.nan)
        batch = min(batch, (time.perf_counter() - t0) / len(X) * 1e6)
    sc, sb = float(c["score_only_us"]), float(c["score_batch_us"])
    simd = "AVX-512" if c["batch_avx512"] == "1" else "scalar"
    print("C batch (%s walk): %.3f us per row" % (simd, sb))
    print("xgboost (1 thread): %.2f us per row one at a time, %.3f us per row in a batch of %d"
          % (one, batch, len(X)))
    print("C against xgboost: one row at a time %.0fx, batch against batch %.1fx "
          "(C one row at a time against xgboost's batch: %.1fx)" % (one / sc, batch / sb, batch / sc))
    load = os.getloadavg()[0]
    # for REPORT.md (ml/evaluate.py includes it)
    L = ["## Speed (`make ml-bench`)\n",
         "%s Debian PE files already in memory (mean %s bytes), one core, model of %s trees "
         "of depth %s. Features as the stage computes them (the groups its model reads), "
         "each file timed alone, best of 20 runs. Score per row: best of 400 passes over "
         "all rows (C), of 3 passes over 500 rows and 20 batches (xgboost); load average "
         "%.1f on %d cores when measured.\n" % (c["files"], c["mean_bytes"], c["trees"], c["depth"],
                                                load, os.cpu_count()),
         "| what | median | p90 | p99 | max |", "|---|---|---|---|---|",
         "| features + score, us per file | %s | %s | %s | %s |" % tuple(
             c["features_and_score_%s_us" % k] for k in ("median", "p90", "p99", "max")),
         "| features alone, us per file | %s | %s | | |" % (
             c["features_only_median_us"], c["features_only_p90_us"]),
         "",
         "| score per row, same model | us |", "|---|---|",
         "| C, one row at a time (`vg_ml_score`) | %.3f |" % sc,
         "| C, one batch of %d rows (`vg_ml_score_batch`, %s walk) | %.3f |" % (len(X), simd, sb),
         "| xgboost %s, 1 thread, one row at a time (`inplace_predict`, from Python) | %.2f |"
         % (xgb.__version__, one),
         "| xgboost, 1 thread, one batch of %d rows | %.3f |" % (len(X), batch),
         "", "C against xgboost: %.0fx one row at a time, %.1fx batch against batch "
         "(C one row at a time against xgboost's batch: %.1fx).\n" % (one / sc, batch / sb, batch / sc)]
    with open(os.path.join(cdir, "speed.md"), "w") as fp:
        fp.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
