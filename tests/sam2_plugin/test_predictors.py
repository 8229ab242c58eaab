"""The predictors meta-trained on the paper's SAM 2 runs ship with the plugin and load."""

from __future__ import annotations

from helpers import require_sam2

require_sam2()

from qtt_core.registry import Registry  # noqa: E402
from qtt_core.surrogates import load_predictors  # noqa: E402
from qtt_sam2.meta import PREDICTORS_DIR, SAM2_MODELS  # noqa: E402


def test_the_meta_dataset_spec_names_the_shipped_predictors():
    registry = Registry()
    spec = registry.meta_datasets.get("qtt-seg-sam2-dev")
    assert spec.predictors == PREDICTORS_DIR and spec.space == "qtt-seg-sam2"
    assert set(spec.models) == set(SAM2_MODELS) == {n for n in registry.adapters.get("sam2").model_names() if n.startswith("sam2.1-")}
    assert spec.url and spec.url.endswith("finetuning_results_sam.csv")


def test_shipped_predictors_load_and_are_meta_trained():
    performance, cost = load_predictors(PREDICTORS_DIR)
    assert performance.meta_trained and cost.meta_trained
    assert performance.max_epochs == 10
    assert sum(f.stat().st_size for f in PREDICTORS_DIR.glob("*.safetensors")) < 2_000_000
