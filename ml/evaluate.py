#!/usr/bin/python3
"""evaluate.py - writes ml/REPORT.md and ml/roc.png for the model that
ml/train.py last trained (its work folder, ml/cache, must exist):

    /usr/bin/python3 ml/evaluate.py       (or: make ml-report)

Figures: AUC and TPR at 1 % and 0.1 % FPR on the held-out test rows of
ClaMP and of the Kaggle set; false-positive rates on the held-back
Debian packages at the two shipped thresholds; cross-dataset figures
(train on one set, test on the other); a ROC curve picture.
"""
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score, roc_curve

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mldata  # noqa: E402
import train  # noqa: E402


def tpr_at(y, s, fpr):
    """TPR at the threshold leaving at most fpr of the benign rows at or
    above it; also the number of benign rows and false positives."""
    ben = s[y == 0]
    t = train.threshold_at_fpr(ben, fpr)
    return float((s[y == 1] >= t).mean()), int(len(ben)), int((ben >= t).sum())


def predict(bst, X):
    return bst.predict(xgb.DMatrix(X, missing=np.nan))


def row(name, y, s):
    auc = roc_auc_score(y, s)
    t1, nb, fp1 = tpr_at(y, s, 0.01)
    t01, _, fp01 = tpr_at(y, s, 0.001)
    return ("| %s | %d / %d | %.4f | %.3f (%d FP) | %.3f (%d FP) |"
            % (name, int(y.sum()), nb, auc, t1, fp1, t01, fp01)), auc


def cross(d, train_src, test_src, with_debian, cols):
    """Trains on every row of train_src (plus the Debian training
    packages) on the columns both sets have, scores every row of
    test_src."""
    X = np.full_like(d["X"], np.nan)
    X[:, cols] = d["X"][:, cols]
    src, y, part = d["source"], d["y"], d["part"]
    trm = src == train_src
    if with_debian:
        trm = trm | ((src == "debian") & (part == 0))
    # validation for the booster's log only: the train set's own val part
    vam = (src == train_src) & (part == 1)
    w = np.where(src[trm] == "debian", train.DEBIAN_WEIGHT, 1.0)
    bst = train.fit(X[trm], y[trm], w, X[vam], y[vam])
    tem = src == test_src
    return y[tem], predict(bst, X[tem])


