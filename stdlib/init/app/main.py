"""A starter model server: replace the prediction with your model's."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/predict")
def predict(features: dict) -> dict:
    return {"score": 0.0, "features": len(features)}
