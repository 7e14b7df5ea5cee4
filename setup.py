"""Package layout that pyproject.toml alone cannot say: the top-level ``assets/`` folder (the one
copy of the embedded models, their cards, the sample photos and the icon, which the training
exports, docs and tests name as ``assets/...``) is installed as the package data folder
``desktop_app/assets``, so a wheel or an sdist carries it and the app finds it with
``importlib.resources`` (``desktop_app.core.resources``). Everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["desktop_app*", "training*"]), "desktop_app.assets"],
    package_dir={"desktop_app.assets": "assets"},
)
