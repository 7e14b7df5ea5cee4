"""Background-removal model (SegNet): ``train`` (task and training command), ``cli`` (eval and
export commands), ``export`` (checkpoint -> ONNX with metadata), ``config`` (shared constants)."""
