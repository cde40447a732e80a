"""Merge the LoRA adapter into BASE_MODEL and save a standalone model for serving."""

import logging

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from finetune import BASE_MODEL, adapter_dir, hf_token, model_dir

log = logging.getLogger("finetune.merge")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    base = AutoModelForCausalLM.from_pretrained(BASE_MODEL, token=hf_token(), torch_dtype=dtype)
    model = PeftModel.from_pretrained(base, str(adapter_dir())).merge_and_unload()
    out = model_dir()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    AutoTokenizer.from_pretrained(str(adapter_dir())).save_pretrained(str(out))
    log.info("merged %s + %s into %s", BASE_MODEL, adapter_dir(), out)


if __name__ == "__main__":
    main()
