"""A tiny ranking API: scores candidates by a dot product with the query vector."""

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Request(BaseModel):
    query: list[float]
    candidates: dict[str, list[float]]


@app.get("/healthz")
def healthz() -> dict:
    return {"ok": True}


@app.post("/v1/models/ranker:predict")
def predict(req: Request) -> dict:
    q = np.asarray(req.query)
    scores = {k: float(np.dot(q, np.asarray(v))) for k, v in req.candidates.items()}
    return {"ranking": sorted(scores, key=scores.get, reverse=True), "scores": scores}
