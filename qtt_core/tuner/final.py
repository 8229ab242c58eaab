"""The final phase of a run: refit, test score and export of the best validated epoch, overlays,
plots and ``result.json``.

The tuned model is compared with a reference: the untuned (zero-shot) model with box prompts,
the most-frequent-class baseline (:mod:`qtt_core.data.baseline`) without prompts, where the
untuned model has no output worth a score (its zero-shot fields are then null). Every run
reports the baseline.

Each step is recorded in the run state when done (``phase``, then ``final``), so a resumed
process neither searches again nor repeats a finished step.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtt_core.adapter import ClassScores, TuningSession
from qtt_core.precision import resolve_device
from qtt_core.tuner.history import EpochRow
from qtt_core.tuner.refit import estimate_refit, open_refit, run_refit

__all__ = ["REPORT_RESERVE_S", "FinalPhase", "TuneResult", "per_class_record"]

log = logging.getLogger("qtt_seg.tune")

#: seconds kept back for writing plots, trials.csv and result.json
REPORT_RESERVE_S = 4.0


@dataclass
class TuneResult:
    """What a run produced; ``result.json`` holds the same fields.

    ``zero_shot_*`` are None (null) in a run with ``prompt`` ``none``; ``baseline_*`` (the most
    frequent training class, predicted on every pixel) are there in every run.
    """

    run_dir: Path
    model: str
    budget_s: float
    elapsed_s: float
    best_config: dict[str, Any] | None
    best_config_id: str | None
    val_iou: float | None
    test_iou: float | None
    zero_shot_val_iou: float | None
    zero_shot_test_iou: float | None
    n_trials: int
    trials: list[dict[str, Any]] = field(default_factory=list)
    weights: str | None = None
    optimizer: str = ""
    predictors: str = ""
    refit: dict[str, Any] | None = None
    best_epoch: int | None = None
    precision: str = ""
    test_iou_per_class: dict[str, float | None] | None = None
    test_dice_per_class: dict[str, float | None] | None = None
    zero_shot_test_iou_per_class: dict[str, float | None] | None = None
    zero_shot_test_dice_per_class: dict[str, float | None] | None = None
    startup: list[dict[str, Any]] = field(default_factory=list)
    prompt: str = "box"
    baseline_class: str | None = None
    baseline_test_iou: float | None = None
    baseline_test_iou_per_class: dict[str, float | None] | None = None

    @property
    def reference(self) -> tuple[str, float | None, dict[str, float | None] | None]:
        """What the tuned model is compared with: ``(name, test IoU, test IoU per class)``."""
        if self.prompt == "none":
            return "most-frequent-class baseline", self.baseline_test_iou, self.baseline_test_iou_per_class
        return "zero-shot", self.zero_shot_test_iou, self.zero_shot_test_iou_per_class

    def to_json(self) -> dict[str, Any]:
        payload = {k: v for k, v in self.__dict__.items() if k != "run_dir"}
        payload["run_dir"] = str(self.run_dir)
        return payload


class FinalPhase:
    """The final phase of one execution of a run.

    Args:
        run: the run's shared pieces (:class:`qtt_core.tuner.tuner._Run`): its folder
            (``run``), settings, adapter, session request, clock, data, history, state with
            ``_save()``, the predictors line, ``baseline()`` (the most-frequent-class baseline),
            and the budget helpers ``_refit_plan()``, ``_refit_inputs()`` and ``_end_reserve_s()``.
    """

    def __init__(self, run: Any):
        self.r = run

    def finish(self, session: TuningSession | None) -> TuneResult:
        """The final phase: refit, test score and export of the best validated epoch, report files.

        Each step is recorded in the state when done (``phase``, then ``final``), so a resume
        neither searches again nor repeats a finished step; the weights replace ``weights/``
        in one rename, with ``refit.json`` beside them only when refitted. ``session`` is the
        search's (None on a resume in the final phase: opened when needed).
        """
        from qtt_core.tuner.report import REFERENCE_LABELS, write_plots

        self.r.state.phase = "final"
        self.r._save()
        zero = self.r.state.zero_shot
        baseline = self.r.baseline()  # computed here when an older version's run resumes in its final phase
        prompt = self.r.settings.prompt
        best = self.r.history.incumbent()
        final = self.r.state.final
        if final is None:
            final = self._final_model(session, best) if best else {"test_iou": None, "weights": None, "refit": None}
            self.r.state.final = final
            self.r._save()
        if not final.get("reported"):
            if final["weights"]:
                self._overlays(Path(final["weights"]))
            if prompt == "none":
                reference_val, reference_per_class = baseline.val_iou, {"iou": baseline.test_iou_per_class}
            else:
                reference_val, reference_per_class = zero.val, zero.test_per_class
            write_plots(self.r.history, reference_val, self.r.run.plots, final.get("test_per_class"), reference_per_class, REFERENCE_LABELS[prompt])
            final["reported"] = True
            self.r._save()
        result = TuneResult(
            run_dir=self.r.run.root,
            model=self.r.settings.model,
            budget_s=self.r.settings.budget_s,
            elapsed_s=0.0,
            best_config=self.r.history.configs[best.config_id] if best else None,
            best_config_id=best.config_id if best else None,
            val_iou=best.score if best else None,
            test_iou=final["test_iou"],
            zero_shot_val_iou=zero.val,
            zero_shot_test_iou=zero.test,
            n_trials=len(self.r.history.configs),
            trials=self.r.history.trials(),
            weights=final["weights"],
            optimizer=self.r.settings.optimizer,
            predictors=self.r.predictors,
            refit=final["refit"],
            best_epoch=best.epoch if best else None,
            precision=self.r.request.precision,
            startup=self.r.state.startup,
            prompt=prompt,
            baseline_class=baseline.class_name,
            baseline_test_iou=baseline.test_iou,
            baseline_test_iou_per_class=baseline.test_iou_per_class,
            **_per_class_fields(final.get("test_per_class"), "test"),
            **_per_class_fields(zero.test_per_class, "zero_shot_test"),
        )
        result.elapsed_s = round(self.r.clock.elapsed_s(), 3)
        self.r.run.write_json(self.r.run.result, result.to_json())
        name, value, _ = result.reference
        log.info("done in %.1f s: test IoU %s (%s %s)", result.elapsed_s, _fmt(result.test_iou), name, _fmt(value))
        return result

    def _final_model(self, session: TuningSession | None, best: EpochRow) -> dict[str, Any]:
        """Refit (when planned), test score and export of ``best``: ``{"test_iou", "weights", "refit"}``."""
        searched = session if session is not None else self.r.adapter.open_session(self.r.request)
        try:
            final, refit = self._refit(searched, best)
            epoch = None if refit is not None else best.epoch  # a refit trained to that epoch: its last
            try:
                test_iou = final.score(best.config_id, "test", epoch=epoch)
                per_class = per_class_record(final.class_scores(best.config_id, "test", epoch=epoch))
                shutil.rmtree(self.r.run.partial_weights, ignore_errors=True)
                exported = Path(final.export(best.config_id, self.r.run.partial_weights, epoch=epoch))
                if refit is not None:  # beside the adapter's files: what this model trained on
                    self.r.run.write_json(exported / "refit.json", {
                        **refit, "trained_on": "train + val",
                        "note": "validation scores in the adapter's files are on pairs this model trained on; "
                                "result.json's val_iou is the search's, from the model trained on train alone",
                    })
                weights = self.r.run.publish_weights() / exported.relative_to(self.r.run.partial_weights)
            finally:
                if final is not searched:
                    final.close()
        finally:
            if searched is not session:
                searched.close()
        return {"test_iou": test_iou, "weights": str(weights), "refit": refit, "test_per_class": per_class}

    def _overlays(self, weights: Path) -> None:
        """Overlays of the test split, when the time left holds them (they are a courtesy, never fatal)."""
        from qtt_core.tuner.overlays import write_overlays

        needed_s = self.r.state.zero_shot.test_eval_s * self.r.history.slowdown() + REPORT_RESERVE_S / 2
        if self.r.clock.remaining_s() < needed_s:
            log.info("no overlays: %.1f s left, they need about %.1f s", self.r.clock.remaining_s(), needed_s)
            return
        try:
            tuned = self.r.adapter.load_tuned(weights, device=resolve_device(self.r.settings.device))
            write_overlays(tuned, self.r.data.split("test"), self.r.run.overlays)
        except Exception as error:  # noqa: BLE001 - overlays are a courtesy, never fatal
            log.warning("overlays could not be drawn: %s", error)

    def _refit(self, session: TuningSession, best: EpochRow) -> tuple[TuningSession, dict[str, Any] | None]:
        """The session holding the final model: a refit on train + val when planned and done, else ``session``.

        The plan is saved in the state before it trains and marked done after, so a resume
        reopens a finished refit (whatever time is left) and never mixes the two models.
        """
        request = dataclasses.replace(self.r.request, workdir=self.r.run.sessions / "refit")
        recorded = self.r.state.refit or {}
        if recorded.get("done") and recorded["config_id"] == best.config_id and recorded["epochs"] == best.epoch:
            reopened = open_refit(self.r.adapter, request, best.config_id, best.epoch)
            if reopened is not None:
                log.info("the refit of %s had finished; its model is used", best.config_id)
                return reopened, {k: recorded[k] for k in ("pairs", "epochs", "seconds")}
        plan = self.r._refit_plan()
        if plan is None:
            if self.r.settings.refit:
                self._log_no_refit()
            return session, None
        session.release(best.config_id)  # the searched model's state stays on disk, for the fallback
        self.r.state.refit = {**dataclasses.asdict(plan), "done": False}
        self.r._save()
        started = time.monotonic()
        refitted = run_refit(self.r.adapter, request, plan, self.r.history.configs[best.config_id], self.r.clock.deadline(self.r._end_reserve_s()))
        if refitted is None:
            return session, None
        info = {"pairs": plan.pairs, "epochs": plan.epochs, "seconds": round(time.monotonic() - started, 3)}
        self.r.state.refit.update(info, done=True)
        self.r._save()
        return refitted, info

    def _log_no_refit(self) -> None:
        costly = estimate_refit(self.r.history, *self.r._refit_inputs())
        if costly is None:
            log.info("no refit: the validation split is empty (it is the training split)")
        else:
            log.info("no refit: it would take about %.0f s, more than a quarter of the budget", costly.estimate_s)


def per_class_record(scores: ClassScores | None) -> dict[str, Any] | None:
    """``{"iou": {class: value}, "dice": {...}}`` for the run state, or None when not computed."""
    return None if scores is None else {"iou": scores.iou, "dice": scores.dice}


def _per_class_fields(per_class: dict[str, Any] | None, prefix: str) -> dict[str, Any]:
    """``{prefix}_iou_per_class`` and ``{prefix}_dice_per_class`` of :class:`TuneResult`."""
    per_class = per_class or {}
    return {f"{prefix}_iou_per_class": per_class.get("iou"), f"{prefix}_dice_per_class": per_class.get("dice")}



def _fmt(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"
