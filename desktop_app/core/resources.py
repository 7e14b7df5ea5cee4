"""Where the files shipped with the app live: the embedded models, the sample photos, the icon.

Why not ``Path(__file__).parents``: an installed wheel has no repository around it, so the
folder must travel as package data. The build (``setup.py``) installs the top-level
``assets/`` folder, the one copy kept in git, as ``desktop_app/assets``; here it is found with
:mod:`importlib.resources` relative to the ``desktop_app`` package. In a source checkout (and in
the editable install ``make venv`` makes) the package folder holds no ``assets``: the
checkout's own ``assets/``, beside the package folder, is used then, never another copy.
"""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

DIST_NAME = "seed-studio"
ASSETS = "assets"


def _package_dir() -> Path:
    """The ``desktop_app`` package folder (a plain directory: the app needs real files for
    onnxruntime and Qt, so zipped installs are not supported)."""
    return Path(str(resources.files("desktop_app")))


def assets_dir() -> Path:
    """``desktop_app/assets`` of an installed wheel or sdist, else the checkout's ``assets/``."""
    packaged = _package_dir() / ASSETS
    if packaged.is_dir():
        return packaged
    return _package_dir().parent / ASSETS


def samples_dir() -> Path:
    """The bundled public-domain sample photos."""
    return assets_dir() / "samples"


def icon_svg() -> Path:
    """The app's icon, drawn as SVG (PNG sizes are rendered from it)."""
    return assets_dir() / "icons" / "seed-studio.svg"


def app_version() -> str:
    """The installed distribution's version (single source: ``pyproject.toml``); a checkout run
    without any install says so instead of inventing a number."""
    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:
        return "0+unknown (not installed)"
