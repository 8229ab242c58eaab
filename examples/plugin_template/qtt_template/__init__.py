"""qtt-seg plugin template: a tiny box-promptable segmenter (``template-tiny``) and its search
space (``template-space``).

Importing the package is light (no torch): qtt-seg imports ``qtt_template.plugin`` at start-up
for every command. torch comes in when a session opens (``plugin.make_wrapper``).
"""
