"""Package layout that pyproject.toml alone cannot say: the top-level ``assets/`` folder (the one
copy of the embedded models, their cards, the sample photos and the icon, which the training
exports, docs and tests name as ``assets/...``) is installed as the package data folder
``desktop_app/assets``, so a wheel or an sdist carries it and the app finds it with
``importlib.resources`` (``desktop_app.core.resources``). Everything else lives in pyproject.toml.
"""

from setuptools import find_namespace_packages, find_packages, setup

# every folder of assets/ is a data-only package (models, samples, icons): listed, so setuptools
# neither warns about nor drops them; their file patterns are in pyproject.toml's package-data
ASSETS = ["desktop_app.assets", *(f"desktop_app.assets.{name}" for name in find_namespace_packages(where="assets"))]

setup(
    packages=[*find_packages(include=["desktop_app*", "training*"]), *ASSETS],
    package_dir={"desktop_app.assets": "assets"},
)
