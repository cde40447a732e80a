"""One Katib trial: train on train.parquet with the trial's hyperparameters, score a held-out
fifth of it, and print `auc=<value>` for Katib's stdout collector.

Katib's best trial (`kubectl get experiment -o jsonpath='{.status.currentOptimalTrial}'`)
gives the values to put in configs/train.yaml, which the training pipeline reads.
"""

import argparse

import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier

from fraud import FEATURES, LABEL, artifacts_dir


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--max-depth", type=int, required=True)
    p.add_argument("--learning-rate", type=float, required=True)
    p.add_argument("--booster", choices=["gbtree", "dart"], required=True)
    args = p.parse_args()
    data = pd.read_parquet(artifacts_dir() / "train.parquet")
    x_train, x_val, y_train, y_val = train_test_split(
        data[FEATURES], data[LABEL], test_size=0.2, stratify=data[LABEL], random_state=42
    )
    pos_weight = float((y_train == 0).sum()) / max(int((y_train == 1).sum()), 1)
    model = XGBClassifier(
        n_estimators=200,
        max_depth=args.max_depth,
        learning_rate=args.learning_rate,
        booster=args.booster,
        scale_pos_weight=pos_weight,
        objective="binary:logistic",
        tree_method="hist",
    )
    model.fit(x_train, y_train)
    auc = roc_auc_score(y_val, model.predict_proba(x_val)[:, 1])
    print(f"auc={auc:.6f}", flush=True)


if __name__ == "__main__":
    main()
