"""Helpers for tests (importable as ``helpers``: pyproject puts tests/ on the path)."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


SAM2_INSTALL = "pip install setuptools wheel && SAM2_BUILD_CUDA=0 pip install --no-build-isolation sam2==1.1.0"
RAY_INSTALL = "pip install 'qtt-seg[ray]'"


def require_sam2() -> None:
    """Skip the calling test module unless the optional ``sam2`` package is really installed."""
    from qtt_core.installed import package_installed

    if not package_installed("sam2", "build_sam"):
        pytest.skip(f"needs the optional sam2 package (SAM 2); to run these tests: {SAM2_INSTALL}", allow_module_level=True)


def require_ray() -> None:
    """Skip the calling test (module) unless the optional ``ray`` package is really installed."""
    from qtt_core.installed import package_installed

    if not package_installed("ray", "actor"):
        pytest.skip(f"needs the optional ray package (the ray executor); to run these tests: {RAY_INSTALL}", allow_module_level=True)


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the repository, or None when it is absent (a user's clone)."""
    path = REPO_ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


def require_shared(*parts: str) -> Path:
    """The path ``../shared/data/<parts>``; skips the test with a clear reason when absent."""
    root = shared_data_dir()
    if root is None or not root.joinpath(*parts).exists():
        pytest.skip(f"needs ../shared/data/{'/'.join(parts)} beside the repository (not in a plain clone)")
    return root.joinpath(*parts)


class CliResult:
    """What a command printed and its exit code."""

    def __init__(self, code: int, stdout: str, stderr: str):
        self.returncode = code
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"CliResult(code={self.returncode}, stdout={self.stdout[-500:]!r}, stderr={self.stderr[-500:]!r})"


def run_cli(*args: str) -> CliResult:
    """Run ``qtt-seg ARGS`` in this process (fast) through the console-script entry point."""
    import contextlib
    import io
    import sys

    from qtt_core.cli.main import run

    stdout, stderr = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["qtt-seg", *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            run()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv = argv
    return CliResult(code, stdout.getvalue(), stderr.getvalue())


def registry_with(*adapters: Any, meta_datasets: Sequence[Any] = ()) -> Any:
    """A registry holding only these model adapters and meta-dataset specs (no plugins loaded
    from the environment)."""
    from qtt_core.hookspecs import hookimpl
    from qtt_core.registry import Registry

    class Plugin:
        @hookimpl
        def qtt_model_adapters(self):
            return list(adapters)

        @hookimpl
        def qtt_meta_datasets(self):
            return list(meta_datasets)

    return Registry(autoload=False, plugins=[Plugin()])


def kill_and_resume_mock_tune(tmp_path: Path, budget_s: float, workers: int, kill_after_s: float) -> tuple[dict, dict, list[dict[str, Any]], Path]:
    """Run a mock ``tune`` in a subprocess, SIGKILL it ``kill_after_s`` after its first trial row,
    then resume it to the end.

    Returns:
        (state.json before the resume, result.json, the rows of trials.csv, the run folder).
    """
    out = tmp_path / "run"
    command = [sys.executable, str(Path(__file__).with_name("kill_injection.py")), "none", "mock", str(out), str(budget_s), str(workers), "0.25"]
    process = subprocess.Popen(command, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out / "trials.csv").is_file():
        time.sleep(0.1)
    time.sleep(kill_after_s)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "result.json").exists(), "the run ended before it was killed"
    before = json.loads((out / "state.json").read_text())
    subprocess.run([*command, "resume"], check=True, timeout=120)
    result = json.loads((out / "result.json").read_text())
    return before, result, list(csv.DictReader((out / "trials.csv").open())), out


# ------------------------------------------------------------ SAM-family plugin tests


@contextmanager
def session_opener(adapter: Any, **defaults: Any) -> Iterator[Callable[..., Any]]:
    """``open(**request_fields)``: sessions of ``adapter`` with ``defaults``; all closed on exit."""
    from qtt_core.adapter import SessionRequest

    sessions = []

    def _open(**fields: Any) -> Any:
        session = adapter.open_session(SessionRequest(**{**defaults, **fields}))
        sessions.append(session)
        return session

    try:
        yield _open
    finally:
        for session in sessions:
            session.close()


