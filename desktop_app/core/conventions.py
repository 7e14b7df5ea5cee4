"""The preprocessing conventions of the third-party segmentation families we can run.

Kept apart from :mod:`desktop_app.core.models` (which turns files into specs) because this
is reference data: each entry follows how that family was trained (its authors' inference
code), cross-checked with rembg's sessions, and says where and why rembg differs.
"""

from __future__ import annotations

from desktop_app.core.errors import ModelError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# name -> preprocessing of that family. Sizes are (H, W).
CONVENTIONS: dict[str, dict] = {
    # U2-Net (Qin et al.): image / image.max(), ImageNet mean/std, 320x320; d0 is already a
    # sigmoid; the authors' test script and rembg min-max normalise the map (normPRED).
    "u2net": dict(input_size=(320, 320), mean=IMAGENET_MEAN, std=IMAGENET_STD, activation="none",
                  scale="image-max", minmax=True, output_meaning="U2-Net d0 saliency (min-max stretched)"),
    # ISNet/DIS (Qin et al. 2022): /255, mean 0.5, std 1.0, 1024x1024, sigmoid inside the graph,
    # min-max at inference. rembg uses mean (0.485, 0.456, 0.406) and /max: at most 0.035 apart.
    "isnet": dict(input_size=(1024, 1024), mean=(0.5, 0.5, 0.5), std=(1.0, 1.0, 1.0), activation="none",
                  scale="unit", minmax=True, output_meaning="ISNet saliency (min-max stretched)"),
    # BiRefNet: /255, ImageNet mean/std, 1024x1024, outputs logits -> sigmoid. Its authors use the
    # sigmoid as is (calibrated), so no min-max (rembg stretches anyway).
    "birefnet": dict(input_size=(1024, 1024), mean=IMAGENET_MEAN, std=IMAGENET_STD, activation="sigmoid",
                     scale="unit", minmax=False, output_meaning="BiRefNet foreground probability"),
    # BRIA RMBG as packaged by rembg (bria-rmbg-2.0.onnx): ImageNet, 1024, output 0, min-max.
    "bria-rmbg": dict(input_size=(1024, 1024), mean=IMAGENET_MEAN, std=IMAGENET_STD, activation="none",
                      scale="unit", minmax=True, output_meaning="RMBG foreground (min-max stretched)"),
    # Our own models without metadata (should not happen): /255, identity normalisation.
    "seed": dict(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), activation="none", scale="unit", minmax=False),
}  # fmt: skip

ALIASES = {
    "u2netp": "u2net", "u2net_human_seg": "u2net", "silueta": "u2net", "u2net-custom": "u2net",
    "u2net_custom": "u2net", "isnet-general-use": "isnet", "isnet-anime": "isnet", "dis": "isnet",
    "birefnet-general": "birefnet", "birefnet-general-lite": "birefnet", "birefnet-portrait": "birefnet",
    "birefnet-dis": "birefnet", "birefnet-hrsod": "birefnet", "birefnet-cod": "birefnet",
    "birefnet-massive": "birefnet", "bria": "bria-rmbg", "rmbg": "bria-rmbg",
}  # fmt: skip

_UNSUPPORTED_NAMES = {
    "u2net_cloth_seg": "a clothing parser with 3 class maps, not a foreground model",
    "sam": "Segment Anything needs prompts and an encoder/decoder pair",
}


def convention_names() -> list[str]:
    """Every accepted ``--convention`` value (families and their aliases)."""
    return sorted(set(CONVENTIONS) | set(ALIASES))


def resolve_convention(name: str) -> str:
    """Family name for a user-given convention; ModelError listing choices when unknown."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in CONVENTIONS:
        raise ModelError(f"unknown convention {name!r}; choose one of: {', '.join(convention_names())}")
    return key


def convention_from_filename(stem: str) -> str | None:
    s = stem.lower()
    for bad, why in _UNSUPPORTED_NAMES.items():
        if (
            s == bad
            or s.startswith((bad + "_", bad + "-", bad + "."))
            or (bad == "u2net_cloth_seg" and s.startswith(bad))
        ):
            raise ModelError(f"{stem}: {why}; it cannot be used for background removal")
    if s.startswith("birefnet"):
        return "birefnet"
    if s.startswith(("bria", "rmbg")):
        return "bria-rmbg"
    if s.startswith(("isnet", "dis_", "dis-")):
        return "isnet"
    if s.startswith(("u2net", "silueta")):
        return "u2net"
    return None
