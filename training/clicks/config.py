"""Constants of the click task shared by its commands and its export."""

from __future__ import annotations

TRAINING_DATA = (
    "DUTS-TR (Wang et al., CVPR 2017) masks and their connected components, research use; "
    "clicks simulated; validated on Berkeley (McGuinness & O'Connor), BSDS terms"
)
