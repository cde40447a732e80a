"""FastAPI text-generation service for the merged model: /healthz, /readyz, POST /generate."""

import logging
import os
import threading
from contextlib import asynccontextmanager

import torch
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field
from transformers import AutoModelForCausalLM, AutoTokenizer

from finetune import PROMPT_TEMPLATE, model_dir

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
log = logging.getLogger("finetune.serve")
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
state: dict = {}
lock = threading.Lock()


def load() -> None:
    path = model_dir()
    try:
        state["tokenizer"] = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForCausalLM.from_pretrained(str(path), torch_dtype="auto")
        state["model"] = model.to(DEVICE).eval()
        log.info("loaded %s on %s", path, DEVICE)
    except (OSError, ValueError) as exc:
        log.error("could not load model from %s: %s", path, exc)


@asynccontextmanager
async def lifespan(_: FastAPI):
    # Load in the background so /healthz answers while weights are read.
    threading.Thread(target=load, daemon=True).start()
    yield


app = FastAPI(title="llm-finetune", lifespan=lifespan)


class GenerateRequest(BaseModel):
    prompt: str = Field(min_length=1, max_length=8000)
    max_new_tokens: int = Field(default=256, ge=1, le=1024)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.get("/readyz")
def readyz() -> dict:
    if "model" not in state:
        raise HTTPException(status_code=503, detail="model not loaded")
    return {"status": "ready"}


@app.post("/generate")
def generate(req: GenerateRequest) -> dict:
    if "model" not in state:
        raise HTTPException(status_code=503, detail="model not loaded")
    tok, model = state["tokenizer"], state["model"]
    prompt = PROMPT_TEMPLATE.format(instruction=req.prompt)
    inputs = tok(prompt, return_tensors="pt", return_token_type_ids=False).to(DEVICE)
    sampling = {"do_sample": True, "temperature": req.temperature} if req.temperature > 0 else {}
    with lock, torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=req.max_new_tokens,
                             pad_token_id=tok.pad_token_id or tok.eos_token_id, **sampling)
    text = tok.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    return {"completion": text.strip()}


if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))
