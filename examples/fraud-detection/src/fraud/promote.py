"""Promote the evaluated model: copy it to the path the API serves from."""

import logging
import shutil
import sys

from fraud import artifacts_dir, model_path

log = logging.getLogger("fraud.promote")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    promoted = artifacts_dir() / "promoted"
    promoted.mkdir(parents=True, exist_ok=True)
    shutil.copy2(model_path(), promoted / "model.json")
    shutil.copy2(artifacts_dir() / "metrics.json", promoted / "metrics.json")
    log.info("promoted %s", model_path())
    return 0


if __name__ == "__main__":
    sys.exit(main())
