"""LoRA fine-tuning example: prepare -> train -> merge -> serve."""

import os
from pathlib import Path

BASE_MODEL = os.environ.get("BASE_MODEL", "Qwen/Qwen2.5-0.5B-Instruct")
PROMPT_TEMPLATE = "### Instruction:\n{instruction}\n\n### Response:\n"


def data_dir() -> Path:
    """Raw and processed data (env DATA_DIR, default /data)."""
    return Path(os.environ.get("DATA_DIR", "/data"))


def checkpoint_dir() -> Path:
    """Trainer checkpoints and the LoRA adapter (env CHECKPOINT_DIR, default /checkpoints)."""
    return Path(os.environ.get("CHECKPOINT_DIR", "/checkpoints"))


def adapter_dir() -> Path:
    return checkpoint_dir() / "adapter"


def model_dir() -> Path:
    """Merged model written by merge and loaded by serve (env MODEL_DIR)."""
    return Path(os.environ.get("MODEL_DIR", str(checkpoint_dir() / "merged")))


def hf_token() -> str | None:
    """Hugging Face token for gated models, injected from a Secret. Never log it."""
    return os.environ.get("HF_TOKEN") or None
