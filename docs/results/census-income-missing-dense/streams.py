"""Derives the streams of this experiment from census-income.csv.gz (in the working directory).

Each of the seven numeric columns' cells is taken out with probability 0.3, independently
(seeded), in the same cells for both files:
blanks.csv.gz: those cells empty (a missing value);
zeros.csv.gz: those cells 0 (what a producer that writes 0 for "unknown" sends).
"""
import csv
import gzip
import random

numeric = ["age", "wage_per_hour", "capital_gains", "capital_losses", "stock_dividends", "num_emp", "weeks_worked"]
table = list(csv.reader(gzip.open("census-income.csv.gz", "rt")))
columns = [table[0].index(c) for c in numeric]
rng = random.Random(2026)
taken = [[i for i in columns if rng.random() < 0.3] for _ in table[1:]]
for name, fill in (("blanks.csv.gz", ""), ("zeros.csv.gz", "0")):
    with gzip.open(name, "wt", newline="") as f:
        out = csv.writer(f)
        out.writerow(table[0])
        for row, cells in zip(table[1:], taken):
            row = list(row)
            for i in cells:
                row[i] = fill
            out.writerow(row)
