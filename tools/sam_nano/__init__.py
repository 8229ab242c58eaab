"""How sam-nano, the offline default model, is made: its pretraining data, pretraining command and
quality check. Run from the repository root (see README.md beside this file)::

    python -m tools.sam_nano.pretrain --out DIR --steps N [--resume] [--export FILE]
    python -m tools.sam_nano.evaluate --weights plugins/qtt_sam/assets/sam_nano.safetensors

- :mod:`tools.sam_nano.scenes`: procedural scenes with box prompts, deterministic by (seed, index);
- :mod:`tools.sam_nano.pretrain`: resumable pretraining with a fixed seed;
- :mod:`tools.sam_nano.evaluate`: zero-shot IoU against filling the prompt box.

Prompts, the mask loss and IoU come from the training engine (:mod:`qtt_engine.prompts`,
:mod:`qtt_engine.losses`, :mod:`qtt_engine.metrics`). What the installed plugin needs at run
time (the shipped meta-dataset's spec) stays in :mod:`qtt_sam.nano.meta`.
"""
