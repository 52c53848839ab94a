"""Would a wide (linear) part beside the network reach the offline anchor on never married?

A stand-in, outside the project (numpy only): an online logistic regression on every column's
values as one-hot features (optionally with crosses of two columns), AdaGrad, batches of 256, one
pass over the first 89,786 rows of census-income.csv.gz (in the working directory), then scored
on the last 9,976 as a frozen model: the anchor's protocol. With --deep FILE (the
`snapshot score --predictions` output of the network's snapshot on last10.csv) it also scores
the mean of the two logits, weighted: what a wide part trained beside the network could add at
best, if the two learned independently.

    python3 wide.py [--rate 0.1] [--crosses] [--deep predictions.csv]
"""
import argparse
import csv
import gzip

import numpy as np

CROSSES = [("age", "sex"), ("age", "det_hh_fam_stat"), ("age", "education"), ("sex", "det_hh_fam_stat"),
           ("age", "tax_filer_stat"), ("det_hh_fam_stat", "tax_filer_stat")]
TAIL = 9976


def auc(score, y):
    """Rank AUC, ties sharing their mean rank."""
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j + 2) / 2
        i = j + 1
    pos = y.sum()
    return (ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * (len(y) - pos))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=0.1)
    ap.add_argument("--crosses", action="store_true")
    ap.add_argument("--deep")
    args = ap.parse_args()

    table = list(csv.reader(gzip.open("census-income.csv.gz", "rt")))
    header, rows = table[0], table[1:]
    label = header.index("never_married")
    columns = [i for i, h in enumerate(header) if h not in ("never_married", "income_50k")]
    crosses = [(header.index(a), header.index(b)) for a, b in CROSSES] if args.crosses else []
    vocabulary = {}
    x = np.array([[vocabulary.setdefault((i, r[i]), len(vocabulary)) for i in columns]
                  + [vocabulary.setdefault((a, b, r[a], r[b]), len(vocabulary)) for a, b in crosses] for r in rows])
    y = np.array([int(r[label]) for r in rows], dtype=float)
    n, fields = x.shape
    cut = n - TAIL

    w = np.zeros(len(vocabulary))
    sums = np.zeros(len(vocabulary))
    bias, bias_sum = 0.0, 0.0
    for start in range(0, cut, 256):
        xb, yb = x[start:min(start + 256, cut)], y[start:min(start + 256, cut)]
        g = 1 / (1 + np.exp(-(w[xb].sum(1) + bias))) - yb
        gw = np.zeros(len(w))
        np.add.at(gw, xb.ravel(), np.repeat(g, fields))
        gw /= len(yb)
        sums += gw * gw
        moved = gw != 0
        w[moved] -= args.rate * gw[moved] / np.sqrt(sums[moved])
        gb = g.mean()
        bias_sum += gb * gb
        bias -= args.rate * gb / np.sqrt(bias_sum)

    wide = w[x[cut:]].sum(1) + bias
    tail = y[cut:]
    print(f"wide part alone (rate {args.rate}, crosses {bool(crosses)}): AUC {auc(wide, tail):.5f}")
    if args.deep:
        p = np.loadtxt(args.deep, delimiter=",", skiprows=1)[:, 2]
        deep = np.log(p / (1 - p))
        print(f"network alone: AUC {auc(deep, tail):.5f}")
        for share in (0.2, 0.35, 0.5):
            print(f"  logits mixed, {share:.2f} of the wide part's: AUC {auc((1 - share) * deep + share * wide, tail):.5f}")


if __name__ == "__main__":
    main()
