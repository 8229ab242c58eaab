"""Read and write meta-datasets as CSV or Parquet, in two formats.

**The published QTT-SEG format** (read only), as in the authors' file
``finetuning_results_sam.csv``: one column per hyperparameter (every parameter recorded, even
those their scheduler or ``lora`` = 0 does not use), the meta-features ``num_samples``,
``default_resolution`` (the string ``"(H, W)"``), ``num_channels``, ``num_classes``, then
``dataset``, ``cost`` (seconds for all 10 epochs) and ``epoch_0_iou`` ... ``epoch_9_iou``
(``epoch_k_iou`` is the validation IoU after epoch ``k + 1``). It becomes a
:class:`MetaDataset` with the meta-features :data:`PUBLISHED_FEATURES`, named like the ones
:class:`qtt_core.metafeatures.DefaultMetaFeatures` extracts (``default_resolution`` becomes
``median_height`` and ``median_width``, in pixels), so that predictors meta-trained on it
read the meta-features the tuner computes.

**The project's format** (read and write):

- ``dataset``: the dataset id;
- ``config``: the configuration's active hyperparameters as a JSON object (types kept:
  ints, floats, strings); ``config_id`` beside it for people and ``grep`` (checked on read);
- ``mf_<name>``: one column per meta-feature, floats;
- ``epoch_<k>_score`` for ``k = 1 .. E``: the score after epoch ``k`` (empty after a run stopped);
- ``cost_s``: wall-clock seconds for all recorded epochs;
- ``space``: the search space's name (the same on every row; may be empty);
- ``prompt``: the prompt protocol the runs were trained and scored with, ``box`` or ``none``
  (:data:`qtt_core.adapter.PROMPT_PROTOCOLS`; the same on every row). A file without the
  column, or with it empty, holds ``box`` runs (files from before the column, and the
  published format, whose runs all used boxes);
- any other column is an extra column (e.g. ``seed``, ``status``), kept in ``MetaDataset.extra``;
  rows whose ``status`` is ``failed`` (runs ``qtt-seg meta build`` recorded as failed) are skipped.

Files ending in ``.parquet`` or ``.pq`` are Parquet (needs ``pyarrow``: ``pip install
qtt-seg[parquet]``), everything else is CSV.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qtt_core.adapter import PROMPT_PROTOCOLS
from qtt_core.errors import UsageError
from qtt_core.metadataset.table import MetaDataset
from qtt_core.space.identity import config_id, normalise_config

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

__all__ = [
    "PUBLISHED_FEATURES",
    "PUBLISHED_HYPERPARAMETERS",
    "detect_format",
    "read_meta_dataset",
    "read_prompt",
    "write_meta_dataset",
]

#: hyperparameter columns of the published QTT-SEG file (the ``qtt-seg-sam2`` space)
PUBLISHED_HYPERPARAMETERS = (
    "cosine_t0", "cosine_t_mult", "decay_rate", "horizontal_flip", "lora", "lora_dropout",
    "lora_rank", "lr", "onecycle_div_factor", "onecycle_final_div_factor", "onecycle_pct_start",
    "patience_epochs", "poly_power", "random_rotate", "sched", "step_size", "vertical_flip",
    "weight_decay",
)  # fmt: skip
#: meta-features a published file becomes (names as ``DefaultMetaFeatures`` uses them)
PUBLISHED_FEATURES = ("num_samples", "median_height", "median_width", "num_channels", "num_classes")
_PUBLISHED_META_COLUMNS = ("num_samples", "default_resolution", "num_channels", "num_classes", "dataset", "cost")
_PUBLISHED_EPOCH = re.compile(r"^epoch_(\d+)_iou$")
_PROJECT_EPOCH = re.compile(r"^epoch_(\d+)_score$")
_PROJECT_REQUIRED = ("dataset", "config", "cost_s")
_PROJECT_KNOWN = {"dataset", "config", "config_id", "cost_s", "space", "prompt"}


# -- reading ------------------------------------------------------------------------------


def read_meta_dataset(path: str | Path, space: ConfigurationSpace | None = None) -> MetaDataset:
    """Read a meta-dataset (published QTT-SEG format or the project's), CSV or Parquet.

    Args:
        path: the file.
        space: when given, each row's configuration is reduced to the hyperparameters active
            under the space's conditions, and every value is checked against the space.

    Returns:
        The rows as a :class:`MetaDataset` (``space`` set to the space's name when given).

    Raises:
        UsageError: unreadable file, missing columns, a row whose curve is all NaN, a negative
            or missing cost, a value the space does not allow (one line naming file, row, column).
    """
    path = Path(path)
    frame, n_failed = _without_failed_runs(_read_frame(path))
    if not len(frame):
        skipped = f" besides {n_failed} failed runs" if n_failed else ""
        raise UsageError(f"meta-dataset {path} has no rows{skipped}; give a file with recorded runs")
    kind = _format_of(frame.columns)
    if kind == "published":
        table = _from_published(frame, path)
    elif kind == "project":
        table = _from_project(frame, path)
    else:
        missing = [c for c in _PROJECT_REQUIRED if c not in frame.columns]
        raise UsageError(
            f"meta-dataset {path} is in neither known format: missing columns {', '.join(missing)} "
            "(project format) or epoch_<k>_iou (published QTT-SEG format); see qtt_core.metadataset.io"
        )
    _check_curves_and_costs(table, path)
    if space is not None:
        table.configs = [_reduce_to_space(config, space, path, row) for row, config in enumerate(table.configs)]
        table.space = str(space.name or "")
    return table


def _without_failed_runs(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The rows whose ``status`` (when there is the column) is not ``failed``, and how many were."""
    if "status" not in frame.columns:
        return frame, 0
    failed = frame["status"].astype(str).str.strip().str.lower().eq("failed").to_numpy()
    return frame[~failed].reset_index(drop=True), int(failed.sum())


def detect_format(path: str | Path) -> str:
    """``"published"``, ``"project"`` or ``"unknown"``, from the file's columns.

    Raises:
        UsageError: the file cannot be read.
    """
    return _format_of(_read_frame(Path(path)).columns)


def read_prompt(path: str | Path) -> str:
    """The prompt protocol of the runs in ``path`` (``box`` for a file without the column).

    Cheaper than :func:`read_meta_dataset` when only the protocol matters (no row is checked).

    Raises:
        UsageError: the file cannot be read, or its rows name several or unknown protocols.
    """
    path = Path(path)
    return _prompt_of(_read_frame(path), path)


def _prompt_of(frame: pd.DataFrame, path: Path) -> str:
    """The one protocol of the ``prompt`` column (empty cells and no column mean ``box``).

    Raises:
        UsageError: several protocols, or one that is not in :data:`PROMPT_PROTOCOLS`.
    """
    if "prompt" not in frame.columns:
        return "box"
    prompts = {str(p).strip() or "box" for p in frame["prompt"].fillna("box")}
    if len(prompts) > 1:
        raise UsageError(
            f"meta-dataset {path} mixes prompt protocols {sorted(prompts)}; split it into one file per protocol "
            "(learning curves differ by protocol)"
        )
    prompt = prompts.pop() if prompts else "box"
    if prompt not in PROMPT_PROTOCOLS:
        raise UsageError(f"meta-dataset {path}: prompt protocol {prompt!r} is not one of {', '.join(PROMPT_PROTOCOLS)}; fix the prompt column")
    return prompt


def _format_of(columns: Sequence[str]) -> str:
    if "config" in columns:
        return "project"
    if any(_PUBLISHED_EPOCH.match(str(c)) for c in columns):
        return "published"
    return "unknown"


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _read_frame(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise UsageError(f"meta-dataset {path} does not exist; give a CSV or Parquet file")
    try:
        if _is_parquet(path):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except ImportError:
        raise UsageError(f"reading {path} needs pyarrow; pip install 'qtt-seg[parquet]'") from None
    except Exception as error:  # noqa: BLE001 - pandas raises many kinds for bad files
        message = " ".join(str(error).split())[:200]
        raise UsageError(f"cannot read meta-dataset {path} ({type(error).__name__}: {message}); give a CSV or Parquet file") from None


def _epoch_columns(columns: Sequence[str], pattern: re.Pattern[str], first: int, path: Path) -> list[str]:
    """Epoch columns sorted by epoch; they must be consecutive from ``first``."""
    found = sorted((int(m.group(1)), c) for c in columns if (m := pattern.match(str(c))))
    numbers = [k for k, _ in found]
    if numbers != list(range(first, first + len(numbers))) or not numbers:
        raise UsageError(
            f"meta-dataset {path}: epoch columns must run {pattern.pattern} from {first} without gaps, found {numbers}"
        )
    return [c for _, c in found]


def _require(frame: pd.DataFrame, columns: Sequence[str], path: Path, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(f"meta-dataset {path} ({what}) lacks columns: {', '.join(missing)}")


def _from_published(frame: pd.DataFrame, path: Path) -> MetaDataset:
    _require(frame, PUBLISHED_HYPERPARAMETERS + _PUBLISHED_META_COLUMNS, path, "published QTT-SEG format")
    epoch_columns = _epoch_columns(frame.columns, _PUBLISHED_EPOCH, 0, path)
    known = set(PUBLISHED_HYPERPARAMETERS) | set(_PUBLISHED_META_COLUMNS) | set(epoch_columns) | {"prompt"}
    hp_frame = frame[list(PUBLISHED_HYPERPARAMETERS)]
    configs = [normalise_config(record) for record in hp_frame.to_dict("records")]
    resolution = [_parse_resolution(text, path, row) for row, text in enumerate(frame["default_resolution"])]
    metafeatures = np.column_stack(
        [
            _numeric(frame["num_samples"], path, "num_samples"),
            np.array([h for h, _ in resolution], dtype=float),
            np.array([w for _, w in resolution], dtype=float),
            _numeric(frame["num_channels"], path, "num_channels"),
            _numeric(frame["num_classes"], path, "num_classes"),
        ]
    )
    return MetaDataset(
        configs=configs,
        metafeatures=metafeatures,
        feature_names=list(PUBLISHED_FEATURES),
        datasets=[str(d) for d in frame["dataset"]],
        curves=np.column_stack([_numeric(frame[c], path, c) for c in epoch_columns]),
        cost_s=_numeric(frame["cost"], path, "cost"),
        extra=_extra_columns(frame, known),
        prompt=_prompt_of(frame, path),
    )


def _from_project(frame: pd.DataFrame, path: Path) -> MetaDataset:
    _require(frame, _PROJECT_REQUIRED, path, "project format")
    epoch_columns = _epoch_columns(frame.columns, _PROJECT_EPOCH, 1, path)
    feature_columns = [str(c) for c in frame.columns if str(c).startswith("mf_")]
    configs = [_parse_config(text, path, row) for row, text in enumerate(frame["config"])]
    if "config_id" in frame.columns:
        for row, (config, recorded) in enumerate(zip(configs, frame["config_id"])):
            if isinstance(recorded, str) and recorded and recorded != config_id(config):
                raise UsageError(
                    f"meta-dataset {path}: row {row + 1} has config_id {recorded} but its config hashes to "
                    f"{config_id(config)}; remove the config_id column or fix the config"
                )
    known = _PROJECT_KNOWN | set(epoch_columns) | set(feature_columns)
    spaces = {str(s) for s in frame["space"].dropna()} if "space" in frame.columns else set()
    if len(spaces) > 1:
        raise UsageError(f"meta-dataset {path} mixes search spaces {sorted(spaces)}; split it into one file per space")
    metafeatures = (
        np.column_stack([_numeric(frame[c], path, c) for c in feature_columns])
        if feature_columns
        else np.zeros((len(frame), 0))
    )
    return MetaDataset(
        configs=configs,
        metafeatures=metafeatures,
        feature_names=[c[len("mf_") :] for c in feature_columns],
        datasets=[str(d) for d in frame["dataset"]],
        curves=np.column_stack([_numeric(frame[c], path, c) for c in epoch_columns]),
        cost_s=_numeric(frame["cost_s"], path, "cost_s"),
        space=spaces.pop() if spaces else "",
        extra=_extra_columns(frame, known),
        prompt=_prompt_of(frame, path),
    )


def _numeric(column: pd.Series, path: Path, name: str) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & column.notna().to_numpy())
    if len(bad):
        raise UsageError(
            f"meta-dataset {path}: row {bad[0] + 1}, column {name}: {column.iloc[bad[0]]!r} is not a number"
        )
    return values.to_numpy(dtype=float)


def _parse_resolution(text: Any, path: Path, row: int) -> tuple[float, float]:
    numbers = re.findall(r"\d+(?:\.\d+)?", str(text))
    if len(numbers) != 2:
        raise UsageError(
            f"meta-dataset {path}: row {row + 1}, column default_resolution: {text!r} is not \"(H, W)\""
        )
    return float(numbers[0]), float(numbers[1])


def _parse_config(text: Any, path: Path, row: int) -> dict[str, Any]:
    try:
        config = json.loads(text)
    except (TypeError, ValueError):
        config = None
    if not isinstance(config, dict):
        raise UsageError(f"meta-dataset {path}: row {row + 1}, column config: {str(text)[:60]!r} is not a JSON object")
    return normalise_config(config)


def _extra_columns(frame: pd.DataFrame, known: set[str]) -> dict[str, list[Any]]:
    extra = {}
    for column in frame.columns:
        if str(column) not in known:
            extra[str(column)] = [_plain(v) for v in frame[column].tolist()]
    return extra


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _check_curves_and_costs(table: MetaDataset, path: Path) -> None:
    empty = np.flatnonzero(np.all(np.isnan(table.curves), axis=1))
    if len(empty):
        raise UsageError(
            f"meta-dataset {path}: row {empty[0] + 1} ({table.datasets[empty[0]]}) has no score at any epoch "
            f"({len(empty)} such rows); remove them"
        )
    bad_cost = np.flatnonzero(~(table.cost_s >= 0))  # also catches NaN
    if len(bad_cost):
        raise UsageError(
            f"meta-dataset {path}: row {bad_cost[0] + 1} has cost {table.cost_s[bad_cost[0]]!r}; "
            "costs must be seconds >= 0"
        )


def _reduce_to_space(config: dict[str, Any], space: ConfigurationSpace, path: Path, row: int) -> dict[str, Any]:
    """The active hyperparameters of ``config`` under ``space``'s conditions, checked.

    Raises:
        UsageError: a value the space does not allow, an unknown or a missing active
            hyperparameter (naming the row and the column).
    """
    from ConfigSpace.util import deactivate_inactive_hyperparameters

    where = f"meta-dataset {path}: row {row + 1}"
    unknown = sorted(set(config) - set(space))
    if unknown:
        raise UsageError(f"{where}: column {unknown[0]} is not a hyperparameter of space {space.name!r}")
    for name, value in config.items():
        if not space[name].legal_value(value):
            raise UsageError(
                f"{where}, column {name}: value {value!r} is not allowed in space {space.name!r}; "
                "read it with the space it was recorded in"
            )
    try:
        configuration = deactivate_inactive_hyperparameters(config, space)
        configuration.check_valid_configuration()
    except Exception as error:  # noqa: BLE001 - ConfigSpace raises several kinds
        message = " ".join(str(error).split())[:160]
        raise UsageError(f"{where}: not a valid configuration of space {space.name!r} ({message})") from None
    return normalise_config(dict(configuration))


# -- writing ------------------------------------------------------------------------------


def write_meta_dataset(meta_dataset: MetaDataset, path: str | Path) -> Path:
    """Write ``meta_dataset`` in the project's format (see the module docstring).

    Args:
        meta_dataset: the rows.
        path: ``.parquet``/``.pq`` for Parquet, anything else for CSV. Its folder is created.

    Returns:
        The path written.

    Raises:
        UsageError: Parquet without pyarrow.
    """
    path = Path(path)
    frame = to_frame(meta_dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    if _is_parquet(path):
        try:
            frame.to_parquet(path, index=False)
        except ImportError:
            raise UsageError(f"writing {path} needs pyarrow; pip install 'qtt-seg[parquet]' or write a .csv") from None
    else:
        frame.to_csv(path, index=False)
    return path


def to_frame(meta_dataset: MetaDataset) -> pd.DataFrame:
    """The project's format as a ``pandas.DataFrame``, one row per recorded run."""
    md = meta_dataset
    columns: dict[str, Any] = {
        "dataset": list(md.datasets),
        "config_id": [config_id(c) for c in md.configs],
        "config": [json.dumps(normalise_config(c), sort_keys=True) for c in md.configs],
    }
    for j, name in enumerate(md.feature_names):
        columns[f"mf_{name}"] = md.metafeatures[:, j].astype(float)
    for k in range(md.num_epochs):
        columns[f"epoch_{k + 1}_score"] = md.curves[:, k].astype(float)
    columns["cost_s"] = np.asarray(md.cost_s, dtype=float)
    columns["space"] = [md.space] * len(md)
    columns["prompt"] = [md.prompt] * len(md)
    for name, values in md.extra.items():
        if name in columns:
            raise UsageError(f"extra column {name!r} clashes with a column of the meta-dataset format; rename it")
        columns[name] = list(values)
    return pd.DataFrame(columns)
