"""Meta-datasets by name (contributed through the ``qtt_meta_datasets`` hook) and the published file's URL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qtt_core.checkpoints import fetch_checkpoint
from qtt_core.errors import UsageError
from qtt_core.metadataset.io import read_meta_dataset
from qtt_core.metadataset.table import MetaDataset
from qtt_core.specs import MetaDatasetSpec

if TYPE_CHECKING:
    from qtt_core.registry import Registry

__all__ = [
    "PUBLISHED_QTT_SEG_URL",
    "fetch_meta_dataset_file",
    "load_named_meta_dataset",
]

#: the meta-dataset the QTT-SEG authors published (SAM 2.1 hiera-tiny, 8+ datasets), pinned to a commit
PUBLISHED_QTT_SEG_URL = (
    "https://raw.githubusercontent.com/ds-brx/QTT-SEG/be2d1451ab579e45c9a652b73efb588151b666d9/"
    "src/finetune_wrapper/finetuning_results_sam.csv"
)


def load_named_meta_dataset(registry: Registry, name: str, cache_dir: str | Path | None = None) -> MetaDataset:
    """The meta-dataset a plugin registered as ``name``, reduced to its search space's active values.

    Reads ``spec.path`` when it exists, else downloads ``spec.url`` (see
    :func:`fetch_meta_dataset_file`). When the spec's space is registered, configurations are
    reduced to their active hyperparameters and checked against it.

    Raises:
        UnknownNameError: no plugin registered ``name`` (lists the known names).
        UsageError: the file is missing and cannot be downloaded, or is not a valid meta-dataset.
    """
    spec = registry.meta_datasets.get(name)
    space = registry.load_space(spec.space) if spec.space and spec.space in registry.spaces.names() else None
    if spec.path is not None and Path(spec.path).is_file():
        return read_meta_dataset(spec.path, space=space)
    if spec.url:
        return read_meta_dataset(fetch_meta_dataset_file(spec, cache_dir=cache_dir), space=space)
    raise UsageError(f"meta-dataset {name!r}: file {spec.path} does not exist and no URL is known; ask the plugin's author")


def fetch_meta_dataset_file(spec: MetaDatasetSpec, cache_dir: str | Path | None = None) -> Path:
    """Download ``spec.url`` into the cache through the core's file fetcher (``qtt_core.checkpoints``).

    Raises:
        UsageError: the download failed (offline: the message says where to put the file by hand).
    """
    filename = spec.url.rsplit("/", 1)[-1] if spec.url else f"{spec.name}.csv"
    return Path(
        fetch_checkpoint(
            name=f"meta-dataset-{spec.name}-{filename}",
            url=spec.url,
            sha256=spec.extra.get("sha256"),
            local_path=spec.path,
            cache_dir=cache_dir,
        )
    )
