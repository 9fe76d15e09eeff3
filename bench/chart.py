# SPDX-License-Identifier: GPL-2.0
"""Draws bench/footprint.png from bench/results.csv (written by make bench)."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src, out):
    rows, extra = [], {}
    with open(src) as f:
        for line in f:
            if line.startswith("#"):
                key, value = line[1:].strip().split(",")
                extra[key] = float(value)
    with open(src) as f:
        rows = [r for r in csv.DictReader(line for line in f if not line.startswith("#"))]
    names = [r["helper"] for r in rows]
    blob = [int(r["blob_bytes"]) / 1024 for r in rows]
    resident = [int(r["shmem_kib"]) + int(r["rss_kib"]) for r in rows]

    fig, (ax1, ax2, ax3) = plt.subplots(
        1, 3, figsize=(14, 4), gridspec_kw={"width_ratios": [3, 1.5, 1.5]}
    )
    x = range(len(names))
    ax1.bar([i - 0.2 for i in x], blob, 0.4, label="blob (KiB)")
    ax1.bar([i + 0.2 for i in x], resident, 0.4, label="resident: Shmem + VmRSS (KiB)")
    ax1.set_yscale("log")
    ax1.set_xticks(list(x), names)
    ax1.set_title("Footprint per helper (log scale)")
    ax1.legend()
    for i, (b, r) in enumerate(zip(blob, resident)):
        ax1.annotate(f"{b:.1f}", (i - 0.2, b), ha="center", va="bottom", fontsize=8)
        ax1.annotate(f"{r}", (i + 0.2, r), ha="center", va="bottom", fontsize=8)

    relay, ceiling = extra["relay_lines_per_s"], extra["printk_lines_per_s"]
    unbuffered = extra["relay_unbuffered_lines_per_s"]
    ax2.bar(
        ["relay\n4 KiB writes", "relay\nline writes", "printk"],
        [relay, unbuffered, ceiling],
        color=["tab:green", "tab:olive", "tab:gray"],
    )
    ax2.set_title(
        f"Lines/s: {extra['ratio']:.2f} / {extra['unbuffered_ratio']:.2f} of printk"
    )
    eprog, umh = extra["eprog_1_median_us"], extra["umh_1_median_us"]
    ax3.bar(["eprog_call", "call_usermode-\nhelper"], [eprog, umh], color=["tab:green", "tab:gray"])
    ax3.set_yscale("log")
    ax3.set_title(f"Round trip, median µs: {umh / eprog:.0f}x")
    for i, v in enumerate([eprog, umh]):
        ax3.annotate(f"{v:.0f}", (i, v), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
