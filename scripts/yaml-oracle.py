#!/usr/bin/env python3
"""Rebuild tests/yaml/oracle.tsv: how YAML readers resolve a plain scalar.

For each string of SCALARS below the table says what a reader makes of it when
it is written plain (unquoted) as a mapping value, `k: <scalar>`:

  pyyaml  what PyYAML (a YAML 1.1 reader) loads with yaml.safe_load: str (the
          same string), changed (another string: a comment or trailing space
          cut off), bool, int, float, null, timestamp, list, map, or error (no
          document, or an error to construct one);
  yaml11  the type the YAML 1.1 type repository (yaml.org/type/, 2005) gives
          the plain scalar: bool, int, float, null, timestamp, merge, value or
          str. Its bool also holds y, Y, n and N, which PyYAML reads as strings
          but readers that follow the repository (go-yaml v2, on which
          Kubernetes' sigs.k8s.io/yaml was built) read as booleans;
  yaml12  the type the YAML 1.2 core schema (YAML 1.2.2, section 10.3.2) gives
          it: bool, int, float, null or str.

The yaml11 and yaml12 columns come from the regular expressions of those two
documents, transcribed below; they say how the text resolves, not whether it
parses as a plain scalar at all (the pyyaml column shows that). tests/yaml_quoting.rs
requires mlship's YAML writer to quote every string that is not `str` in all
three columns.

Usage (from the repo root; needs PyYAML, e.g. `python3 -m pip install pyyaml`
in a virtualenv, or the .venv of tests/tools.sh, where pre-commit brings it):
    python3 scripts/yaml-oracle.py          # rewrite tests/yaml/oracle.tsv
    python3 scripts/yaml-oracle.py --check  # exit 1 if it is stale
A new case: add it to SCALARS and rerun.
"""

import argparse
import datetime
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "yaml", "oracle.tsv")

SCALARS = [
    # Booleans of YAML 1.1, of YAML 1.2, and case mixes no reader takes.
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
    "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "yEs", "nO", "oN", "tRUE", "oFF",
    # Nulls.
    "", "~", "null", "Null", "NULL", "nULL", "none", "None",
    # Integers: decimal, octal both ways, hex, binary, underscores, sexagesimal.
    "0", "00", "-0", "+0", "7", "012", "-012", "08", "09", "0o12", "0O12", "0o8",
    "0x1F", "0X1F", "-0x1F", "0x", "0xG", "0b101", "0B101", "-0b101", "0b2",
    "+12", "-12", "1_000", "1__0", "_1", "1_", "0_1", "1,000", "+685_230", "02472256",
    "0x_0A_74_AE", "0b1010_0111_0100_1010_1110",
    "12:30", "1:30:00", "-1:30", "+1:30", "190:20:30", "12:60", "0:30", "1:2:3",
    # Floats.
    "1e3", "1E3", "1e+3", "-1e3", "1e-3", "1.0e+3", "1.0e3", "6.8523015e+5",
    "685.230_15e+03", "685_230.15", "190:20:30.15", ".5", "5.", "-.5", "+.5",
    "-1.", ".", "..", "-.", "+.", "._", "._5", "0.1", "1.33", "3.11", "1.5.0", "1.0.0", "0.1.0",
    ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".iNf", "inf", "Infinity",
    ".nan", ".NaN", ".NAN", "-.nan", "nan", "NaN",
    # Timestamps.
    "2024-01-01", "2001-12-14", "2024-1-1", "2024-13-45", "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5", "2001-12-15T02:59:43.1Z", "2001-12-15 2:59:43.10",
    "2024-01-01T00:00:00",
    "20240101", "12:30:00Z",
    # Merge key and value key.
    "<<", "=", "<", "==",
    # Indicators and layout that change the document.
    "- x", "-", "--", "---", "...", "? x", "?", ":", "a: b", "a:", "a :b", "a #b",
    "#c", "a#b", "[x]", "{x}", "x]", "x}", "*a", "&a", "!t", "!!str", "|", ">",
    "%x", "@x", "`x`", "'q'", '"q"', " x", "x ", "a  b", "a,b", ",x", "key: value",
    "a\tb",
    # Strings a Kubernetes object holds, which no reader misreads.
    "api", "fraud-detection", "v1", "1Gi", "500m", "10s", "25%", "--host", "-v",
    "/healthz", "app.kubernetes.io/name", "ghcr.io/acme/fraud:1.4.2", "uvicorn",
    "$(HOME)", "x=y", "é", "1x", "0xZZ", "e3", "x1e3",
]

