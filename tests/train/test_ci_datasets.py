"""Dataset tests skip on a machine without ../shared/datasets, but in CI a missing dataset is a
failure, whichever way the CI service spells "yes" (GitHub Actions: "true"; others "1", "True")."""

from __future__ import annotations

import pytest

from .conftest import shared_dataset

MISSING = "no-such-dataset-anywhere"


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "1", "yes"])
def test_ci_requires_the_datasets(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="missing"):
        shared_dataset(MISSING)


@pytest.mark.parametrize("value", [None, "", "0", "false"])
def test_outside_ci_a_missing_dataset_skips(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception):
        shared_dataset(MISSING)
