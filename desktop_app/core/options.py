"""Options shared by the CLI, the batch engine and the GUI, validated in one place.

One dataclass means a setting added here shows up in every front end with the same meaning
and the same error message for bad values.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from desktop_app.core.files import DEFAULT_MAX_FILE_BYTES, DEFAULT_NAME_MAX
from desktop_app.core.imageio import DEFAULT_MAX_PIXELS, normalise_format

_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
NAMED_COLOURS = {
    "white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 128, 0),
    "blue": (0, 0, 255), "grey": (128, 128, 128), "gray": (128, 128, 128),
}  # fmt: skip


@dataclass(frozen=True)
class Background:
    """What goes behind the subject: ``transparent``, ``colour``, ``blur`` or ``image``."""

    kind: str = "transparent"
    colour: tuple[int, int, int] = (255, 255, 255)
    image: Path | None = None
    blur_strength: float = 0.02

    def __str__(self) -> str:
        if self.kind == "colour":
            return "#{:02x}{:02x}{:02x}".format(*self.colour)
        if self.kind == "image":
            return str(self.image)
        return self.kind


def parse_colour(text: str) -> tuple[int, int, int]:
    """'#rrggbb', 'rrggbb', '#rgb' or a few names -> (r, g, b); ValueError otherwise."""
    t = text.strip().lower()
    if t in NAMED_COLOURS:
        return NAMED_COLOURS[t]
    m = _HEX.match(t)
    if not m:
        raise ValueError(f"not a colour: {text!r} (use #rrggbb, e.g. #ffffff)")
    hexs = m.group(1)
    if len(hexs) == 3:
        hexs = "".join(c * 2 for c in hexs)
    return int(hexs[0:2], 16), int(hexs[2:4], 16), int(hexs[4:6], 16)


def parse_background(text: str | Background | None) -> Background:
    """Parse 'transparent' | '#rrggbb' / colour name | 'blur' | an image path.

    A path must exist (checked now, so a typo fails before a long batch, not after it).
    """
    if text is None:
        return Background()
    if isinstance(text, Background):
        return text
    t = text.strip()
    if t.lower() in ("", "transparent", "none", "alpha"):
        return Background()
    if t.lower() == "blur":
        return Background(kind="blur")
    try:
        return Background(kind="colour", colour=parse_colour(t))
    except ValueError:
        pass
    p = Path(t).expanduser()
    if p.is_file():
        return Background(kind="image", image=p)
    raise ValueError(
        f"background {text!r} is neither 'transparent', 'blur', a #rrggbb colour nor an existing image file"
    )


@dataclass(frozen=True)
class RemoveOptions:
    """How to turn one photo into one output file (the CLI flags and the GUI's export panel).

    ``name_pattern`` placeholders: ``{stem}`` (input name without extension), ``{ext}``
    (output extension), ``{srcext}`` (input extension without dot). ``crop_margin`` is a fraction
    of the subject's longer side. ``jpg_background`` is what JPEG output (no alpha) is flattened
    onto when the background is transparent. ``max_pixels`` (decompression bombs) and
    ``max_file_bytes`` (a ``/dev/zero`` or a disk image named ``.jpg``) refuse inputs before
    they cost memory; None lifts a limit.
    """

    model_path: Path | None = None
    convention: str | None = None
    background: Background = field(default_factory=Background)
    refine: bool = False
    second_pass: bool = False  # re-predict the subject with the click model (core/second_pass.py)
    threshold: float | None = None
    crop: bool = False
    crop_margin: float = 0.03
    format: str = "png"
    mask_only: bool = False
    overwrite: bool = False
    name_pattern: str = "{stem}.{ext}"
    foreground_estimation: bool = True
    quality: int = 95
    jpg_background: tuple[int, int, int] = (255, 255, 255)
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES

    def __post_init__(self) -> None:
        object.__setattr__(self, "format", normalise_format(self.format))
        object.__setattr__(self, "background", parse_background(self.background))
        if self.model_path is not None:
            object.__setattr__(self, "model_path", Path(self.model_path))
        if self.threshold is not None and not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {self.threshold}")
        if not 0.0 <= self.crop_margin <= 1.0:
            raise ValueError(f"crop margin must be a fraction between 0 and 1, got {self.crop_margin}")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be 1..100, got {self.quality}")
        for name, limit in (("max_pixels", self.max_pixels), ("max_file_bytes", self.max_file_bytes)):
            if limit is not None and not limit > 0:
                raise ValueError(f"{name} must be positive (or None for no limit), got {limit}")
        try:
            shortest = self.name_pattern.format(stem="x", ext="png", srcext="jpg")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"bad name pattern {self.name_pattern!r}: use {{stem}}, {{ext}} and {{srcext}} only"
            ) from exc
        if len(shortest.encode("utf-8")) > DEFAULT_NAME_MAX:  # too long even for a one-letter name
            raise ValueError(
                f"name pattern {self.name_pattern!r} makes names too long: {len(shortest.encode('utf-8'))} bytes "
                f"for a one-letter photo name, and file systems allow {DEFAULT_NAME_MAX}"
            )
        if "/" in self.name_pattern or "\\" in self.name_pattern:
            raise ValueError("the name pattern must not contain folder separators")

    @property
    def extension(self) -> str:
        """Output file extension without the dot."""
        return self.format

    def with_changes(self, **changes) -> RemoveOptions:
        """Copy with some fields replaced (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["background"] = str(self.background)
        d["model_path"] = str(self.model_path) if self.model_path else None
        return d


# The batch engine and the CLI speak of "batch options"; it is the same set of settings.
BatchOptions = RemoveOptions
