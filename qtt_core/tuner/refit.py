"""The final refit: the chosen configuration trained once more, on train + val pairs.

The search chooses on the validation pairs, so the searched models never trained on them.
With few images that is a large share of the labels (a third more training pairs with 5
images split 3/1/1), and the practice of AutoML systems is to train the chosen
configuration again on all labelled data but the test set for the final model
(auto-sklearn's refit, AutoGluon's ``refit_full``). The refit repeats the incumbent's
training exactly (same configuration, seed, epochs and schedule horizon) on the larger
training split. Its validation scores are then on pairs it trained on; the run reports the
search's validation score, and the test score of the model it hands back.

The refit trains to the incumbent's best validated epoch. It is planned while the search
runs: the tuner keeps back, besides the end reserve, :func:`plan_refit`'s estimate for the
current incumbent: the slowest epoch the incumbent's configuration took, times the epochs,
scaled by the larger split, a margin and the slowdown the run has seen
(:meth:`History.slowdown`). A refit estimated at more than :data:`REFIT_MAX_SHARE` of the
budget is not planned (the search gets the time); one that does not fit the time left is not
started, and one that fails leaves the searched model as the result. Its session keeps
states in ``sessions/refit``, so a killed run continues it on resume, and a finished one is
reopened (:func:`open_refit`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

from qtt_core.adapter import ModelAdapter, SessionRequest, TuningSession
from qtt_core.data.views import TrainPlusVal
from qtt_core.tuner.history import History

__all__ = ["REFIT_MAX_SHARE", "RefitPlan", "estimate_refit", "open_refit", "plan_refit", "run_refit"]

log = logging.getLogger("qtt_seg.tune")

#: the largest share of the budget a refit may take
REFIT_MAX_SHARE = 0.25
#: the estimate's margin over the scaled training seconds (step-time noise, a busier machine)
REFIT_MARGIN = 1.25
#: seconds for opening the refit's session on top of training and building the model
REFIT_STARTUP_S = 1.0


@dataclass(frozen=True)
class RefitPlan:
    """What the refit will train: ``config_id`` to ``epochs`` on ``pairs`` train + val pairs, in about ``estimate_s`` seconds."""

    config_id: str
    epochs: int
    pairs: int
    estimate_s: float


def plan_refit(history: History, n_train: int, n_val: int, startup_s: float = 0.0, *, budget_s: float) -> RefitPlan | None:
    """The refit of the current incumbent, or None (no incumbent, no validation pairs, too costly).

    Args:
        n_train / n_val: pairs in the training and validation splits.
        budget_s: the run's budget in seconds (the refit takes at most :data:`REFIT_MAX_SHARE` of it).
        startup_s: seconds a new session takes to build the model (the tuner measures it in the
            zero-shot pass), on top of :data:`REFIT_STARTUP_S`.
    """
    plan = estimate_refit(history, n_train, n_val, startup_s)
    return plan if plan is not None and plan.estimate_s <= REFIT_MAX_SHARE * budget_s else None


def estimate_refit(history: History, n_train: int, n_val: int, startup_s: float = 0.0) -> RefitPlan | None:
    """The refit of the current incumbent whatever it costs; None without incumbent or pairs."""
    best = history.incumbent()
    if best is None or n_train == 0 or n_val == 0:
        return None
    costs = history.epoch_costs(best.config_id) or [c for cid in history.configs for c in history.epoch_costs(cid)]
    slowest_s = max(costs, default=0.0)
    training_s = slowest_s * best.epoch * (n_train + n_val) / n_train * REFIT_MARGIN * history.slowdown()
    return RefitPlan(best.config_id, best.epoch, n_train + n_val, training_s + REFIT_STARTUP_S + startup_s)


def run_refit(adapter: ModelAdapter, request: SessionRequest, plan: RefitPlan, config: dict[str, Any], deadline: float) -> TuningSession | None:
    """Train ``plan`` on ``request.data`` with its validation pairs added; the session, or None.

    None (and the reason logged) when its expected time (the estimate without its margin,
    which the search kept back on top) does not fit before ``deadline`` (a
    ``time.monotonic()`` value: then it does not start), or the refit failed or did not reach
    its epochs; the caller then keeps the searched model.
    """
    expected_s = plan.estimate_s / REFIT_MARGIN  # the search kept the estimate with its margin back
    if time.monotonic() + expected_s > deadline:
        log.info("refit not started: %.1f s left, it needs about %.1f s; the searched model is kept", deadline - time.monotonic(), expected_s)
        return None
    started = time.monotonic()
    session = _open(adapter, request)
    try:
        session.train(plan.config_id, config, plan.epochs, deadline=deadline)
    except Exception as error:  # noqa: BLE001 - a failed refit leaves the searched model, never the run
        log.warning("refit of %s failed (%s); the searched model is kept", plan.config_id, getattr(error, "reason", error))
        session.close()
        return None
    reached = session.last_epoch(plan.config_id)
    if reached < plan.epochs:
        log.info("refit of %s reached epoch %d of %d before the deadline; the searched model is kept", plan.config_id, reached, plan.epochs)
        session.close()
        return None
    log.info("refit %s on %d train + val pairs for %d epochs in %.1f s", plan.config_id, plan.pairs, plan.epochs, time.monotonic() - started)
    return session


def open_refit(adapter: ModelAdapter, request: SessionRequest, config_id: str, epochs: int) -> TuningSession | None:
    """The session of a refit that finished (``config_id`` at ``epochs`` in ``sessions/refit``), or None."""
    session = _open(adapter, request)
    if session.last_epoch(config_id) >= epochs:
        return session
    session.close()
    return None


def _open(adapter: ModelAdapter, request: SessionRequest) -> TuningSession:
    """A session on ``request``'s data with its validation pairs added to training."""
    return adapter.open_session(dataclasses.replace(request, data=TrainPlusVal(request.data)))
