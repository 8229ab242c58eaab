"""Conformance checks every registered provider must pass (like scikit-learn's
``parametrize_with_checks``). The test suite runs them over the registry; plugin authors
can call them in their own tests.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from qtt_core.adapter import ModelAdapter, SessionRequest, best_epoch
from qtt_core.space.counting import count_valid_configurations
from qtt_core.space.encoding import SpaceEncoder
from qtt_core.space.sampling import sample_configurations
from qtt_core.specs import MetaFeatureExtractor, SearchSpaceSpec
from qtt_core.testing.data import make_shapes_data

__all__ = ["check_adapter", "check_extractor", "check_space"]


def check_space(spec: SearchSpaceSpec, n_samples: int = 32) -> None:
    """The space loads, has a positive exact size, and its encoding round-trips."""
    space = spec.load()
    size = count_valid_configurations(space)
    assert isinstance(size, int) and size > 0, f"space {spec.name}: size {size}"
    configs = sample_configurations(space, n_samples, seed=0)
    assert configs, f"space {spec.name}: sampling gave nothing"
    encoder = SpaceEncoder(space)
    rows = encoder.encode(configs)
    assert rows.shape == (len(configs), encoder.dim)
    assert np.all((rows >= 0) & (rows <= 1)), f"space {spec.name}: encoding leaves [0, 1]"
    assert encoder.decode(rows) == configs, f"space {spec.name}: encoding does not round-trip"


def check_extractor(extractor: MetaFeatureExtractor) -> None:
    """Right keys, finite values, deterministic for a seed."""
    data = make_shapes_data(n_train=6, n_val=2, n_test=2, size=(48, 40), num_classes=2, seed=3)
    first = extractor.extract(data, seed=0)
    assert tuple(first) == tuple(extractor.feature_names), f"{extractor.name}: keys {list(first)}"
    assert all(math.isfinite(v) for v in first.values()), f"{extractor.name}: {first}"
    assert extractor.extract(data, seed=0) == first, f"{extractor.name}: not deterministic"


def check_adapter(
    adapter: ModelAdapter,
    model: str | None = None,
    config: dict[str, Any] | None = None,
    device: str = "cpu",
    registry: Any = None,
) -> None:
    """Freeze-thaw, deadline, scores in [0, 1], export and load_tuned on a tiny dataset, with
    sessions of each prompt protocol the adapter lists (``prompt_protocols()``).

    Args:
        model: the model to check (default: the adapter's last model name, by convention
            its smallest).
        config: a configuration to train (default: the default of the adapter's space).
        registry: where to look up the adapter's space (default: a new ``Registry()``).
    """
    from qtt_core.registry import Registry

    model = model or adapter.model_names()[-1]
    if config is None:
        space = (registry or Registry()).load_space(adapter.default_space(model))
        config = dict(space.get_default_configuration())
    data = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(64, 64), seed=1)
    for prompt in adapter.prompt_protocols():
        _check_sessions(adapter, model, config, device, data, prompt)


def _check_sessions(adapter: ModelAdapter, model: str, config: dict[str, Any], device: str, data: Any, prompt: str) -> None:
    """The checks of :func:`check_adapter` with sessions of one prompt protocol."""
    with tempfile.TemporaryDirectory() as tmp:
        request = SessionRequest(model=model, data=data, device=device, workdir=Path(tmp) / "work", seed=0, prompt=prompt)
        session = adapter.open_session(request)
        try:
            zero = session.zero_shot_score("val")
            assert 0.0 <= zero <= 1.0, f"{adapter.name}: zero-shot score {zero}"
            first = session.train("conf", config, to_epoch=1)
            assert [r.epoch for r in first] == [1], f"{adapter.name}: {first}"
            more = session.train("conf", config, to_epoch=2)
            assert [r.epoch for r in more] == [2], f"{adapter.name}: freeze-thaw repeated epochs: {more}"
            assert session.last_epoch("conf") == 2
            for report in first + more:
                assert 0.0 <= report.score <= 1.0 and report.cost_s >= 0.0, report
            none = session.train("conf", config, to_epoch=3, deadline=time.monotonic() - 1.0)
            assert none == [] and session.last_epoch("conf") == 2, f"{adapter.name}: deadline ignored"
            test_score = session.score("conf", "test")
            assert 0.0 <= test_score <= 1.0
            reports = first + more
            best = best_epoch([r.score for r in reports])
            kept = session.score("conf", "val", epoch=best)
            assert abs(kept - reports[best - 1].score) < 1e-4, f"{adapter.name}: epoch {best} scored {reports[best - 1].score}, its kept state {kept}"
            saved = session.epoch_reports("conf")
            assert not saved or [(r.epoch, round(r.score, 6)) for r in saved] == [(r.epoch, round(r.score, 6)) for r in reports], saved
            out = session.export("conf", Path(tmp) / "weights", epoch=best)
            tuned = adapter.load_tuned(out, device=device)
            image = data.split("test").image(0)
            assert getattr(tuned, "prompt", "box") == prompt, f"{adapter.name}: tuned with --prompt {prompt}, loaded as {getattr(tuned, 'prompt', 'box')}"
            label = tuned.predict(image) if prompt == "none" else tuned.predict(image, boxes=[[8, 8, 40, 40]])
            assert label.shape == image.shape[:2] and label.dtype == np.uint8
        finally:
            session.close()
