"""A tuning session over any :class:`PromptableModel`: freeze-thaw training, scores, export."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from qtt_core.adapter import PROMPT_PROTOCOLS, ClassScores, EpochReport, SessionRequest, TrialFailed, TuningSession, best_epoch
from qtt_core.errors import UsageError
from qtt_core.files import write_atomic
from qtt_core.precision import resolve_precision
from qtt_core.space.identity import normalise_config
from qtt_engine.cache import EmbeddingCache, SampleStore
from qtt_engine.config import TrainConfig
from qtt_engine.loop import EngineContext, NonFiniteLoss, evaluate, input_side, train_epoch
from qtt_engine.metrics import IoUAccumulator
from qtt_engine.protocol import PromptableModel, supports_prompt_free
from qtt_engine.trial import Trial, TrialState, build_trial, trainable_state

__all__ = ["DEFAULT_OPTIONS", "EngineSession"]

#: ``SessionRequest.options`` the engine reads, with their defaults
DEFAULT_OPTIONS: dict[str, Any] = {
    "max_epochs": 10,  # the schedules' horizon (the tuner's largest fidelity)
    "eval_batch_size": 8,
    "cache_embeddings": True,
    "embedding_cache_mb": 2048,
    "export_merged": False,
}


class EngineSession(TuningSession):
    """Trains configurations of one model on one dataset, freeze-thaw style.

    One configuration is live (model on the device) at a time; every configuration's
    state after its last finished epoch is kept in memory and, with a ``workdir``, in
    ``workdir/trials/<config_id>.pt``, so another session (another process) continues it.
    When a later epoch scores lower than an earlier one, the best validated epoch's state is
    kept beside it (``<config_id>.best.pt``, removed once a later epoch is at least as good),
    so at most two states per configuration are on disk.

    With ``request.prompt == "none"`` the base model gets a class head (one output token per
    label, :mod:`qtt_engine.dense`), whose decoder trains in every configuration, and every
    score is measured without prompts; the zero-shot score is then that of the untrained head.

    Args:
        wrapper: the model wrapper.
        request: model, data, device, workdir, seed, prompt protocol and options (see
            :data:`DEFAULT_OPTIONS`).

    Raises:
        UsageError: unknown options, or ``prompt="none"`` for a wrapper without
            :class:`~qtt_engine.protocol.PromptFreeModel`.
    """

    def __init__(self, wrapper: PromptableModel, request: SessionRequest):
        unknown = set(request.options) - set(DEFAULT_OPTIONS)
        if unknown:
            raise UsageError(f"unknown session options {sorted(unknown)}; known: {sorted(DEFAULT_OPTIONS)}")
        if request.prompt not in PROMPT_PROTOCOLS or (request.prompt == "none" and not supports_prompt_free(wrapper)):
            raise UsageError(f"{wrapper.model_name} cannot be tuned with --prompt {request.prompt}; use --prompt box")
        self.wrapper = wrapper
        self.request = request
        self.always_trained: tuple[str, ...] = ()  # the class head's decoder, without prompts
        self.options = {**DEFAULT_OPTIONS, **request.options}
        self.device = torch.device(request.device)
        self.precision = resolve_precision(request.precision, str(self.device))
        self.workdir = Path(request.workdir) if request.workdir is not None else None
        budget = int(self.options["embedding_cache_mb"] * 2**20) if self.options["cache_embeddings"] else 0
        if self.device.type == "cuda":
            configure_cuda()
        self.context = EngineContext(
            wrapper, SampleStore(request.data), EmbeddingCache(*_cache_budgets(budget, self.device)), self.device,
            int(request.data.num_classes), int(self.options["eval_batch_size"]), self.precision, prompt=request.prompt,
        )
        self._base: torch.nn.Module | None = None
        self._states: dict[str, TrialState] = {}
        self._best_states: dict[str, TrialState] = {}  # only where the best epoch is not the latest
        self._live: tuple[str, Trial] | None = None
        self._zero_shot: dict[str, IoUAccumulator] = {}
        self._scored: dict[tuple[str, str, int | None], IoUAccumulator] = {}  # (config, split, epoch) -> last score's sums
        self._step_s: dict[str, float] = {}  # per configuration: seconds of its last step
        self._eval_s: dict[int, float] = {}  # per input side: seconds of the last validation

    # -- the base model -------------------------------------------------------------------

    @property
    def base(self) -> torch.nn.Module:
        """The wrapper's model with its weights, frozen, on the device (built on first use)."""
        if self._base is None:
            _import_peft()  # now, so that its import time (seconds) is not billed to an epoch
            base = self.wrapper.build()
            if self.request.prompt == "none":
                self.always_trained = (self.wrapper.add_class_head(base, int(self.request.data.num_classes) + 1),)
            base.requires_grad_(False)
            self._base = base.to(self.device).eval()
        return self._base

    def prepare(self) -> None:
        """Build the base model (and import peft) now, not inside the first epoch."""
        _ = self.base

    def zero_shot_score(self, split: str = "val") -> float:
        """Mean IoU of the untuned model with the evaluation prompts."""
        if split not in self._zero_shot:
            side = input_side(self.wrapper, 1.0)
            started = time.monotonic()
            self._zero_shot[split] = evaluate(self.context, self.base, self._split(split), side, False, True)
            if split == "val":  # a first estimate of validation time, for deadlines
                self._eval_s.setdefault(side, time.monotonic() - started)
        return self._zero_shot[split].score()

    # -- freeze-thaw ----------------------------------------------------------------------

    def train(self, config_id: str, config: Mapping[str, Any], to_epoch: int, deadline: float | None = None) -> list[EpochReport]:
        settings = TrainConfig.from_mapping(config, self.wrapper.part_defaults)
        state = self._state(config_id)
        done = state.epoch if state is not None else 0
        self._scored = {key: sums for key, sums in self._scored.items() if key[0] != config_id}  # its scores change
        if to_epoch <= done or (deadline is not None and time.monotonic() >= deadline):
            return []
        started = time.monotonic()
        try:
            with self._rng_scope():
                trial = self._activate(config_id, settings, normalise_config(config), state)
                return self._train_epochs(config_id, trial, done, to_epoch, deadline, started)
        except (NonFiniteLoss, RuntimeError) as error:  # NaN loss, out of memory, a torch error
            self._drop_live()
            raise TrialFailed(config_id, f"{type(error).__name__}: {error}") from error

    def _train_epochs(
        self, config_id: str, trial: Trial, done: int, to_epoch: int, deadline: float | None, started: float
    ) -> list[EpochReport]:
        reports = []
        side = input_side(self.wrapper, trial.config.resolution_scale)
        trial.step_s = max(trial.step_s, self._step_s.get(config_id, 0.0))
        for epoch in range(done + 1, to_epoch + 1):
            loss = train_epoch(self.context, trial, deadline)
            self._step_s[config_id] = trial.step_s
            if loss is None or (deadline is not None and time.monotonic() + self._eval_s.get(side, 0.0) > deadline):
                self._drop_live()  # the unfinished epoch is discarded; the last state stays
                break
            eval_started = time.monotonic()
            score = self._evaluate(trial, "val").score()
            self._eval_s[side] = time.monotonic() - eval_started
            trial.schedule.after_epoch(epoch, score)
            cost_s = time.monotonic() - started
            self._snapshot(config_id, trial, epoch, loss, score, cost_s)
            reports.append(EpochReport(config_id, epoch, score, cost_s, loss))
            started = time.monotonic()
        return reports

    def last_epoch(self, config_id: str) -> int:
        state = self._state(config_id)
        return state.epoch if state is not None else 0

    def history(self, config_id: str) -> TrialState | None:
        """The saved state of ``config_id`` (with its per-epoch losses, scores, costs)."""
        return self._state(config_id)

    def epoch_reports(self, config_id: str) -> list[EpochReport]:
        state = self._state(config_id)
        if state is None:
            return []
        return [
            EpochReport(config_id, epoch, score, cost_s, loss)
            for epoch, (loss, score, cost_s) in enumerate(zip(state.losses, state.scores, state.costs_s), start=1)
        ]

    def score(self, config_id: str, split: str = "test", epoch: int | None = None) -> float:
        sums = self._evaluate(self._require(config_id, epoch), split)
        self._scored[(config_id, split, epoch)] = sums
        return sums.score()

    def class_scores(self, config_id: str | None, split: str = "test", epoch: int | None = None) -> ClassScores:
        """Per-class IoU and Dice; from the last :meth:`score` (or zero-shot score) of the same
        model and split when there was one, else evaluated now."""
        if config_id is None:
            self.zero_shot_score(split)
            sums = self._zero_shot[split]
        else:
            if (config_id, split, epoch) not in self._scored:
                self.score(config_id, split, epoch)
            sums = self._scored[(config_id, split, epoch)]
        return sums.class_scores(list(self.request.data.class_names))

    def export(self, config_id: str, out_dir: Path, epoch: int | None = None, merged: bool | None = None) -> Path:
        """Write ``config_id``'s tuned weights (see :mod:`qtt_engine.export`).

        Args:
            epoch: None or the last epoch (its latest state), or its best validated epoch.
            merged: also write the full merged weights (default: the ``export_merged`` option).
        """
        from qtt_engine.export import export_trial

        trial = self._require(config_id, epoch)
        state = self._kept_state(config_id, epoch)
        merged = bool(self.options["export_merged"]) if merged is None else merged
        legend = getattr(self.request.data, "legend", None)
        return export_trial(
            self.wrapper, trial, state, Path(out_dir), self.request.data.class_names, merged=merged, legend=legend,
            prompt=self.request.prompt, always_trained=self.always_trained,
        )

    def release(self, config_id: str) -> None:
        if self._live is not None and self._live[0] in (config_id, _best_key(config_id)):
            self._drop_live()
        if self.workdir is not None:
            self._states.pop(config_id, None)
            self._best_states.pop(config_id, None)

    def close(self) -> None:
        self._drop_live()
        self._states.clear()
        if self.context.cache is not None:
            self.context.cache.clear()
        self._base = None
        _free_memory(self.device)

    # -- internals ------------------------------------------------------------------------

    def _evaluate(self, trial: Trial, split: str) -> IoUAccumulator:
        """The trial's model's IoU sums at its input side (cached embeddings if its encoder is frozen)."""
        side = input_side(self.wrapper, trial.config.resolution_scale)
        per_component = bool(trial.config.box_per_component)
        frozen = not trial.config.encoder_trainable
        return evaluate(self.context, trial.model, self._split(split), side, per_component, frozen)

    def _split(self, split: str) -> str:
        """``split``, or ``train`` when the dataset has no samples in it."""
        return split if self.context.store.size(split) > 0 else "train"

    def _seed(self, config_id: str) -> int:
        digest = hashlib.sha256(f"{self.request.seed}:{config_id}".encode()).digest()
        return int.from_bytes(digest[:4], "little")

    def _steps_per_epoch(self, settings: TrainConfig) -> int:
        return max(1, -(-self.context.store.size("train") // settings.batch_size))

    @contextmanager
    def _rng_scope(self) -> Iterator[None]:
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            yield

    def _activate(self, config_id: str, settings: TrainConfig, config: dict[str, Any], state: TrialState | None) -> Trial:
        """The live trial of ``config_id``, built (and restored from ``state``) if needed."""
        if self._live is not None and self._live[0] == config_id and self._live[1].config == settings:
            trial = self._live[1]
        else:
            self._drop_live()
            max_epochs, steps = int(self.options["max_epochs"]), self._steps_per_epoch(settings)
            base = self.base  # first: building it sets always_trained
            trial = build_trial(self.wrapper, base, settings, max_epochs, steps, self._seed(config_id), self.always_trained)
            trial.model.to(self.device)
            if state is not None:
                _restore(trial, state, config_id)
            trial.raw_config = config
            self._live = (config_id, trial)
        torch.set_rng_state(trial.torch_rng)
        if trial.cuda_rng is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(trial.cuda_rng, self.device)
        return trial

    def _require(self, config_id: str, epoch: int | None = None) -> Trial:
        """The trial of ``config_id`` at ``epoch`` (None: its latest state), live on the device."""
        state = self._kept_state(config_id, epoch)
        settings = TrainConfig.from_mapping(state.config, self.wrapper.part_defaults)
        key = config_id if state.epoch == self.last_epoch(config_id) else _best_key(config_id)
        with self._rng_scope():
            return self._activate(key, settings, state.config, state)

    def _kept_state(self, config_id: str, epoch: int | None) -> TrialState:
        """The saved state of ``config_id`` after ``epoch``: its latest (None), or its best validated epoch.

        Raises:
            UsageError: never trained here or in the workdir.
            ValueError: ``epoch`` is neither its last nor its best validated epoch (not kept).
        """
        latest = self._state(config_id)
        if latest is None:
            raise UsageError(f"configuration {config_id} has not been trained in this session or its workdir; train it first")
        if epoch is None or epoch == latest.epoch:
            return latest
        best = best_epoch(latest.scores)
        if epoch != best:
            raise ValueError(f"epoch {epoch} of {config_id} is not kept: only its last ({latest.epoch}) and best validated ({best}) are")
        kept = self._best_state(config_id)
        if kept is None or kept.epoch != best:
            found = "none" if kept is None else f"epoch {kept.epoch}"
            raise UsageError(f"the best epoch ({best}) of {config_id} is not in {self._state_path(config_id, best=True) if self.workdir else 'memory'} "
                             f"({found} there); the sessions folder is damaged, start a new run")
        return kept

    def _snapshot(self, config_id: str, trial: Trial, epoch: int, loss: float, score: float, cost_s: float) -> None:
        trial.torch_rng = torch.get_rng_state()
        if self.device.type == "cuda":
            trial.cuda_rng = torch.cuda.get_rng_state(self.device)
        previous = self._state(config_id)
        history = (previous.losses, previous.scores, previous.costs_s) if previous is not None else ([], [], [])
        state = TrialState(
            config=dict(trial.raw_config),
            epoch=epoch,
            trainable=trainable_state(trial.model),
            optimizer=_to_cpu(trial.optimizer.state_dict()),
            schedule=trial.schedule.state_dict(),
            numpy_rng=trial.rng.bit_generator.state,
            torch_rng=trial.torch_rng.clone(),
            cuda_rng=trial.cuda_rng.clone() if trial.cuda_rng is not None else None,
            losses=[*history[0], loss],
            scores=[*history[1], score],
            costs_s=[*history[2], cost_s],
        )
        self._keep_best(config_id, previous, state)
        self._states[config_id] = state
        if self.workdir is not None:
            _save_state(self._state_path(config_id), state)
            if best_epoch(state.scores) == epoch:  # written after the latest: a kill between leaves a stale file the epoch check rejects
                self._state_path(config_id, best=True).unlink(missing_ok=True)

    def _keep_best(self, config_id: str, previous: TrialState | None, state: TrialState) -> None:
        """Before ``state`` replaces ``previous``: keep ``previous`` when it is the best epoch and ``state`` is worse."""
        best = best_epoch(state.scores)
        if best == state.epoch:
            self._best_states.pop(config_id, None)
        elif previous is not None and best == previous.epoch:
            self._best_states[config_id] = previous
            if self.workdir is not None:
                _save_state(self._state_path(config_id, best=True), previous)

    def _best_state(self, config_id: str) -> TrialState | None:
        if config_id not in self._best_states and self.workdir is not None:
            loaded = _load_state(self._state_path(config_id, best=True))
            if loaded is not None:
                self._best_states[config_id] = loaded
        return self._best_states.get(config_id)

    def _state(self, config_id: str) -> TrialState | None:
        if config_id not in self._states and self.workdir is not None:
            loaded = _load_state(self._state_path(config_id))
            if loaded is not None:
                self._states[config_id] = loaded
        return self._states.get(config_id)

    def _state_path(self, config_id: str, best: bool = False) -> Path:
        assert self.workdir is not None
        return self.workdir / "trials" / f"{config_id}{'.best' if best else ''}.pt"

    def _drop_live(self) -> None:
        if self._live is not None:
            self._live = None
            _free_memory(self.device)


def configure_cuda() -> None:
    """cuDNN picks its fastest kernels per input shape (each configuration keeps one side), and
    float32 matrix products may use TF32 (ample for fine-tuning; bf16/fp16 autocast is coarser)."""
    torch.backends.cudnn.benchmark = True
    torch.set_float32_matmul_precision("high")


def _cache_budgets(total_bytes: int, device: torch.device) -> tuple[int, int]:
    """``(on the device, in host memory)`` bytes of the embedding cache: on CUDA, up to a third
    of the GPU's free memory stays on the GPU and the rest goes to host memory; elsewhere all of
    it stays where it was computed."""
    if device.type != "cuda":
        return total_bytes, 0
    free_bytes, _ = torch.cuda.mem_get_info(device)
    on_device = min(total_bytes, free_bytes // 3)
    return on_device, total_bytes - on_device


def _import_peft() -> None:
    import peft  # noqa: F401 - imported for its side effect of being loaded


def _restore(trial: Trial, state: TrialState, config_id: str) -> None:
    names = set(trial.trainable_names())
    if names != set(state.trainable):
        raise TrialFailed(config_id, f"saved state does not fit the configuration ({len(names ^ set(state.trainable))} parameters differ)")
    parameters = dict(trial.model.named_parameters())
    with torch.no_grad():
        for name, value in state.trainable.items():
            parameters[name].copy_(value)
    trial.optimizer.load_state_dict(state.optimizer)
    trial.schedule.load_state_dict(state.schedule)
    trial.rng.bit_generator.state = state.numpy_rng
    trial.torch_rng = state.torch_rng.clone()
    trial.cuda_rng = state.cuda_rng.clone() if state.cuda_rng is not None else None


def _best_key(config_id: str) -> str:
    """The live-trial key of ``config_id``'s best-epoch state (never trained on from there)."""
    return f"{config_id}@best"


def _save_state(path: Path, state: TrialState) -> None:
    """Write ``state`` to ``path`` durably (temporary file, fsync, rename)."""
    buffer = io.BytesIO()
    torch.save(state.to_dict(), buffer)
    write_atomic(path, buffer.getvalue())


def _load_state(path: Path) -> TrialState | None:
    """The state saved in ``path``; None when there is none.

    Raises:
        UsageError: the file cannot be read (truncated or damaged).
    """
    if not path.is_file():
        return None
    try:
        return TrialState.from_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same advice
        raise UsageError(
            f"{path} cannot be read ({type(error).__name__}); delete it to train that configuration again, or start a new run"
        ) from None


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: _to_cpu(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_cpu(item) for item in value]
    return value


def _free_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()

