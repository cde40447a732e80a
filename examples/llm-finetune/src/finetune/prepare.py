"""Turn instruction/response JSONL (or a hub data set) into a train/eval split."""

import logging
import os
import sys

from datasets import load_dataset

from finetune import PROMPT_TEMPLATE, data_dir, hf_token

log = logging.getLogger("finetune.prepare")


def to_text(row: dict) -> dict:
    instruction = row["instruction"]
    if row.get("input"):
        instruction = f"{instruction}\n\n{row['input']}"
    return {"text": PROMPT_TEMPLATE.format(instruction=instruction) + row["output"]}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    raw = sorted(str(p) for p in (data_dir() / "raw").glob("*.jsonl"))
    dataset_id = os.environ.get("DATASET_ID")
    if raw:
        ds = load_dataset("json", data_files=raw, split="train")
    elif dataset_id:
        ds = load_dataset(dataset_id, split="train", token=hf_token())
    else:
        log.error("no %s/raw/*.jsonl files and DATASET_ID is unset", data_dir())
        return 2
    ds = ds.filter(lambda r: bool(r.get("instruction")) and bool(r.get("output")))
    ds = ds.map(to_text, remove_columns=ds.column_names)
    val_fraction = float(os.environ.get("VAL_FRACTION", "0.05"))
    splits = ds.train_test_split(test_size=val_fraction, seed=42)
    out = data_dir() / "processed"
    splits.save_to_disk(str(out))
    log.info("wrote %d train / %d eval examples to %s",
             len(splits["train"]), len(splits["test"]), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
