"""The one place qtt-seg meets Ray: starting or joining it, what the workers' environment
carries, whether jobs fit, and a Ray failure as a one-line reason.

``meta build --executor ray`` (:mod:`qtt_core.executor.ray_executor`, Ray tasks) and
``tune --workers N --executor ray`` (:mod:`qtt_core.tuner.workers`, Ray actors) both go
through it. Workers build their own registry, so plugins reach them as importable module
names: the driver's ``QTT_SEG_*`` variables and ``PYTHONPATH`` travel with them. ``ray`` is
imported only when a connection is made or asked for.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from qtt_core.errors import UsageError

__all__ = ["INSTALL_HINT", "RayConnection", "check_reachable", "first_line", "import_ray", "worker_env"]

log = logging.getLogger("qtt_seg")

INSTALL_HINT = "pip install 'qtt-seg[ray]'"
#: environment variables that travel to the workers besides ``QTT_SEG_*``
FORWARDED_ENV = ("PYTHONPATH",)


def import_ray(what: str = "the ray executor") -> Any:
    """The ``ray`` module.

    Raises:
        UsageError: Ray is not installed (the message names ``what`` needs it and the install command).
    """
    try:
        import ray
    except ImportError:
        raise UsageError(f"{what} needs Ray, which is not installed; {INSTALL_HINT}") from None
    return ray


class RayConnection:
    """A local Ray instance this process starts, or a cluster it joins.

    Args:
        address: None starts a local instance (unless this process is already connected);
            ``"auto"`` or ``"HOST:PORT"`` joins a running cluster (``ray start --head``).
        num_cpus: CPUs of a local instance (None: all of this machine's).
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        self.address, self.num_cpus = address, num_cpus
        self.started = False

    def connect(self) -> Any:
        """The ``ray`` module, initialised: joined, started, or as this process already had it.

        Raises:
            UsageError: a local instance did not start, or nothing answers at ``address``.
        """
        ray = import_ray()
        if ray.is_initialized():
            return ray
        options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
        try:
            if self.address is None:
                ray.init(num_cpus=self.num_cpus, include_dashboard=False, **options)
            else:
                ray.init(address=self.address, **options)
        except (ConnectionError, RuntimeError, ValueError) as error:
            message = " ".join(str(error).split())[:200]
            if self.address is None:
                raise UsageError(f"a local Ray instance did not start ({message}); see `ray start --head` for why") from None
            raise UsageError(
                f"cannot reach a Ray cluster at {self.address!r} ({message}); start one with `ray start --head` or fix --address"
            ) from None
        self.started = True
        return ray

    @property
    def is_local(self) -> bool:
        """Whether this process started the instance on this machine (its workers inherit this environment)."""
        return self.started and self.address is None

    def check_room(self, jobs: int, cpus_per_job: float, gpus_per_job: float) -> None:
        """Warn when ``jobs`` jobs of ``cpus_per_job`` CPUs do not fit at once (the rest wait).

        Raises:
            UsageError: a job asks for more GPUs than a local instance has.
        """
        import ray

        resources = ray.cluster_resources()
        if self.address is None and gpus_per_job > resources.get("GPU", 0):
            raise UsageError(f"this machine has {resources.get('GPU', 0):g} GPUs for Ray; lower --gpus-per-job {gpus_per_job:g}")
        if jobs * cpus_per_job > resources.get("CPU", 0.0):
            log.warning("%d jobs x %g CPUs do not fit the cluster's %g CPUs; the others wait for room", jobs, cpus_per_job, resources.get("CPU", 0.0))

    def close(self) -> None:
        """Shut Ray down (or disconnect from the cluster) if this connection started it."""
        if self.started:
            import ray

            ray.shutdown()
            self.started = False


def worker_env(threads: int | None = None, plugins: Sequence[str] = (), env_vars: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables every worker carries: ``QTT_SEG_*`` and ``PYTHONPATH`` as here,
    ``plugins`` added to ``QTT_SEG_PLUGINS``, ``OMP_NUM_THREADS`` for ``threads``, then ``env_vars``."""
    from qtt_core.registry import PLUGINS_ENV

    env = {k: v for k, v in os.environ.items() if k.startswith("QTT_SEG_") or k in FORWARDED_ENV}
    if plugins:
        env[PLUGINS_ENV] = ",".join(filter(None, [env.get(PLUGINS_ENV, ""), *plugins]))
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(max(1, int(threads)))
    env.update(env_vars or {})
    return env


def check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """Fail fast on a ``HOST:PORT`` nobody listens at (``ray.init`` would retry for minutes).

    Raises:
        UsageError: the address is malformed or nothing answers there within ``timeout_s``.
    """
    if address is None or address in ("auto", "local") or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
            pass
    except (OSError, ValueError) as error:
        raise UsageError(
            f"no Ray cluster answers at --address {address} ({error}); start one with `ray start --head` or give HOST:PORT of its head"
        ) from None


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message (Ray's carry whole remote tracebacks), or its type."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
