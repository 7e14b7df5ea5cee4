"""Latent-space generator, Qt-free: ``generator`` (ONNX decoder/encoder pair and its latent
space), ``mixture`` (the fitted prior), ``points`` (saved points, interpolation), ``frames``
(animation export)."""
