"""Tools run from a checkout of the repository, not installed with qtt-seg (``python -m tools.NAME ...``
from the repository root, with qtt-seg installed, e.g. ``pip install -e .``)."""
