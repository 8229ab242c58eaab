"""Where and in which numeric precision training runs: the names a user gives and what they
mean on a machine.

``fp32`` trains in float32. ``bf16`` and ``fp16`` run the forward pass under
:func:`torch.autocast` in that dtype (weights and optimiser state stay float32); ``fp16`` also
scales the loss against underflow (:class:`torch.amp.GradScaler`), which needs CUDA. ``auto``
picks bf16 on a CUDA device that supports it, fp16 on other CUDA devices and fp32 on the CPU
(bf16 autocast runs on CPUs too, but is rarely faster there; ask for it by name).
"""

from __future__ import annotations

from qtt_core.errors import UsageError

__all__ = ["PRECISIONS", "resolve_device", "resolve_precision"]

#: the values ``--precision`` takes
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_device(device: str) -> str:
    """``device`` with ``"auto"`` resolved: ``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_precision(requested: str, device: str) -> str:
    """The precision a run on ``device`` uses for ``requested``: ``fp32``, ``bf16`` or ``fp16``.

    Args:
        requested: one of :data:`PRECISIONS`.
        device: a resolved torch device name (``cpu``, ``cuda``, ``cuda:N``; not ``auto``).

    Raises:
        UsageError: an unknown name, or fp16 on a device other than CUDA.
    """
    if requested not in PRECISIONS:
        raise UsageError(f"--precision {requested!r}: use one of {', '.join(PRECISIONS)}")
    cuda = device.startswith("cuda")
    if requested == "fp16" and not cuda:
        raise UsageError(f"--precision fp16 needs a CUDA device (its loss scaling runs on CUDA only), not {device}; use bf16 or fp32")
    if requested != "auto":
        return requested
    if not cuda:
        return "fp32"
    import torch

    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
