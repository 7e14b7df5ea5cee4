"""Constants of the generator task shared by training and export."""

from __future__ import annotations

TRAINING_DATA = (
    "Microsoft Fluent Emoji 3D renders (github.com/microsoft/fluentui-emoji), 3,391 images, "
    "MIT licence; composited onto white and downscaled to 64x64; 10% held out by file-name hash"
)
