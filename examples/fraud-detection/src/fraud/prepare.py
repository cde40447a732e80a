"""Load raw transactions (env DATA_URL) or synthesise them, then split to parquet."""

import logging
import os

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from fraud import FEATURES, LABEL, artifacts_dir

log = logging.getLogger("fraud.prepare")


def synthetic(n_rows: int = 5000, seed: int = 0) -> pd.DataFrame:
    """A small, learnable fraud data set (about 5% positives)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "amount": rng.lognormal(3.5, 1.0, n_rows).round(2),
        "hour": rng.integers(0, 24, n_rows),
        "merchant_risk": rng.beta(2, 8, n_rows),
        "distance_km": rng.exponential(20.0, n_rows).round(1),
        "txn_last_24h": rng.poisson(3, n_rows),
        "card_age_days": rng.integers(1, 3650, n_rows),
    })
    score = (0.004 * df["amount"] + 4.0 * df["merchant_risk"] + 0.02 * df["distance_km"]
             + 0.3 * df["txn_last_24h"] + np.where(df["hour"] < 6, 1.0, 0.0)
             - 0.0005 * df["card_age_days"] + rng.normal(0, 0.5, n_rows))
    df[LABEL] = (score > np.quantile(score, 0.95)).astype(int)
    return df


def load(url: str) -> pd.DataFrame:
    if url.endswith(".parquet"):
        return pd.read_parquet(url)
    return pd.read_csv(url)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    url = os.environ.get("DATA_URL", "")
    df = load(url) if url else synthetic()
    log.info("loaded %d rows from %s", len(df), url.split("?")[0] or "synthetic generator")
    df = df[FEATURES + [LABEL]].dropna()
    train, test = train_test_split(df, test_size=0.2, stratify=df[LABEL], random_state=0)
    out = artifacts_dir()
    train.to_parquet(out / "train.parquet", index=False)
    test.to_parquet(out / "test.parquet", index=False)
    log.info("wrote %d train / %d test rows to %s", len(train), len(test), out)


if __name__ == "__main__":
    main()
