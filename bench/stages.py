#!/usr/bin/env python3
"""Print the criterion stage benches (`cargo bench --bench stages`) as a Markdown table:
the median time of each stage at each N, from target/criterion/*/*/new/estimates.json."""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
STAGES = ["parse_yaml", "parse_kdl", "schema_check", "semantic_checks", "load_all_envs", "lower",
          "emit_dockerfiles", "emit_and_serialize", "validate_output", "diff_identical", "compile"]


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


sizes = sorted((int(d.name[1:]) for d in root.glob("n*") if d.name[1:].isdigit()))
cells = {}
for n in sizes:
    for est in (root / f"n{n}").glob("**/new/estimates.json"):
        bench = est.parent.parent.relative_to(root / f"n{n}").parts[0]
        cells[(bench, n)] = json.loads(est.read_text())["median"]["point_estimate"]
print("| stage | " + " | ".join(f"N = {n:,}" for n in sizes) + " |")
print("|---" * (len(sizes) + 1) + "|")
for stage in STAGES:
    row = [fmt(cells[(stage, n)]) if (stage, n) in cells else "-" for n in sizes]
    print(f"| {stage} | " + " | ".join(row) + " |")
if len(sizes) > 1:
    a, b = sizes[-2], sizes[-1]
    if ("compile", a) in cells and ("compile", b) in cells:
        print(f"\nWhole compile, N = {b:,} against N = {a:,}: {cells[('compile', b)] / cells[('compile', a)]:.1f}x.")
