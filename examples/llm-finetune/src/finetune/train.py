"""LoRA fine-tune BASE_MODEL on the processed data set; save the adapter."""

import logging
import os
import shutil

import torch
from datasets import load_from_disk
from peft import LoraConfig, get_peft_model
from transformers import (AutoModelForCausalLM, AutoTokenizer, DataCollatorForLanguageModeling,
                          Trainer, TrainingArguments)
from transformers.trainer_utils import get_last_checkpoint

from finetune import BASE_MODEL, adapter_dir, checkpoint_dir, data_dir, hf_token

log = logging.getLogger("finetune.train")


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    tokenizer = AutoTokenizer.from_pretrained(BASE_MODEL, token=hf_token())
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    max_len = int(env("MAX_SEQ_LEN", "1024"))
    ds = load_from_disk(str(data_dir() / "processed")).map(
        lambda b: tokenizer([t + tokenizer.eos_token for t in b["text"]],
                            truncation=True, max_length=max_len),
        batched=True, remove_columns=["text"])

    model = AutoModelForCausalLM.from_pretrained(
        BASE_MODEL, token=hf_token(), torch_dtype=torch.bfloat16 if bf16 else torch.float32)
    model = get_peft_model(model, LoraConfig(
        r=int(env("LORA_R", "16")), lora_alpha=int(env("LORA_ALPHA", "32")),
        lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM"))
    model.print_trainable_parameters()

    # Trainer state lives under CHECKPOINT_DIR/trainer so a preempted run resumes;
    # it is removed after success so the next scheduled run starts fresh.
    work = checkpoint_dir() / "trainer"
    args = TrainingArguments(
        output_dir=str(work), num_train_epochs=float(env("EPOCHS", "1")),
        per_device_train_batch_size=int(env("BATCH_SIZE", "4")),
        gradient_accumulation_steps=int(env("GRAD_ACCUM", "4")),
        learning_rate=float(env("LEARNING_RATE", "2e-4")), lr_scheduler_type="cosine",
        warmup_ratio=0.03, bf16=bf16, logging_steps=10, eval_strategy="epoch",
        save_strategy="steps", save_steps=200, save_total_limit=2, report_to="none")
    trainer = Trainer(model=model, args=args, train_dataset=ds["train"], eval_dataset=ds["test"],
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
    resume = get_last_checkpoint(str(work)) if work.is_dir() else None
    trainer.train(resume_from_checkpoint=resume)
    log.info("eval loss %.4f", trainer.evaluate()["eval_loss"])

    model.save_pretrained(str(adapter_dir()))
    tokenizer.save_pretrained(str(adapter_dir()))
    shutil.rmtree(work, ignore_errors=True)
    log.info("saved LoRA adapter to %s", adapter_dir())


if __name__ == "__main__":
    main()
