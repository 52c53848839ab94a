"""Derives the streams of this experiment from census-income.csv.gz (in the working directory).

first90.csv / last10.csv: the first 89,786 rows and the last 9,976 (the offline anchor's split);
passes2.csv.gz / passes3.csv.gz: the first 89,786 rows two or three times, then the last 9,976;
bucket.csv.gz: the four money columns as log2 half-octave buckets ('0' for 0);
cross.csv.gz: seven crosses of two columns each added as categorical columns;
dense.csv.gz: the seven numeric columns also as standardised numbers (the money columns and
num_emp as log(1 + x)), mean and standard deviation taken over the first 89,786 rows, in columns
named d_<column>, for --dense-features.
"""
import csv
import gzip
import math

rows = gzip.open("census-income.csv.gz", "rt").read().splitlines()
header, data = rows[0], rows[1:]
cut = len(data) - 9976
open("first90.csv", "w").write("\n".join([header] + data[:cut]) + "\n")
open("last10.csv", "w").write("\n".join([header] + data[cut:]) + "\n")
for passes in (2, 3):
    with gzip.open(f"passes{passes}.csv.gz", "wt") as f:
        f.write("\n".join([header] + data[:cut] * passes + data[cut:]) + "\n")

money = ["wage_per_hour", "capital_gains", "capital_losses", "stock_dividends"]
table = list(csv.reader(gzip.open("census-income.csv.gz", "rt")))
columns = [table[0].index(c) for c in money]
with gzip.open("bucket.csv.gz", "wt", newline="") as f:
    out = csv.writer(f)
    out.writerow(table[0])
    for row in table[1:]:
        for i in columns:
            v = float(row[i])
            row[i] = "0" if v == 0 else str(int(math.log2(v) * 2))
        out.writerow(row)

header_row = [c.strip() for c in table[0]]
at = {c: i for i, c in enumerate(header_row)}
crosses = [("age", "sex"), ("age", "det_hh_fam_stat"), ("age", "education"), ("sex", "det_hh_fam_stat"),
           ("age", "full_or_part_emp"), ("det_hh_summ", "sex"), ("age", "tax_filer_stat")]
table = list(csv.reader(gzip.open("census-income.csv.gz", "rt")))
with gzip.open("cross.csv.gz", "wt", newline="") as f:
    out = csv.writer(f)
    out.writerow(header_row[:-2] + [a + "_x_" + b for a, b in crosses] + header_row[-2:])
    for row in table[1:]:
        out.writerow(row[:-2] + [row[at[a]] + "|" + row[at[b]] for a, b in crosses] + row[-2:])

numeric = ["age", "wage_per_hour", "capital_gains", "capital_losses", "stock_dividends", "num_emp", "weeks_worked"]
logged = {"wage_per_hour", "capital_gains", "capital_losses", "stock_dividends", "num_emp"}


def value(row, c):
    v = float(row[at[c]])
    return math.log1p(v) if c in logged else v


first = table[1:1 + cut]
moments = {}
for c in numeric:
    xs = [value(r, c) for r in first]
    mean = sum(xs) / len(xs)
    moments[c] = (mean, math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs)) or 1.0)
with gzip.open("dense.csv.gz", "wt", newline="") as f:
    out = csv.writer(f)
    out.writerow(header_row[:-2] + ["d_" + c for c in numeric] + header_row[-2:])
    for row in table[1:]:
        out.writerow(row[:-2] + ["%.6g" % ((value(row, c) - moments[c][0]) / moments[c][1]) for c in numeric] + row[-2:])