def frozen_base(wrapper: Any) -> Any:
    """The wrapper's model with every parameter frozen (what the engine starts from)."""
    base = wrapper.build()
    base.requires_grad_(False)
    return base


def parameter_names(base: Any, prefix: str) -> set[str]:
    """Names of ``base``'s parameters under ``prefix``."""
    return {name for name, _ in base.named_parameters() if name.startswith(prefix)}


def trainable_names(wrapper: Any, base: Any, **config: Any) -> set[str]:
    """Names of the parameters that train under ``config`` (built by the engine on ``base``)."""
    from qtt_engine import TrainConfig, build_model

    model, _ = build_model(wrapper, base, TrainConfig.from_mapping(config, wrapper.part_defaults))
    return {name for name, p in model.named_parameters() if p.requires_grad}


def flat_curve(reports: Any) -> list[float]:
    """Epochs, losses and scores of epoch reports as one flat list (for pytest.approx)."""
    return [value for r in reports for value in (r.epoch, r.train_loss, r.score)]


def check_freeze_thaw(open_session: Callable[..., Any], tmp_path: Path, config: dict, other: dict) -> None:
    """Training ``config`` 2 + 2 epochs (``other`` in between, or in a new session on the same
    workdir) gives exactly the curve and test score of 4 epochs straight."""
    straight = open_session(workdir=tmp_path / "straight").train("c", config, to_epoch=4)
    assert [r.epoch for r in straight] == [1, 2, 3, 4]

    resumed = open_session(workdir=tmp_path / "resumed")
    first = resumed.train("c", config, to_epoch=2)
    resumed.train("other", other, to_epoch=1)  # another configuration in between
    second = resumed.train("c", config, to_epoch=4)
    assert flat_curve(first + second) == pytest.approx(flat_curve(straight), rel=1e-5, abs=1e-7)
    resumed_score = resumed.score("c", "test")
    resumed.close()
    assert open_session(workdir=tmp_path / "resumed").last_epoch("c") == 4

    # a new session (a new process) continues from the state saved in the workdir
    across = open_session(workdir=tmp_path / "across")
    across.train("c", config, to_epoch=2)
    across.close()
    reopened = open_session(workdir=tmp_path / "across")
    assert reopened.last_epoch("c") == 2
    assert flat_curve(reopened.train("c", config, to_epoch=4)) == pytest.approx(flat_curve(straight[2:]), rel=1e-5, abs=1e-7)
    assert reopened.score("c", "test") == pytest.approx(resumed_score, abs=1e-9)


def check_mixed_precision(open_session: Callable[..., Any], config: dict) -> None:
    """bf16 on the CPU: the decoder runs under bf16 autocast, trained tensors stay float32, the
    loss stays finite; and the fp16 step with its loss scaler (CUDA's path) runs through the
    engine's context on the CPU, where fp16 autocast also exists."""
    import dataclasses

    import torch

    from qtt_engine import TrainConfig, build_trial, train_epoch

    session = open_session(precision="bf16")
    dtypes: list[torch.dtype] = []
    decode = session.wrapper.decode

    def recording_decode(*args: Any, **kwargs: Any) -> Any:
        logits = decode(*args, **kwargs)
        dtypes.extend(item.dtype for item in logits)
        return logits

    session.wrapper.decode = recording_decode
    reports = session.train("c", config, to_epoch=2)
    assert [r.epoch for r in reports] == [1, 2] and all(math.isfinite(r.train_loss) for r in reports)
    assert dtypes and set(dtypes) == {torch.bfloat16}
    assert {t.dtype for t in session.history("c").trainable.values()} == {torch.float32}
    assert 0.0 <= session.score("c", "test") <= 1.0

    context = dataclasses.replace(session.context, precision="fp16")
    settings = TrainConfig.from_mapping(config, session.wrapper.part_defaults)
    trial = build_trial(session.wrapper, session.base, settings, max_epochs=4, steps_per_epoch=2, seed=0)
    before = {name: p.detach().clone() for name, p in trial.model.named_parameters() if p.requires_grad}
    loss = train_epoch(context, trial, None)
    assert loss is not None and math.isfinite(loss)
    assert isinstance(trial.scaler, torch.amp.GradScaler)
    moved = [name for name, p in trial.model.named_parameters() if p.requires_grad and not torch.equal(p, before[name])]
    assert moved, "no fp16 step changed a weight"
