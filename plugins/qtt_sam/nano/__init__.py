"""sam-nano, the offline default model: :mod:`qtt_sam.nano.meta` registers its shipped
meta-dataset and predictors (``assets/``).

The weights in ``assets/sam_nano.safetensors`` were made by the pretraining tools in
``tools/sam_nano/`` of a checkout of the repository; they are not installed with the package.
How: ``tools/sam_nano/README.md`` and ``qtt_sam/assets/README.md``.
"""
