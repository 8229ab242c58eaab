"""SAM 2 models by name: which shipped config of the ``sam2`` package, overrides, weights.

Nothing here imports ``sam2``; :func:`model_config` reads the package's YAML when called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtt_core.errors import UnknownNameError

if TYPE_CHECKING:
    from omegaconf import DictConfig

__all__ = ["ARCHITECTURES", "Sam2Architecture", "get_architecture", "model_config"]

_URL = "https://dl.fbaipublicfiles.com/segment_anything_2/092824/"
#: ``Hiera(stages=...)``'s default, used by configs that leave it out
_HIERA_DEFAULT_STAGES = (2, 3, 16, 3)


@dataclass(frozen=True)
class Sam2Architecture:
    """A SAM 2 model: the package's config file plus overrides, and where its weights are.

    Attributes:
        name: the model name users pass (``sam2.1-hiera-tiny``).
        config_file: path of the config inside the ``sam2`` package.
        overrides: dotted config keys -> values applied on top of the file.
        image_size: native input side, in pixels.
        stages: blocks per Hiera stage (their sum is the number of trunk blocks).
        checkpoint_file / checkpoint_url / checkpoint_sha256: the official weights
            (``{"model": state_dict}``); None for ``sam2-test`` (seeded random weights).
            Meta publishes no checksums for SAM 2.1, so ``checkpoint_sha256`` is None: a
            download is checked against its Content-Length, and the SHA-256 of the first good
            one is recorded beside it and verified on every later load.
    """

    name: str
    config_file: str
    stages: tuple[int, ...]
    image_size: int = 1024
    overrides: dict[str, Any] = field(default_factory=dict)
    checkpoint_file: str | None = None
    checkpoint_url: str | None = None
    checkpoint_sha256: str | None = None

    @property
    def num_blocks(self) -> int:
        """Number of Hiera trunk blocks."""
        return sum(self.stages)


def _official(name: str, config: str, weights: str, stages: tuple[int, ...]) -> Sam2Architecture:
    return Sam2Architecture(name, f"configs/sam2.1/{config}", stages, checkpoint_file=weights, checkpoint_url=_URL + weights)


#: the small test model: SAM 2's Hiera + decoder, a 48-wide 5-block trunk, 64-wide neck and decoder, 256 px
_TEST_OVERRIDES: dict[str, Any] = {
    "model.image_size": 256,
    "model.image_encoder.trunk.embed_dim": 48,
    "model.image_encoder.trunk.num_heads": 1,
    "model.image_encoder.trunk.stages": [1, 1, 2, 1],
    "model.image_encoder.trunk.global_att_blocks": [3],
    "model.image_encoder.trunk.window_spec": [8, 4, 8, 4],
    "model.image_encoder.neck.backbone_channel_list": [384, 192, 96, 48],
    "model.image_encoder.neck.d_model": 64,
    "model.image_encoder.neck.position_encoding.num_pos_feats": 64,
    # the video memory modules are unused for images; made small and consistent with d_model 64
    "model.memory_attention.d_model": 64,
    "model.memory_attention.num_layers": 1,
    "model.memory_attention.layer.d_model": 64,
    "model.memory_attention.layer.dim_feedforward": 256,
    "model.memory_attention.layer.self_attention.embedding_dim": 64,
    "model.memory_attention.layer.self_attention.feat_sizes": [16, 16],
    "model.memory_attention.layer.cross_attention.embedding_dim": 64,
    "model.memory_attention.layer.cross_attention.feat_sizes": [16, 16],
    "model.memory_encoder.in_dim": 64,
    "model.memory_encoder.mask_downsampler.embed_dim": 64,
    "model.memory_encoder.fuser.layer.dim": 64,
}

ARCHITECTURES: dict[str, Sam2Architecture] = {
    arch.name: arch
    for arch in (
        _official("sam2.1-hiera-large", "sam2.1_hiera_l.yaml", "sam2.1_hiera_large.pt", (2, 6, 36, 4)),
        _official("sam2.1-hiera-base-plus", "sam2.1_hiera_b+.yaml", "sam2.1_hiera_base_plus.pt", (2, 3, 16, 3)),
        _official("sam2.1-hiera-small", "sam2.1_hiera_s.yaml", "sam2.1_hiera_small.pt", (1, 2, 11, 2)),
        _official("sam2.1-hiera-tiny", "sam2.1_hiera_t.yaml", "sam2.1_hiera_tiny.pt", (1, 2, 7, 2)),
        Sam2Architecture("sam2-test", "configs/sam2.1/sam2.1_hiera_t.yaml", (1, 1, 2, 1), 256, _TEST_OVERRIDES),
    )
}


def get_architecture(name: str) -> Sam2Architecture:
    """The architecture called ``name``.

    Raises:
        UnknownNameError: an unknown name (the message lists the known ones).
    """
    if name not in ARCHITECTURES:
        raise UnknownNameError(f"unknown model {name!r} for sam2; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]


def model_config(arch: Sam2Architecture) -> DictConfig:
    """The ``model`` node of ``arch``'s config: the package's YAML with the overrides applied.

    The YAML is read with OmegaConf directly rather than through hydra's ``compose``, so
    building never touches hydra's global state (safe to call any number of times).
    """
    import sam2
    from omegaconf import OmegaConf

    path = Path(sam2.__path__[0]) / arch.config_file
    config = OmegaConf.load(path)
    for key, value in arch.overrides.items():
        OmegaConf.update(config, key, value, merge=False)
    OmegaConf.resolve(config)
    stages = config.model.image_encoder.trunk.get("stages", _HIERA_DEFAULT_STAGES)  # base-plus uses Hiera's default
    if int(config.model.image_size) != arch.image_size or list(stages) != list(arch.stages):
        raise RuntimeError(f"{path} does not describe {arch.name} (image size or stages differ); sam2 package version mismatch?")
    return config.model
