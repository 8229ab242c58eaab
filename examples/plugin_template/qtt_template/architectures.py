"""The model names of this plugin and their sizes: the one table that the adapter, the wrapper
and error messages read. Plain data, so ``qtt_template.plugin`` can import it without torch."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ARCHITECTURES", "TinyArchitecture"]


@dataclass(frozen=True)
class TinyArchitecture:
    """Sizes of one model.

    Attributes:
        dim: channels of the image embedding (and width of the encoder blocks).
        depth: number of encoder blocks (where LoRA can go).
        heads: attention heads per block.
        patch: side of the stem's patches, pixels (the embedding grid is ``input_size / patch``).
        input_size: side of the native square input, pixels.
        seed: seed of the random initial weights (used when no checkpoint is given).
    """

    dim: int
    depth: int
    heads: int
    patch: int
    input_size: int
    seed: int = 0


#: model name -> sizes, largest first (qtt-seg's conformance checks use the last one)
ARCHITECTURES: dict[str, TinyArchitecture] = {
    "template-tiny": TinyArchitecture(dim=32, depth=2, heads=2, patch=4, input_size=64),
}
