"""Constants of the segmentation task shared by its commands and its export (kept here so
that ``cli`` and ``export`` need not import each other)."""

from __future__ import annotations

TRAINING_DATA = (
    "DUTS-TR (Wang et al., CVPR 2017), 10,553 image/mask pairs, research use; "
    "validated on SOD (Movahedi & Elder 2010, BSDS500 images), non-commercial research and education"
)

ARCHITECTURES = {
    "seednet": "SeedNet (inverted-residual encoder, FPN decoder, deep supervision, refine head)",
    "lite0": "SeedNet-Lite0 (EfficientNet-Lite0 encoder, FPN decoder with context attention, deep supervision, "
    "refine head)",
}
