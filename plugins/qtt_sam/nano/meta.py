"""sam-nano's own meta-dataset (runs of the ``sam-lora`` space recorded by ``qtt-seg meta build``)
and the predictors meta-trained on it, both shipped in ``qtt_sam/assets/``.

    python -m qtt_sam.nano.meta FILE    # remake assets/predictors/ from a meta-dataset file

How the file was made: ``assets/METADATASET.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qtt_core.specs import MetaDatasetSpec

__all__ = ["META_DATASET_FILE", "PREDICTORS_DIR", "make_predictors", "meta_dataset_spec"]

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
#: the recorded runs (project format, CSV)
META_DATASET_FILE = ASSETS_DIR / "sam_nano_meta.csv"
#: the predictors meta-trained on them (performance/cost ``.json`` + ``.safetensors``)
PREDICTORS_DIR = ASSETS_DIR / "predictors"
SPACE = "sam-lora"


def meta_dataset_spec() -> MetaDatasetSpec:
    """``qtt-seg-sam-nano``: the shipped runs of sam-nano, with their predictors when present."""
    shipped = PREDICTORS_DIR if (PREDICTORS_DIR / "performance.json").is_file() else None
    return MetaDatasetSpec(
        name="qtt-seg-sam-nano",
        models=("sam-nano",),
        space=SPACE,
        path=META_DATASET_FILE if META_DATASET_FILE.is_file() else None,
        predictors=shipped,
        description="sam-nano fine-tuning runs recorded by this project on generated and small real tasks",
    )


def make_predictors(file: str | Path = META_DATASET_FILE, out: str | Path = PREDICTORS_DIR, seed: int = 0) -> dict:
    """Meta-train the performance and cost predictors on ``file`` and save them into ``out``.

    Returns:
        The summary of :func:`qtt_core.surrogates.fit_file.fit_predictors_file`.
    """
    from qtt_core.surrogates.fit_file import fit_predictors_file

    return fit_predictors_file(file, out, space=SPACE, seed=seed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qtt_sam.nano.meta", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="?", default=META_DATASET_FILE)
    parser.add_argument("--out", type=Path, default=PREDICTORS_DIR)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.monotonic()
    summary = make_predictors(args.file, args.out, args.seed)
    print(f"predictors from {summary['rows']} runs of {len(summary['datasets'])} tasks written to {args.out} "
          f"in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
