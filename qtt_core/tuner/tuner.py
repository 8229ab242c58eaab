"""The budgeted tuning run: data, predictors, zero-shot, ask/tell with freeze-thaw, refit, report.

The budget is a promise: from the call to ``result.json`` written, everything included, the
run takes at most the budget plus a few seconds. Training gets what is left after a reserve
for the final evaluation, export and report, estimated from the measured zero-shot pass, and
after the time the planned refit of the incumbent on train + val needs
(:mod:`qtt_core.tuner.refit`).
A killed run resumes from its folder with the time that was left: the budget counts the seconds
all of the run's processes spent (:mod:`qtt_core.tuner.clock`), every asked trial is recorded
before it trains, and epochs a killed process saved but did not record are recovered with
their real cost. The final phase (refit, test score, export) is recorded in the state, so a
resume after it starts does not search again, and a finished run refuses ``--resume``.

The run returns the best validated epoch of any configuration (sessions keep that epoch's
state), and the refit trains the chosen configuration to that epoch.

With ``workers > 1`` that many trials train at once (:mod:`qtt_core.tuner.workers`): the
optimiser asks with ``reserve=True`` whenever a worker is free, knowing which trials are in
flight; results are told and recorded as they arrive, and only this driver writes the run's
files. Trials in flight when a run was killed are asked again on resume.

Every session of a run (the search's, the workers', the refit's) prompts as ``settings.prompt``
says (:data:`qtt_core.adapter.PROMPT_PROTOCOLS`): ``box``, ground-truth boxes, compared with the
untuned (zero-shot) model; ``none``, no prompts, where the untuned model's pass only measures
the time and the run is compared with the most-frequent-class baseline
(:mod:`qtt_core.data.baseline`), which every run reports.

This module holds the set-up and the search loops; the other jobs have modules of their own:
what the optimiser starts from (:mod:`~qtt_core.tuner.knowledge`), the saved state
(:mod:`~qtt_core.tuner.state`), the final phase (:mod:`~qtt_core.tuner.final`), the start-up
record (:mod:`~qtt_core.tuner.startup`), the run folder (:mod:`~qtt_core.tuner.rundir`) and the
budget clock (:mod:`~qtt_core.tuner.clock`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
import traceback
from pathlib import Path
from typing import Any

from qtt_core.adapter import PROMPT_PROTOCOLS, EpochReport, ModelAdapter, SessionRequest, TuningSession, failure_reason
from qtt_core.data.baseline import Baseline, most_frequent_class_baseline
from qtt_core.errors import UsageError
from qtt_core.optimizer.base import Optimizer
from qtt_core.precision import resolve_device, resolve_precision
from qtt_core.registry import Registry
from qtt_core.space import config_id, map_into_space, sample_configurations
from qtt_core.tuner.clock import BudgetClock, Heartbeat, read_heartbeat
from qtt_core.tuner.final import REPORT_RESERVE_S, FinalPhase, TuneResult, per_class_record
from qtt_core.tuner.history import ROW_COLUMNS, EpochRow, History
from qtt_core.tuner.knowledge import check_knowledge, find_knowledge
from qtt_core.tuner.progress import NullProgress, Progress
from qtt_core.tuner.refit import RefitPlan, plan_refit
from qtt_core.tuner.rundir import RunDirectory
from qtt_core.tuner.settings import TuneSettings
from qtt_core.tuner.startup import StartupTimer
from qtt_core.tuner.state import RunState, ZeroShot

__all__ = ["TuneResult", "tune"]

log = logging.getLogger("qtt_seg.tune")

#: seconds past the training deadline that parallel workers may take to stop at a step boundary
STRAGGLER_GRACE_S = 2.0
#: what ``run.log`` says about each prompt protocol, first thing (how the run scores, what it compares with)
PROMPT_LINES = {
    "box": "prompts: box - one box per object from the ground truth (the paper's protocol); results are compared "
           "with the untuned (zero-shot) model and with predicting the most frequent class",
    "none": "prompts: none - the model segments without prompts; the untuned model has no prompt-free output, "
            "so results are compared with predicting the most frequent class",
}
#: settings a resume takes from its own call (where and how it runs), not from the saved run
RUNTIME_SETTINGS = ("device", "precision", "workers", "executor", "address", "cpus_per_job", "gpus_per_job")


def tune(
    data: Any,
    budget_s: float,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    registry: Registry | None = None,
    progress: Progress | None = None,
    started: float | None = None,
    **options: Any,
) -> TuneResult:
    """Tune a model to ``data`` within ``budget_s`` seconds; see :class:`TuneSettings` for ``options``.

    Args:
        data: a dataset path (folder, CSV/Parquet) or an object following
            :class:`qtt_core.data.SegmentationData`.
        out: the run folder (default ``qtt-seg-runs/<model>-<time>``); must be new or empty
            unless ``resume``.
        resume: continue the run in ``out`` with its saved settings, but for where and how it
            runs (:data:`RUNTIME_SETTINGS`), which come from this call.
        started: the ``time.monotonic()`` value the budget counts from (default: now; the
            command line passes its process's start).

    Raises:
        UsageError: bad input, found before any training.
    """
    clock = BudgetClock(float(budget_s), started=time.monotonic() if started is None else started)
    startup = StartupTimer(clock, resumed=resume)
    startup.mark("before tune()")
    registry = registry or Registry()
    settings = TuneSettings(data=str(data) if isinstance(data, (str, Path)) else type(data).__name__, budget_s=float(budget_s), **options)
    if not settings.model:
        settings.model = registry.default_model()
    if settings.budget_s <= 0:
        raise UsageError(f"--budget must be a positive number of seconds, got {budget_s}")
    _check_parallel(settings)
    resolve_precision(settings.precision, resolve_device(settings.device))  # fp16 without CUDA stops here
    startup.mark("torch")  # imported by the device check, unless the caller had it
    if not resume:
        _check_prompt(settings, registry.adapter_for(settings.model))  # an unknown model or prompt stops here, before any file is written
        check_knowledge(settings, registry)
    if resume:
        run = RunDirectory.create(out, settings.model, resume=True)
        state = RunState.from_json(run.read_json(run.state))
        runtime = {name: getattr(settings, name) for name in RUNTIME_SETTINGS}
        settings = dataclasses.replace(TuneSettings.from_dict(state.settings), **runtime)
        clock.budget_s = settings.budget_s
        clock.spent_before_s = max(float(state.elapsed_s), read_heartbeat(run.heartbeat))
        dataset = _load_data(data, settings, run.split if run.split.is_file() else None)
    else:
        RunDirectory.check_new(out)
        dataset = _load_data(data, settings, None)  # bad data stops here, before any file is written
        run = RunDirectory.create(out, settings.model, resume=False)
        run.write_json(run.state, RunState(settings=settings.to_dict()).to_json())  # resumable from the first second
        if hasattr(dataset, "save_split"):
            dataset.save_split(run.split)
    adapter = registry.adapter_for(settings.model)
    _check_prompt(settings, adapter)  # on resume: the saved prompt, should the model's plugin have changed since
    startup.mark("data")
    handler = _log_to(run.log)
    try:
        data_path = str(Path(data).resolve()) if isinstance(data, (str, Path)) else None
        with Heartbeat(run.heartbeat, clock):
            return _Run(run, settings, registry, adapter, dataset, clock, resume, progress or NullProgress(), data_path, startup).execute()
    finally:
        logging.getLogger("qtt_seg").removeHandler(handler)
        handler.close()


def _load_data(data: Any, settings: TuneSettings, split_file: Path | None) -> Any:
    """A dataset path loaded and validated (with a saved split on resume); objects as they are."""
    if not isinstance(data, (str, Path)):
        return data
    from qtt_core.data import load_dataset

    return load_dataset(data, split_seed=settings.seed, split_file=split_file, **dict(settings.data_options or {}))


def _check_prompt(settings: TuneSettings, adapter: ModelAdapter) -> None:
    """A prompt protocol that is unknown, or that the model's adapter does not support, stops here."""
    supported = [name for name in adapter.prompt_protocols() if name in PROMPT_PROTOCOLS]
    if settings.prompt in supported:
        return
    what = "is not a prompt protocol" if settings.prompt not in PROMPT_PROTOCOLS else "is not supported by this model"
    raise UsageError(f"--prompt {settings.prompt}: {what}; {settings.model} supports --prompt {' or '.join(supported)}")


def _check_parallel(settings: TuneSettings) -> None:
    """Bad ``workers``/``executor``/``address`` stop here, before any file is written."""
    if int(settings.workers) != settings.workers or settings.workers < 1:
        raise UsageError(f"--workers {settings.workers}: give a whole number of at least 1")
    if settings.executor not in ("local", "ray"):
        raise UsageError(f"--executor {settings.executor!r}: use local or ray")
    if settings.address and settings.executor != "ray":
        raise UsageError(f"--address {settings.address} needs --executor ray (the local executor runs in this process)")
    if settings.workers > 1 and settings.executor == "ray":
        from qtt_core.ray_cluster import import_ray

        import_ray("--executor ray")  # not installed: the one-line error with the install command, now


def _log_to(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("qtt_seg")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler


class _Run:
    """One execution (first or resumed) of a run; keeps the pieces the steps share."""

    def __init__(
        self, run, settings, registry, adapter: ModelAdapter, data, clock: BudgetClock, resume: bool, progress: Progress,
        data_path: str | None = None, startup: StartupTimer | None = None,
    ):
        self.run, self.registry, self.adapter, self.clock, self.progress = run, registry, adapter, clock, progress
        self.startup = startup or StartupTimer(clock, resumed=resume)
        self.data_path = data_path
        self.released: list[str] = []  # trials in flight when the run was killed (asked again)
        self.state = RunState.from_json(run.read_json(run.state))
        if resume:
            log.info("resuming %s with %.1f s left", run.root, clock.remaining_s())
        self.settings = settings
        self.data = data
        log.info("%s", PROMPT_LINES[settings.prompt])
        counts = ", ".join(f"{len(self.data.split(s))} {s}" for s in ("train", "val", "test"))
        log.info("data: %s pairs, %d classes (%.1f s into the run)", counts, self.data.num_classes, clock.elapsed_s())
        encoding = getattr(self.data, "encoding", None)
        if encoding is not None:  # how the masks were read: a wrong guess shows here, not in the scores
            log.info("masks: %s; background: %s; classes: %s", encoding.description, encoding.background, ", ".join(self.data.class_names))
        self.history = History.from_state(self.state.history) if self.state.history is not None else History()

    # -- set-up -------------------------------------------------------------------------------

    def _candidates(self, space, best_recorded: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The space's default, the meta-dataset's best configurations mapped into the space,
        then sampled ones: ``n_candidates`` distinct configurations (kept in the run state)."""
        if self.state.candidates is not None:
            return self.state.candidates
        default = dict(space.get_default_configuration())
        recorded = [c for c in (map_into_space(config, space) for config in best_recorded) if c is not None]
        sampled = sample_configurations(space, self.settings.n_candidates, seed=self.settings.seed)
        unique = {config_id(c): c for c in [default, *recorded, *sampled]}
        if recorded:
            log.info("the candidate pool holds %d of the meta-dataset's best configurations", len(recorded))
        return list(unique.values())[: self.settings.n_candidates]

    def _optimizer(self, space, candidates, metafeatures, meta_train, options) -> Optimizer:
        from qtt_core.optimizer.factory import make_optimizer

        optimizer = make_optimizer(
            self.settings.optimizer, candidates=candidates, space=space, metafeatures=metafeatures, meta_train=meta_train,
            max_epochs=self.settings.max_epochs, seed=self.settings.seed, registry=self.registry, **options,
        )
        if self.state.optimizer is not None:
            optimizer.load_state_dict(self.state.optimizer)
            self.released = optimizer.release_pending()  # their workers died with the killed run
            if self.released:
                log.info("%d trials were in flight when the run stopped; they are asked again", len(self.released))
        return optimizer

    # -- the run ------------------------------------------------------------------------------

    def execute(self) -> TuneResult:
        import qtt_core.tuner.report  # noqa: F401 - matplotlib's import is paid before the reserve is measured

        settings = self.settings
        self.predictors = self.state.predictors
        if not self.run.config.is_file():
            self.run.write_yaml(self.run.config, settings.to_dict())
        final = self.state.phase == "final"
        pool = self._worker_pool() if settings.workers > 1 and not final else None
        if pool is None and settings.executor != "local" and not final:
            log.info("one worker: trials train in this process (--executor %s needs --workers 2 or more)", settings.executor)
        try:
            if pool is not None:
                pool.start()  # the workers start up while this process prepares the run
            return self._execute(pool)
        finally:
            if pool is not None:
                pool.close()

    def _execute(self, pool: Any) -> TuneResult:
        settings = self.settings
        self.request = SessionRequest(
            model=settings.model, data=self.data, device=resolve_device(settings.device), checkpoint=settings.checkpoint,
            workdir=self.run.sessions, seed=settings.seed, options={"max_epochs": settings.max_epochs},
            precision=resolve_precision(settings.precision, resolve_device(settings.device)), prompt=settings.prompt,
        )
        self.progress.update(prompt=settings.prompt)
        if self.state.phase == "final":  # resumed after the search: no optimiser, no workers
            log.info("the search had ended; the final phase continues (%.1f s into the run)", self.clock.elapsed_s())
            self.metafeatures, self.candidates, self.optimizer = self.state.metafeatures, self.state.candidates, None
            return FinalPhase(self).finish(None)
        mark = self.startup.mark
        metafeatures = self.state.metafeatures or self.registry.extractors.get(settings.extractor).extract(self.data, seed=settings.seed)
        mark("meta-features")
        self.baseline()
        mark("baseline")
        space = self.registry.load_space(settings.space or self.adapter.default_space(settings.model))
        knowledge = find_knowledge(settings, self.registry, self.adapter, space)
        self.predictors = knowledge.description
        mark("predictors")
        self.candidates = self._candidates(space, knowledge.best_recorded)
        mark("candidates")
        self.optimizer = self._optimizer(space, self.candidates, metafeatures, knowledge.meta_train, knowledge.options)
        self.metafeatures = metafeatures
        mark("optimiser")
        log.info("%d candidates from %s, optimiser %s, predictors: %s (%.1f s into the run)",
                 len(self.candidates), settings.space or self.adapter.default_space(settings.model),
                 settings.optimizer, self.predictors or "-", self.clock.elapsed_s())
        session = self.adapter.open_session(self.request)
        try:
            session.prepare()
            mark("model")
            self._zero_shot(session)
            mark("zero-shot")
            self._save()
            self._reconcile(session)
            mark("recovery")
            if pool is None:
                self._loop(session)
            else:
                self._parallel_loop(session, pool)
                pool.close()  # stops the workers: the final evaluation has the machine to itself
            return FinalPhase(self).finish(session)
        finally:
            session.close()

    def baseline(self) -> Baseline:
        """The most-frequent-class baseline, computed once per run (:mod:`qtt_core.data.baseline`)."""
        if self.state.baseline is None:
            started = time.monotonic()
            self.state.baseline = baseline = most_frequent_class_baseline(self.data)
            log.info("baseline: predicting %r (the most frequent class in the training masks) on every pixel scores "
                     "val %.4f, test %.4f (%.1f s)", baseline.class_name, baseline.val_iou, baseline.test_iou, time.monotonic() - started)
        if self.settings.prompt == "none":
            self.progress.update(baseline=self.state.baseline.val_iou)
        return self.state.baseline

    def _zero_shot(self, session: TuningSession) -> None:
        """The untuned model's scores with box prompts; without prompts the pass only measures the time."""
        if self.state.zero_shot is not None:  # measured before a kill
            self.progress.update(zero_shot=self.state.zero_shot.val)
            return
        started = time.monotonic()
        val = session.zero_shot_score("val")
        middle = time.monotonic()
        test = session.zero_shot_score("test")
        test_s = time.monotonic() - middle
        # final phase: a test evaluation, overlays and export (about another test pass, measured
        # here; the validation pass above also paid for building the model), and the report files
        reserve_s = 2.5 * test_s + REPORT_RESERVE_S
        if self.settings.prompt == "none":  # an untrained class head: its scores mean nothing
            self.state.zero_shot = ZeroShot(val=None, test=None, test_eval_s=test_s, reserve_s=reserve_s, build_and_val_s=middle - started)
            log.info("untuned evaluation pass: %.1f s (no zero-shot score without prompts); %.1f s reserved for the end", test_s, reserve_s)
            return
        self.state.zero_shot = ZeroShot(
            val=val, test=test, test_eval_s=test_s, reserve_s=reserve_s, build_and_val_s=middle - started,
            test_per_class=per_class_record(session.class_scores(None, "test")),
        )
        log.info("zero-shot IoU: val %.4f, test %.4f (%.1f s); %.1f s reserved for the end", val, test, test_s, reserve_s)
        self.progress.update(zero_shot=val)

    def _reconcile(self, session: TuningSession) -> None:
        """After a kill: epochs the session saved but the run did not record are recovered
        (of configurations in the history, and of trials that were in flight)."""
        configs = dict(self.history.configs)
        by_id = {config_id(c): c for c in self.candidates} if self.released else {}
        for cid in self.released:
            configs.setdefault(cid, by_id[cid])
        for cid, config in configs.items():
            self._recover(session, cid, config)

    def _recover(self, session: TuningSession, cid: str, config: dict[str, Any]) -> int:
        """Tell and record the epochs of ``cid`` that ``session`` saved but the run did not record.

        With their scores and costs from :meth:`TuningSession.epoch_reports`; an adapter that
        keeps no such record gives the last epoch's score, with the mean cost of the run's
        epochs. Returns the number of epochs recovered.
        """
        saved, recorded = session.last_epoch(cid), self.history.last_epoch(cid)
        if saved <= recorded:
            return 0
        reports = [r for r in session.epoch_reports(cid) if recorded < r.epoch <= saved]
        if not reports:
            costs = [r.cost_s for r in self.history.rows if r.status == "ok" and not math.isnan(r.cost_s)]
            mean_cost = sum(costs) / len(costs) if costs else float("nan")
            reports = [EpochReport(cid, saved, session.score(cid, "val"), mean_cost)]
        for report in reports:
            self.optimizer.tell(cid, report.epoch, report.score, 0.0 if math.isnan(report.cost_s) else report.cost_s)
            self._record(EpochRow(cid, report.epoch, report.score, report.cost_s, self.clock.elapsed_s(), train_loss=report.train_loss), config)
        log.info("%s: %d epochs a stopped process trained were recovered (to epoch %d)", cid, len(reports), saved)
        return len(reports)

    def _refit_plan(self) -> RefitPlan | None:
        """The refit of the current incumbent, when the run refits (see :mod:`qtt_core.tuner.refit`)."""
        if not self.settings.refit:
            return None
        return plan_refit(self.history, *self._refit_inputs(), budget_s=self.settings.budget_s)

    def _refit_inputs(self) -> tuple[int, int, float]:
        """Training and validation pairs, and the seconds a new session needs to build the model."""
        n_train, n_val = (len(self.data.split(name)) for name in ("train", "val"))
        return n_train, n_val, self.state.zero_shot.build_and_val_s

    def _search_deadline(self, extra_s: float = 0.0) -> float:
        """When training in the search stops: the end reserve and the planned refit's time remain.

        It moves as the incumbent changes (a costlier incumbent takes longer to refit).
        """
        plan = self._refit_plan()
        return self.clock.deadline(self._end_reserve_s() + extra_s + (plan.estimate_s if plan else 0.0))

    def _end_reserve_s(self) -> float:
        """Seconds kept for the final evaluation, export and report, scaled by the slowdown seen."""
        return self.state.zero_shot.reserve_s * self.history.slowdown()

    def _loop(self, session: TuningSession) -> None:
        """One trial at a time in this process; each ask is saved as in flight before it trains."""
        while True:
            if time.monotonic() >= (deadline := self._search_deadline()):
                log.info("no time left for another epoch")
                return
            ask = self.optimizer.ask(reserve=True, remaining_s=deadline - time.monotonic())
            if ask is None:
                log.info("the optimiser has nothing left to try")
                return
            self._started_training()
            self._save()  # a kill from here on leaves the trial pending: resume recovers what it saved
            self.progress.update(config_id=ask.config_id, epoch=ask.epoch, time_left_s=self.clock.remaining_s())
            try:
                reports = session.train(ask.config_id, ask.config, ask.epoch, deadline=deadline)
            except Exception as error:  # noqa: BLE001 - a failing trial must not end the run
                reason = failure_reason(error)
                log.warning("configuration %s failed: %s", ask.config_id, reason)
                log.debug("%s", traceback.format_exc())
                self.optimizer.tell_failed(ask.config_id, reason)
                self._record(EpochRow(ask.config_id, ask.epoch, float("nan"), 0.0, self.clock.elapsed_s(), status="failed", reason=reason), ask.config)
                self._save()
                continue
            self._tell_reports(ask, reports)
            recovered = self._recover(session, ask.config_id, ask.config)  # trained before, by a killed process
            if ask.config_id in self.optimizer.pending():
                self.optimizer.release(ask.config_id)  # stopped before the asked epoch: the deadline
            self._save()
            session.release(ask.config_id)
            if not reports and not recovered:
                log.info("no time left for another epoch")
                return

    def _started_training(self) -> None:
        """Before each trial: the first one ends this process's set-up (kept in the state)."""
        record = self.startup.first_epoch()
        if record is not None:
            self.state.startup = [*self.state.startup, record]

    def _worker_pool(self) -> Any:
        """The workers of a parallel run: sessions on the run's ``sessions/`` folder (absolute paths)."""
        from qtt_core.tuner.workers import make_worker_pool

        settings = self.settings
        checkpoint = settings.checkpoint
        if checkpoint and Path(checkpoint).exists():
            checkpoint = str(Path(checkpoint).resolve())
        request = SessionRequest(
            model=settings.model, data=self.data, device=resolve_device(settings.device) if settings.executor == "local" else settings.device,
            checkpoint=checkpoint, workdir=self.run.sessions.resolve(), seed=settings.seed, options={"max_epochs": settings.max_epochs},
            precision=settings.precision if settings.executor == "ray" else resolve_precision(settings.precision, resolve_device(settings.device)),
            prompt=settings.prompt,
        )
        if self.data_path is not None:
            split = self.run.split.resolve() if self.run.split.is_file() else None
            load_data = functools.partial(_load_data, self.data_path, settings, split)
        else:
            load_data = functools.partial(_identity, self.data)
        log.info("%d workers (%s executor%s)", settings.workers, settings.executor, f", Ray at {settings.address}" if settings.address else "")
        options = {"cpus_per_job": settings.cpus_per_job, "gpus_per_job": settings.gpus_per_job} if settings.executor == "ray" else {}
        return make_worker_pool(settings.executor, settings.workers, self.adapter, request, load_data, address=settings.address, **options)

    def _parallel_loop(self, session: TuningSession, pool: Any) -> None:
        """Keep every worker busy until the deadline; tell and record results as they arrive.

        Workers get a deadline :data:`STRAGGLER_GRACE_S` earlier than the sequential loop's, the
        time the driver then waits at most for a trial that has not stopped (and stopping the
        workers takes) before the final phase.
        """
        idle, running, deadlines = list(range(pool.workers)), {}, {}
        while True:
            deadline = self._search_deadline(STRAGGLER_GRACE_S)
            while idle and time.monotonic() < deadline:
                ask = self.optimizer.ask(reserve=True, remaining_s=deadline - time.monotonic())
                if ask is None:
                    break  # nothing free now: wait for a result (or stop, when none is running)
                self._started_training()
                self._save()  # recorded in flight before a worker trains it: a resume recovers what it saved
                worker = idle.pop(0)
                pool.submit(worker, ask, deadline)
                running[worker], deadlines[worker] = ask, deadline
                self.progress.update(config_id=ask.config_id, epoch=ask.epoch, time_left_s=self.clock.remaining_s())
            if not running:
                log.info("the optimiser has nothing left to try" if time.monotonic() < deadline and idle else "no time left for another epoch")
                break
            outcomes = pool.wait(max(deadlines[w] for w in running) + STRAGGLER_GRACE_S - time.monotonic())
            if not outcomes:
                log.warning("%d trials did not stop by the deadline; their epochs are dropped", len(running))
                for ask in running.values():
                    self.optimizer.release(ask.config_id)
                break
            for outcome in outcomes:
                del running[outcome.worker], deadlines[outcome.worker]
                if self._tell_outcome(outcome, session, pool):
                    idle.append(outcome.worker)
            self._save()
        for cid in self.history.configs:
            session.release(cid)  # the driver's session reads the workers' latest states from here on

    def _tell_outcome(self, outcome: Any, session: TuningSession, pool: Any) -> bool:
        """Tell and record one worker's result; False when that worker is done (no time left, or lost)."""
        ask = outcome.ask
        if outcome.worker_lost:  # not the configuration's fault: it is asked again, on a new worker
            session.release(ask.config_id)
            self._recover(session, ask.config_id, ask.config)  # epochs the worker saved before it was lost
            self.optimizer.release(ask.config_id)
            log.warning("worker %d was lost (%s); %s is asked again", outcome.worker, outcome.reason, ask.config_id)
            return pool.restart(outcome.worker)
        if outcome.failed:
            log.warning("configuration %s failed: %s", ask.config_id, outcome.reason)
            self.optimizer.tell_failed(ask.config_id, outcome.reason)
            self._record(EpochRow(ask.config_id, ask.epoch, float("nan"), 0.0, self.clock.elapsed_s(), status="failed", reason=outcome.reason), ask.config)
            return True
        self._tell_reports(ask, outcome.reports, f" (worker {outcome.worker})")
        recovered = 0
        if not outcome.reports:  # already trained (by a killed process), or no time left
            session.release(ask.config_id)
            recovered = self._recover(session, ask.config_id, ask.config)
        if ask.config_id in self.optimizer.pending():
            self.optimizer.release(ask.config_id)  # stopped before the asked epoch (deadline)
            if not outcome.reports and not recovered:
                log.info("worker %d: no time left for another epoch", outcome.worker)
            return False
        return True

    def _tell_reports(self, ask: Any, reports: list, where: str = "") -> None:
        """Tell the optimiser each finished epoch of ``ask`` and record it (the asked epoch with its predictions)."""
        for report in reports:
            self.optimizer.tell(report.config_id, report.epoch, report.score, report.cost_s)
            first = report.epoch == ask.epoch
            self._record(
                EpochRow(
                    report.config_id, report.epoch, report.score, report.cost_s, self.clock.elapsed_s(),
                    ask.predicted_score if first else float("nan"), ask.predicted_cost_s if first else float("nan"),
                    report.train_loss,
                ),
                ask.config,
            )
            log.info("%s epoch %d: val IoU %.4f in %.1f s%s", report.config_id, report.epoch, report.score, report.cost_s, where)

    def _record(self, row: EpochRow, config: dict[str, Any]) -> None:
        self.history.add(row, config)
        best = self.history.incumbent()
        self.progress.update(trials=len(self.history.configs), incumbent=best.score if best else None)

    def _save(self) -> None:
        state = self.state
        state.settings, state.elapsed_s = self.settings.to_dict(), self.clock.elapsed_s()
        state.metafeatures, state.candidates, state.predictors = self.metafeatures, self.candidates, self.predictors
        if self.optimizer is not None:
            state.optimizer = self.optimizer.state_dict()
        state.history = self.history.to_state()
        self.run.write_json(self.run.state, state.to_json())
        self.run.write_csv(self.run.trials, [r.__dict__ for r in self.history.rows], ROW_COLUMNS)

def _identity(value: Any) -> Any:
    return value



