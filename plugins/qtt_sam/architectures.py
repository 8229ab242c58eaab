"""SAM architectures by model name, built from segment-anything's own modules.

The table is the one place the SAM models are named (the adapter lists its keys); importing
this module is light: torch and segment-anything load when :func:`build_sam` is called.

The official variants (``sam-vit-b``, ``-l``, ``-h``) use segment-anything's exact sizes;
``sam-tiny`` (random weights, for tests) and ``sam-nano`` (pretrained by the project, the
offline default) are the same architecture made small.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from qtt_core.errors import UnknownNameError

if TYPE_CHECKING:
    from segment_anything.modeling import Sam

__all__ = ["ARCHITECTURES", "SamArchitecture", "build_sam", "get_architecture"]


@dataclass(frozen=True)
class SamArchitecture:
    """Sizes of one SAM variant (pixels for sizes, channels for dims).

    Attributes:
        checkpoint_url / checkpoint_sha256: the official weights, when there are some.
        checkpoint_file: the file name the weights are known by (cache and local lookup).
    """

    name: str
    encoder_embed_dim: int
    encoder_depth: int
    encoder_num_heads: int
    encoder_global_attn_indexes: tuple[int, ...]
    image_size: int = 1024
    patch_size: int = 16
    window_size: int = 14
    prompt_embed_dim: int = 256
    decoder_depth: int = 2
    decoder_mlp_dim: int = 2048
    decoder_num_heads: int = 8
    iou_head_hidden_dim: int = 256
    mask_in_chans: int = 16
    checkpoint_file: str | None = None
    checkpoint_url: str | None = None
    checkpoint_sha256: str | None = None

    @property
    def embedding_size(self) -> int:
        """Side of the image embedding grid, in tokens."""
        return self.image_size // self.patch_size


_OFFICIAL = "https://dl.fbaipublicfiles.com/segment_anything/"
# SHA-256 of the official files: the same values are pinned by several independent projects
# (e.g. micro-sam's model registry, 3D Slicer's SAM extension).

ARCHITECTURES: dict[str, SamArchitecture] = {
    arch.name: arch
    for arch in (
        SamArchitecture(
            "sam-vit-h", 1280, 32, 16, (7, 15, 23, 31),
            checkpoint_file="sam_vit_h_4b8939.pth", checkpoint_url=_OFFICIAL + "sam_vit_h_4b8939.pth",
            checkpoint_sha256="a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e",
        ),
        SamArchitecture(
            "sam-vit-l", 1024, 24, 16, (5, 11, 17, 23),
            checkpoint_file="sam_vit_l_0b3195.pth", checkpoint_url=_OFFICIAL + "sam_vit_l_0b3195.pth",
            checkpoint_sha256="3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622",
        ),
        SamArchitecture(
            "sam-vit-b", 768, 12, 12, (2, 5, 8, 11),
            checkpoint_file="sam_vit_b_01ec64.pth", checkpoint_url=_OFFICIAL + "sam_vit_b_01ec64.pth",
            checkpoint_sha256="ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912",
        ),
        # the offline default: pretrained by the project (see nano/), weights ship with the plugin
        SamArchitecture(
            "sam-nano", 192, 4, 3, (1, 3), image_size=256, window_size=8, prompt_embed_dim=128,
            decoder_mlp_dim=512, decoder_num_heads=4, iou_head_hidden_dim=128,
            checkpoint_file="sam_nano.safetensors",
        ),
        # for tests: random weights, fast on a CPU
        SamArchitecture(
            "sam-tiny", 64, 2, 2, (1,), image_size=128, window_size=4, prompt_embed_dim=64,
            decoder_mlp_dim=128, decoder_num_heads=4, iou_head_hidden_dim=64,
        ),
    )
}


def get_architecture(model: str) -> SamArchitecture:
    """The architecture of ``model``; unknown names list the known ones."""
    try:
        return ARCHITECTURES[model]
    except KeyError:
        raise UnknownNameError(f"unknown model {model!r} for sam; known: {', '.join(ARCHITECTURES)}") from None


def build_sam(arch: SamArchitecture, seed: int | None = 0) -> Sam:
    """A SAM model of ``arch`` with freshly initialised weights (eval mode).

    Args:
        seed: seeds the initialisation so that two builds are identical (None: no seeding).
    """
    import torch
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    if seed is not None:
        torch.manual_seed(seed)
    size = arch.embedding_size
    sam = Sam(
        image_encoder=ImageEncoderViT(
            depth=arch.encoder_depth,
            embed_dim=arch.encoder_embed_dim,
            img_size=arch.image_size,
            mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=arch.encoder_num_heads,
            patch_size=arch.patch_size,
            qkv_bias=True,
            use_rel_pos=True,
            global_attn_indexes=arch.encoder_global_attn_indexes,
            window_size=arch.window_size,
            out_chans=arch.prompt_embed_dim,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=arch.prompt_embed_dim,
            image_embedding_size=(size, size),
            input_image_size=(arch.image_size, arch.image_size),
            mask_in_chans=arch.mask_in_chans,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=arch.decoder_depth,
                embedding_dim=arch.prompt_embed_dim,
                mlp_dim=arch.decoder_mlp_dim,
                num_heads=arch.decoder_num_heads,
            ),
            transformer_dim=arch.prompt_embed_dim,
            iou_head_depth=3,
            iou_head_hidden_dim=arch.iou_head_hidden_dim,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    return sam.eval()
