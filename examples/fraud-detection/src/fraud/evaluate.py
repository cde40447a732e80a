"""Score the model on test.parquet and write the AUC for the pipeline's promotion gate.

The AUC goes to AUC_FILE (default /tmp/outputs/auc), which the workflow reads as the step's
`auc` output; the `promote` step runs only when it is at least MIN_AUC.
"""

import json
import logging
import os
import sys
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score
from xgboost import XGBClassifier

from fraud import FEATURES, LABEL, artifacts_dir, model_path

log = logging.getLogger("fraud.evaluate")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    min_auc = float(os.environ.get("MIN_AUC", "0.8"))
    test = pd.read_parquet(artifacts_dir() / "test.parquet")
    model = XGBClassifier()
    model.load_model(model_path())
    scores = model.predict_proba(test[FEATURES])[:, 1]
    auc = float(roc_auc_score(test[LABEL], scores))
    metrics = {"auc": auc, "min_auc": min_auc, "n_test": len(test), "passed": auc >= min_auc}
    (artifacts_dir() / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    out = Path(os.environ.get("AUC_FILE", "/tmp/outputs/auc"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"{auc:.6f}")
    log.info("AUC %.4f (minimum %.4f)", auc, min_auc)
    if auc < min_auc:
        log.warning("AUC below MIN_AUC: the model will not be promoted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
