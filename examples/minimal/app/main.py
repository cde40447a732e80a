"""A minimal FastAPI service: GET /healthz and GET /hello."""

import os

import uvicorn
from fastapi import FastAPI

GREETING = os.environ.get("GREETING", "Hello")

app = FastAPI(title="minimal")


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.get("/hello")
def hello(name: str = "world") -> dict:
    return {"message": f"{GREETING}, {name}!"}


if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))
