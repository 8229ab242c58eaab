"""Run a tune in a process that kills itself (SIGKILL) at a phase boundary, for the resume tests.

    python tests/kill_injection.py SPEC mock OUT BUDGET WORKERS EPOCH_COST [resume]
    python tests/kill_injection.py SPEC cli TUNE-ARGS...

``SPEC`` is ``none`` or ``BOUNDARY:N``: die at the N-th file this process renames into place
that belongs to the boundary (every durable write in a run is such a rename):

- ``session-save``: a session state of the search (``sessions/``, not the refit's), after it;
- ``state-before`` / ``state-after``: ``state.json``, before or after it is written;
- ``refit-save``: a state of the refit's session, after it;
- ``result-before``: ``result.json``, before it is written (the final state is written).

``mock`` runs :func:`qtt_core.tuner.tune` with the mock adapter (``EPOCH_COST`` seconds per
epoch, really slept) and ``WORKERS`` workers; ``cli`` runs ``qtt-seg tune`` with the given arguments.
"""

from __future__ import annotations

import os
import signal
import sys

_BOUNDARIES = {
    "session-save": lambda dst: "/sessions/" in dst and "/sessions/refit/" not in dst,
    "state-before": lambda dst: dst.endswith("/state.json"),
    "state-after": lambda dst: dst.endswith("/state.json"),
    "refit-save": lambda dst: "/sessions/refit/" in dst,
    "result-before": lambda dst: dst.endswith("/result.json"),
}


def install(spec: str) -> None:
    """Patch ``os.replace`` to SIGKILL this process at ``spec`` (see the module docstring)."""
    if spec == "none":
        return
    boundary, count = spec.split(":")
    matches, after = _BOUNDARIES[boundary], boundary != "state-before" and boundary != "result-before"
    real_replace, seen = os.replace, [0]

    def replace(src, dst, *args, **kwargs):
        hit = matches(str(dst))
        if hit:
            seen[0] += 1
        if hit and seen[0] == int(count) and not after:
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst, *args, **kwargs)
        if hit and seen[0] == int(count) and after:
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace


def _run_mock(out: str, budget_s: str, workers: str, epoch_cost_s: str, resume: bool) -> None:
    from helpers import registry_with

    from qtt_core.testing import MockAdapter, make_shapes_data
    from qtt_core.tuner import tune
    from qtt_core.tuner.clock import process_started

    tune(make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32)), float(budget_s), out=out, resume=resume,
         registry=registry_with(MockAdapter(epoch_cost_s=float(epoch_cost_s), sleep=True)), started=process_started(),
         model="mock", optimizer="random", max_epochs=3, n_candidates=16, device="cpu", workers=int(workers))


def main(argv: list[str]) -> None:
    spec, mode, *rest = argv
    install(spec)
    if mode == "mock":
        _run_mock(*rest[:4], resume=rest[4:] == ["resume"])
    else:
        from qtt_core.cli.main import app
        from qtt_core.tuner.clock import mark_process_entry

        mark_process_entry()  # as the qtt-seg console script does
        app(["tune", *rest])


if __name__ == "__main__":
    main(sys.argv[1:])
