"""Fraud-detection example: prepare -> train -> evaluate -> serve."""

import os
from pathlib import Path

FEATURES = ["amount", "hour", "merchant_risk", "distance_km", "txn_last_24h", "card_age_days"]
LABEL = "is_fraud"


def artifacts_dir() -> Path:
    """Directory shared by all pipeline steps (env ARTIFACTS_DIR, default /artifacts)."""
    path = Path(os.environ.get("ARTIFACTS_DIR", "/artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_path() -> Path:
    """Model file written by train and read by evaluate/serve (env MODEL_PATH)."""
    default = Path(os.environ.get("ARTIFACTS_DIR", "/artifacts")) / "model.json"
    return Path(os.environ.get("MODEL_PATH", str(default)))
