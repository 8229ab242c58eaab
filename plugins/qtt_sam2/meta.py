"""The paper's recorded SAM 2 runs as a named meta-dataset, with predictors meta-trained on them.

``python -m qtt_sam2.meta CSV`` (re)makes the predictors shipped in ``predictors/`` from the
development subset of the published QTT-SEG meta-dataset; see ``predictors/NOTE.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qtt_core.metadataset.named import PUBLISHED_QTT_SEG_URL
from qtt_core.specs import MetaDatasetSpec
from qtt_sam2.architectures import ARCHITECTURES

__all__ = ["PREDICTORS_DIR", "SAM2_MODELS", "meta_dataset_spec", "make_predictors"]

#: predictors that ship with the plugin (performance/cost ``.json`` + ``.safetensors``)
PREDICTORS_DIR = Path(__file__).resolve().parent / "predictors"
#: the runs were recorded with hiera-tiny; the other official sizes share the space and the training recipe
SAM2_MODELS = tuple(name for name, arch in ARCHITECTURES.items() if arch.checkpoint_url is not None)


def meta_dataset_spec() -> MetaDatasetSpec:
    """``qtt-seg-sam2-dev``: the published runs, and the shipped predictors when present."""
    shipped = PREDICTORS_DIR if (PREDICTORS_DIR / "performance.json").is_file() else None
    return MetaDatasetSpec(
        name="qtt-seg-sam2-dev",
        models=SAM2_MODELS,
        space="qtt-seg-sam2",
        path=None,
        url=PUBLISHED_QTT_SEG_URL,
        predictors=shipped,
        description="QTT-SEG's recorded SAM 2.1 hiera-tiny LoRA runs; predictors meta-trained on a 450-run subset",
    )


def make_predictors(csv: str | Path, out: str | Path = PREDICTORS_DIR, seed: int = 0) -> Path:
    """Meta-train the performance and cost predictors on ``csv`` and save them into ``out``.

    Args:
        csv: a meta-dataset file in the published QTT-SEG format.
        seed: seeds meta-training.
    """
    from qtt_core.surrogates.fit_file import fit_predictors_file

    return Path(fit_predictors_file(csv, out, space="qtt-seg-sam2", seed=seed)["out"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--out", type=Path, default=PREDICTORS_DIR)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.monotonic()
    folder = make_predictors(args.csv, args.out, args.seed)
    print(f"predictors written to {folder} in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