# YAML 1.1 type repository, https://yaml.org/type/ (bool, int, float, null,
# timestamp, merge, value), each anchored to the whole scalar. Two of its
# expressions disagree with the examples next to them, so each is taken together
# with its corrected form (a string that matches either resolves to the type):
# the float's `\.[0-9.]*` (its example 685.230_15e+03 needs `[0-9_]`), and the
# timestamp's zone, which does not allow the space of its example
# `2001-12-14 21:59:43.10 -5` before an offset.
YAML11 = [
    ("bool", r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"),
    ("int", r"[-+]?0b[0-1_]+"
            r"|[-+]?0[0-7_]+"
            r"|[-+]?(0|[1-9][0-9_]*)"
            r"|[-+]?0x[0-9a-fA-F_]+"
            r"|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+"),
    ("float", r"[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?"
              r"|[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?"
              r"|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*"
              r"|[-+]?\.(inf|Inf|INF)"
              r"|\.(nan|NaN|NAN)"),
    ("null", r"~|null|Null|NULL|"),
    ("timestamp", r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                  r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
                  r"([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\.[0-9]*)?"
                  r"(([ \t]*)Z|[-+][0-9][0-9]?(:[0-9][0-9])?|[ \t]*[-+][0-9][0-9]?(:[0-9][0-9])?)?"),
    ("merge", r"<<"),
    ("value", r"="),
]

# YAML 1.2.2 core schema, section 10.3.2 (tag resolution).
YAML12 = [
    ("null", r"null|Null|NULL|~|"),
    ("bool", r"true|True|TRUE|false|False|FALSE"),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"),
    ("float", r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
              r"|[-+]?(\.inf|\.Inf|\.INF)"
              r"|\.nan|\.NaN|\.NAN"),
]


def resolve(rules, s):
    for tag, pattern in rules:
        if re.fullmatch(pattern, s):
            return tag
    return "str"


def pyyaml(s):
    try:
        doc = yaml.safe_load("k: " + s + "\n")
    except yaml.YAMLError:
        return "error"
    except ValueError:  # a timestamp that matches the pattern but is no date
        return "error"
    if not isinstance(doc, dict) or list(doc) != ["k"]:
        return "error"
    v = doc["k"]
    if isinstance(v, str):
        return "str" if v == s else "changed"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if v is None:
        return "null"
    if isinstance(v, (datetime.date, datetime.datetime)):
        return "timestamp"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "map"
    return type(v).__name__


def table():
    assert len(set(SCALARS)) == len(SCALARS), "a scalar is listed twice"
    lines = [
        "# How YAML readers resolve each string written plain as `k: <scalar>`.",
        "# Written by scripts/yaml-oracle.py (PyYAML %s); see that script for the columns." % yaml.__version__,
        "# scalar (as a JSON string)\tpyyaml\tyaml11\tyaml12",
    ]
    for s in SCALARS:
        lines.append("\t".join([json.dumps(s, ensure_ascii=False), pyyaml(s), resolve(YAML11, s), resolve(YAML12, s)]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed table is stale")
    args = ap.parse_args()
    text = table()
    if args.check:
        try:
            with open(OUT, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print("tests/yaml/oracle.tsv is stale; run python3 scripts/yaml-oracle.py", file=sys.stderr)
            return 1
        return 0
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
