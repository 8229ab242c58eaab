"""sam-nano's own meta-datasets (runs of the ``sam-lora`` space recorded by ``qtt-seg meta build``)
and the predictors meta-trained on them, shipped in ``qtt_sam/assets/``: one per prompt protocol.

- ``box`` (``qtt-seg-sam-nano``): ``sam_nano_meta.csv`` and ``predictors/``;
- ``none`` (``qtt-seg-sam-nano-none``): ``sam_nano_meta_none.csv`` and ``predictors_none/``,
  registered once the file is recorded (``meta build --prompt none``).

    python -m qtt_sam.nano.meta FILE                  # remake assets/predictors/ from a meta-dataset file
    python -m qtt_sam.nano.meta FILE --prompt none    # remake assets/predictors_none/

How the files were made: ``assets/METADATASET.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qtt_core.specs import MetaDatasetSpec

__all__ = [
    "META_DATASET_FILE",
    "META_DATASET_FILES",
    "PREDICTORS_DIR",
    "PREDICTORS_DIRS",
    "make_predictors",
    "meta_dataset_spec",
    "meta_dataset_specs",
]

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
#: the recorded runs of each prompt protocol (project format, CSV)
META_DATASET_FILES = {"box": ASSETS_DIR / "sam_nano_meta.csv", "none": ASSETS_DIR / "sam_nano_meta_none.csv"}
#: the predictors meta-trained on them (performance/cost ``.json`` + ``.safetensors``)
PREDICTORS_DIRS = {"box": ASSETS_DIR / "predictors", "none": ASSETS_DIR / "predictors_none"}
#: the box protocol's (the paper's, and the default)
META_DATASET_FILE = META_DATASET_FILES["box"]
PREDICTORS_DIR = PREDICTORS_DIRS["box"]
SPACE = "sam-lora"
_NAMES = {"box": "qtt-seg-sam-nano", "none": "qtt-seg-sam-nano-none"}
_DESCRIPTIONS = {
    "box": "sam-nano fine-tuning runs recorded by this project on generated and small real tasks",
    "none": "sam-nano fine-tuning runs without prompts (--prompt none) on generated and small real tasks",
}


def meta_dataset_spec(prompt: str = "box") -> MetaDatasetSpec:
    """The shipped runs of sam-nano with prompt protocol ``prompt``, with their predictors when present."""
    file, predictors = META_DATASET_FILES[prompt], PREDICTORS_DIRS[prompt]
    return MetaDatasetSpec(
        name=_NAMES[prompt],
        models=("sam-nano",),
        space=SPACE,
        path=file if file.is_file() else None,
        predictors=predictors if (predictors / "performance.json").is_file() else None,
        description=_DESCRIPTIONS[prompt],
        prompt=prompt,
    )


def meta_dataset_specs() -> list[MetaDatasetSpec]:
    """``qtt-seg-sam-nano`` (box), and ``qtt-seg-sam-nano-none`` once its file is recorded."""
    return [meta_dataset_spec("box")] + ([meta_dataset_spec("none")] if META_DATASET_FILES["none"].is_file() else [])


def make_predictors(file: str | Path = META_DATASET_FILE, out: str | Path | None = None, seed: int = 0, prompt: str = "box") -> dict:
    """Meta-train the performance and cost predictors on ``file`` and save them into ``out``.

    Args:
        out: default: the ``prompt`` protocol's folder (:data:`PREDICTORS_DIRS`).
        prompt: the protocol ``file`` must hold (its ``prompt`` column; ``box`` without one).

    Returns:
        The summary of :func:`qtt_core.surrogates.fit_file.fit_predictors_file`.

    Raises:
        UsageError: ``file`` holds runs of another prompt protocol.
    """
    from qtt_core.errors import UsageError
    from qtt_core.metadataset.io import read_prompt
    from qtt_core.surrogates.fit_file import fit_predictors_file

    recorded = read_prompt(file)
    if recorded != prompt:
        raise UsageError(f"{file} holds runs with prompt protocol {recorded!r}, not {prompt!r}; give --prompt {recorded} or another file")
    return fit_predictors_file(file, out if out is not None else PREDICTORS_DIRS[prompt], space=SPACE, seed=seed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qtt_sam.nano.meta", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="?", help="default: the shipped file of --prompt")
    parser.add_argument("--prompt", choices=sorted(META_DATASET_FILES), default="box", help="the file's prompt protocol")
    parser.add_argument("--out", type=Path, help="default: assets/predictors/ (box) or assets/predictors_none/ (none)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from qtt_core.errors import UsageError

    out = args.out or PREDICTORS_DIRS[args.prompt]
    started = time.monotonic()
    try:
        summary = make_predictors(args.file or META_DATASET_FILES[args.prompt], out, args.seed, prompt=args.prompt)
    except UsageError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    print(f"predictors from {summary['rows']} runs of {len(summary['datasets'])} tasks ({args.prompt}) written to {out} "
          f"in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
