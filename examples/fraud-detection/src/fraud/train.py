"""Train an XGBClassifier on train.parquet and save it as JSON."""

import logging
import os
from pathlib import Path

import pandas as pd
import yaml
from xgboost import XGBClassifier

from fraud import FEATURES, LABEL, artifacts_dir, model_path

log = logging.getLogger("fraud.train")


def load_config() -> dict:
    path = Path(os.environ.get("TRAIN_CONFIG", "configs/train.yaml"))
    if not path.exists():
        log.warning("config %s not found, using defaults", path)
        return {}
    with path.open() as fh:
        return yaml.safe_load(fh) or {}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = load_config()
    train = pd.read_parquet(artifacts_dir() / "train.parquet")
    x, y = train[FEATURES], train[LABEL]
    # Re-weight the rare positive class so the model does not ignore it.
    pos_weight = float((y == 0).sum()) / max(int((y == 1).sum()), 1)
    model = XGBClassifier(
        n_estimators=int(cfg.get("n_estimators", 200)),
        max_depth=int(cfg.get("max_depth", 5)),
        learning_rate=float(cfg.get("learning_rate", 0.1)),
        subsample=float(cfg.get("subsample", 1.0)),
        colsample_bytree=float(cfg.get("colsample_bytree", 1.0)),
        random_state=int(cfg.get("seed", 42)),
        scale_pos_weight=pos_weight,
        objective="binary:logistic",
        eval_metric="auc",
        tree_method="hist",
    )
    model.fit(x, y)
    out = model_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(out)
    log.info("trained on %d rows (scale_pos_weight=%.1f), saved %s", len(train), pos_weight, out)


if __name__ == "__main__":
    main()