def main():
    cdir = train.cache_dir()
    meta = json.load(open(os.path.join(cdir, "meta.json")))
    z = np.load(os.path.join(cdir, "data.npz"))
    d = {k: z[k] for k in z.files}
    names = meta["features"]
    col = {n: i for i, n in enumerate(names)}
    bst = xgb.Booster()
    bst.load_model(os.path.join(cdir, "model.json"))
    X = mldata.model_matrix(d["X"], list(d["allowed"]))
    s = predict(bst, X)
    y, part, src = d["y"], d["part"], d["source"]
    te = part == 2
    tm, ts = meta["threshold_malicious"], meta["threshold_suspicious"]
    L = []
    L.append("# vigil ML stage: evaluation report\n")
    L.append("Written by `ml/evaluate.py` (`make ml-report`) on %s for model `%s` "
             "(xgboost %s, %d trees, feature-list hash %s).\n"
             % (time.strftime("%Y-%m-%d"), meta["version"], meta["xgboost"],
                meta["rounds"], meta["feature_hash"]))
    L.append("## Held-out test rows (shipped model)\n")
    L.append("Rows are deduplicated and split 60/20/20 (train / validation / test) with "
             "StratifiedGroupKFold, seed %d; rows equal on the shared header columns are "
             "one group, so no program is on both sides. TPR at x %% FPR uses the threshold "
             "that leaves at most x %% of that test set's benign rows above it; the benign "
             "count says how many rows stand behind each figure (at 0.1 %% of ~500 benign "
             "rows the threshold allows no false positive at all).\n" % mldata.SEED)
    L.append("| test set | malware / benign rows | AUC | TPR @ 1 % FPR | TPR @ 0.1 % FPR |")
    L.append("|---|---|---|---|---|")
    figures = {}
    for name, m in (("ClaMP", te & (src == "clamp")), ("Kaggle", te & (src == "kaggle")),
                    ("ClaMP + Kaggle", te & (src != "debian")),
                    ("ClaMP + Kaggle + Debian held-back", te)):
        line, auc = row(name, y[m], s[m])
        L.append(line)
        figures[name] = auc
    # The same ClaMP rows seen through ClaMP_Integrated's columns only:
    # what `vigil ml score --csv` gets from a CSV in that layout.
    m = te & (src == "clamp")
    Xm = X[m].copy()
    Xm[:, mldata.integrated_missing(names)] = np.nan
    line, _ = row("ClaMP, ClaMP_Integrated's columns only", y[m], predict(bst, Xm))
    L.append(line)
    L.append("")
    L.append("## Shipped thresholds\n")
    L.append("Set on the validation rows (%d benign: ClaMP, Kaggle and the Debian "
             "validation packages): MALICIOUS at score >= %.6f (FPR <= 0.1 %%), SUSPICIOUS "
             "at score >= %.6f (FPR <= 1 %%).\n" % (meta["validation_benign"], tm, ts))
    L.append("| test rows | benign | FPR MALICIOUS | FPR flagged | malware | TPR MALICIOUS | TPR flagged |")
    L.append("|---|---|---|---|---|---|---|")
    for name, m in (("ClaMP", te & (src == "clamp")), ("Kaggle", te & (src == "kaggle")),
                    ("Debian held-back packages", te & (src == "debian"))):
        b, mal = m & (y == 0), m & (y == 1)
        L.append("| %s | %d | %.2f %% | %.2f %% | %d | %s | %s |" % (
            name, b.sum(), 100 * (s[b] >= tm).mean(), 100 * (s[b] >= ts).mean(), mal.sum(),
            "%.3f" % (s[mal] >= tm).mean() if mal.any() else "-",
            "%.3f" % (s[mal] >= ts).mean() if mal.any() else "-"))
    L.append("")
    L.append("### Debian packages\n")
    L.append("Real benign PE files of Debian 12 packages, features computed by vigil's own "
             "extractor, split by binary package (name:arch). Packages in the test role were "
             "never trained on nor used for the thresholds.\n")
    L.append("| package | role | files | flagged MALICIOUS | flagged SUSPICIOUS or worse |")
    L.append("|---|---|---|---|---|")
    deb = src == "debian"
    for p in sorted(set(d["pkg"][deb])):
        m = deb & (d["pkg"] == p)
        role = ("train", "validation", "test")[int(part[m][0])]
        L.append("| %s | %s | %d | %d | %d |" % (p, role, m.sum(), (s[m] >= tm).sum(),
                                                 (s[m] >= ts).sum()))
    L.append("")
    # Stricter: no libwine at all in training, score all libwine files.
    lw = np.array([p.startswith("libwine:") for p in d["pkg"]])
    trm = (part == 0) & ~lw
    w = np.where(src[trm] == "debian", train.DEBIAN_WEIGHT, 1.0)
    b2 = train.fit(X[trm], y[trm], w, X[part == 1], y[part == 1])
    vb = (part == 1) & (y == 0) & ~lw
    pv = predict(b2, X[vb])
    t2m, t2s = train.threshold_at_fpr(pv, 0.001), train.threshold_at_fpr(pv, 0.01)
    sl = predict(b2, X[lw])
    L.append("Stricter check, since libwine:amd64 (train) and libwine:i386 (test) come from "
             "one source package: a model trained with no libwine file at all, thresholds set "
             "the same way without libwine, flags %.2f %% of all %d libwine files MALICIOUS "
             "and %.2f %% at all.\n" % (100 * (sl >= t2m).mean(), lw.sum(), 100 * (sl >= t2s).mean()))
    # Cross-dataset
    L.append("## Cross-dataset\n")
    L.append("The shipped model's settings, trained on every deduplicated row of one set and "
             "tested on every row of the other, using only the columns both have (their raw "
             "header fields and the flags and ratios derived from them). \"+ Debian\" adds "
             "the Debian training packages as benign rows. Target: AUC >= 0.95 each way; "
             "see the next section for what was tried.\n")
    L.append("| train on | test on | malware / benign rows | AUC | TPR @ 1 % FPR | TPR @ 0.1 % FPR |")
    L.append("|---|---|---|---|---|---|")
    shared_names = set(names[i] for i in d["shared"])
    flags_ok = [f for f in mldata.FLAGS if f != "CreationYear_ok"]
    model_cols = set(names[i] for i in d["allowed"])  # the shipped model's
    cols = sorted(col[n] for n in list(shared_names) + flags_ok + mldata.RATIOS
                  if n in model_cols)
    curves = {}
    for a, b in (("clamp", "kaggle"), ("kaggle", "clamp")):
        for wd in (False, True):
            yy, ss = cross(d, a, b, wd, cols)
            label = "%s%s -> %s" % (a, " + Debian" if wd else "", b)
            line, auc = row("%s%s | %s" % (a, " + Debian" if wd else "", b), yy, ss)
            L.append(line)
            figures[label] = auc
            curves[label] = (yy, ss)
    L.append("")
    # ROC picture
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5))
    for name, m in (("ClaMP test", te & (src == "clamp")), ("Kaggle test", te & (src == "kaggle"))):
        fpr, tpr, _ = roc_curve(y[m], s[m])
        ax.plot(fpr, tpr, label="%s (AUC %.4f)" % (name, roc_auc_score(y[m], s[m])))
    for label, (yy, ss) in curves.items():
        if "Debian" in label:
            fpr, tpr, _ = roc_curve(yy, ss)
            ax.plot(fpr, tpr, "--", label="%s (AUC %.3f)" % (label, roc_auc_score(yy, ss)))
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 1)
    ax.axvline(0.01, color="grey", lw=0.5)
    ax.axvline(0.001, color="grey", lw=0.5)
    ax.set_xlabel("false-positive rate (log)")
    ax.set_ylabel("true-positive rate")
    ax.set_title("vigil PE model %s" % meta["version"])
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(mldata.HERE, "roc.png"), dpi=90)
    L.append("![ROC curves](roc.png)\n")
    for extra in ("transfer.md", "speed.md", "report_extra.md"):
        extra = os.path.join(cdir, extra)
        if os.path.exists(extra):
            L.append(open(extra).read())
    with open(os.path.join(mldata.HERE, "REPORT.md"), "w") as fp:
        fp.write("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
