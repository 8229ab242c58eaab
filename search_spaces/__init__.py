"""Search-space files (ConfigSpace YAML) shipped with qtt-seg; the core registers each by file name."""
