"""sam-nano, the offline default model: its pretraining data, pretraining command and quality check.

- :mod:`qtt_sam.nano.scenes`: procedural scenes with box prompts, deterministic by (seed, index);
- :mod:`qtt_sam.nano.pretrain`: ``python -m qtt_sam.nano.pretrain`` (resumable, fixed seed);
- :mod:`qtt_sam.nano.evaluate`: ``python -m qtt_sam.nano.evaluate`` (zero-shot IoU vs box filling).

How the shipped weights were made: NOTE.md beside this file and ``qtt_sam/assets/README.md``.
"""
