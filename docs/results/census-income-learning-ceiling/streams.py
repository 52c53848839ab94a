"""Derives the streams of this experiment from census-income.csv.gz (in the working directory).

first90.csv / last10.csv: the first 89,786 rows and the last 9,976 (the offline anchor's split);
passes2.csv.gz / passes3.csv.gz: the first 89,786 rows two or three times, then the last 9,976;
bucket.csv.gz: the four money columns as log2 half-octave buckets ('0' for 0).
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
