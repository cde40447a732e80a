"""FastAPI scoring service: /healthz, /readyz and POST /predict."""

import logging
import os
from contextlib import asynccontextmanager

import numpy as np
import uvicorn
import xgboost as xgb
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from fraud import FEATURES, model_path

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
log = logging.getLogger("fraud.serve")
THRESHOLD = float(os.environ.get("THRESHOLD", "0.5"))
# DB credentials are env-injected from a Secret: read to show the wiring, never logged.
DB_USER = os.environ.get("DB_USER")
DB_PASSWORD = os.environ.get("DB_PASSWORD")

_booster: xgb.Booster | None = None


def load_model() -> None:
    global _booster
    path = model_path()
    try:
        _booster = xgb.Booster(model_file=str(path))
        log.info("loaded model %s (threshold %.2f, db credentials %s)",
                 path, THRESHOLD, "present" if DB_USER and DB_PASSWORD else "absent")
    except xgb.core.XGBoostError as exc:
        log.error("could not load model from %s: %s", path, str(exc).splitlines()[0])


@asynccontextmanager
async def lifespan(_: FastAPI):
    load_model()
    yield


app = FastAPI(title="fraud-detection", lifespan=lifespan)


class Transaction(BaseModel):
    amount: float = Field(ge=0)
    hour: int = Field(ge=0, le=23)
    merchant_risk: float = Field(ge=0, le=1)
    distance_km: float = Field(ge=0)
    txn_last_24h: int = Field(ge=0)
    card_age_days: int = Field(ge=0)


class Prediction(BaseModel):
    fraud_probability: float
    is_fraud: bool
    threshold: float


@app.get("/healthz")
def healthz() -> dict:  # liveness: the process is up
    return {"status": "ok"}


@app.get("/readyz")
def readyz() -> dict:  # readiness: a model is loaded
    if _booster is None:
        raise HTTPException(status_code=503, detail="model not loaded")
    return {"status": "ready"}


@app.post("/predict", response_model=Prediction)
def predict(txn: Transaction) -> Prediction:
    if _booster is None:
        raise HTTPException(status_code=503, detail="model not loaded")
    row = np.array([[getattr(txn, name) for name in FEATURES]], dtype=np.float32)
    prob = float(_booster.predict(xgb.DMatrix(row, feature_names=FEATURES))[0])
    return Prediction(fraud_probability=prob, is_fraud=prob >= THRESHOLD, threshold=THRESHOLD)


if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))
