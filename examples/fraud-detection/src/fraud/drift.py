"""Nightly drift report: how far recent feature means moved from the training data's.

Recent data is RECENT_DATA (default: the held-out test.parquet that prepare writes).
"""

import json
import logging
import os
import sys
from pathlib import Path

import pandas as pd

from fraud import FEATURES, artifacts_dir

log = logging.getLogger("fraud.drift")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    train = pd.read_parquet(artifacts_dir() / "train.parquet")
    recent = pd.read_parquet(Path(os.environ.get("RECENT_DATA", str(artifacts_dir() / "test.parquet"))))
    drift = {f: float(abs(recent[f].mean() - train[f].mean()) / (train[f].std() or 1.0)) for f in FEATURES}
    (artifacts_dir() / "drift.json").write_text(json.dumps(drift, indent=2) + "\n")
    for feature, score in sorted(drift.items(), key=lambda kv: -kv[1]):
        log.info("%s drifted %.2f standard deviations", feature, score)
    return 0


if __name__ == "__main__":
    sys.exit(main())
