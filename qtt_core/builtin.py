"""The core's own providers, registered as a default plugin like any other."""

from __future__ import annotations

from qtt_core.hookspecs import hookimpl
from qtt_core.metafeatures import DefaultMetaFeatures
from qtt_core.space.loading import builtin_space_specs


@hookimpl
def qtt_search_spaces():
    """Every YAML file shipped in ``search_spaces/``."""
    return builtin_space_specs()


@hookimpl
def qtt_meta_feature_extractors():
    return [DefaultMetaFeatures()]
