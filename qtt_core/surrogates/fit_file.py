"""Meta-train both predictors on a meta-dataset file and save them: what ``qtt-seg meta fit``
does, and what plugins call to remake the predictors they ship."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from qtt_core.errors import UsageError

__all__ = ["fit_predictors_file"]


def fit_predictors_file(
    file: str | Path, out: str | Path, *, space: str | None = None, default_space: str = "qtt-seg-sam2",
    seed: int = 0, steps: int = 300, registry: Any = None,
) -> dict[str, Any]:
    """Read ``file``, meta-train the performance and cost predictors, save them into ``out``.

    Args:
        file: a meta-dataset (the published QTT-SEG CSV, or the project's CSV/Parquet).
        out: the folder for ``performance.*`` and ``cost.*`` (safetensors + JSON).
        space: a space name or YAML file; default: the one the file names, else ``default_space``.
        steps: Adam steps of the performance predictor's deep kernel.

    The predictors record the file's prompt protocol (``box`` or ``none``, its ``prompt``
    column; ``box`` without one), and a run of another protocol refuses them.

    Returns:
        A summary: out, space, prompt, rows, datasets, feature_names, max_epochs, fit_s
        (seconds), files.

    Raises:
        UsageError: the file is missing or holds fewer than two runs; ``out`` is a file.
    """
    from qtt_core.metadataset.io import read_meta_dataset
    from qtt_core.registry import Registry
    from qtt_core.surrogates.pair import meta_train_predictors, save_predictors

    file, out = Path(file), Path(out)
    if not file.is_file():
        raise UsageError(f"meta-dataset {file} does not exist; give a CSV or Parquet file of recorded runs")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder for the predictors")
    space_name = space or read_meta_dataset(file).space or default_space
    configuration_space = (registry or Registry()).load_space(space_name)
    meta = read_meta_dataset(file, configuration_space)
    if len(meta) < 2:
        raise UsageError(f"meta-dataset {file} has {len(meta)} usable rows; meta-training needs recorded runs")
    started = time.perf_counter()
    performance, cost = meta_train_predictors(meta, configuration_space, seed=seed, steps=steps)
    save_predictors(out, performance, cost)
    return {
        "out": str(out),
        "space": str(space_name),
        "prompt": meta.prompt,
        "rows": len(meta),
        "datasets": meta.dataset_names(),
        "feature_names": list(meta.feature_names),
        "max_epochs": meta.num_epochs,
        "fit_s": round(time.perf_counter() - started, 2),
        "files": sorted(p.name for p in out.iterdir()),
    }
