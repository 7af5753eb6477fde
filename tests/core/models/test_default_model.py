"""The bundled model an empty main slot runs, per machine."""

from __future__ import annotations

import pytest

from app.core.models import default_model
from app.core.models.default_model import LARGER_MODEL_ID, default_model_id
from app.core.models.embedded import DEFAULT_MODEL_ID

GIB = 1 << 30


@pytest.mark.parametrize("cores, ram, larger_installed, expected", [
    (2, 24 * GIB, True, DEFAULT_MODEL_ID),   # 2 cores: the larger model is too slow per task
    (8, 32 * GIB, True, LARGER_MODEL_ID),
    (8, 32 * GIB, False, DEFAULT_MODEL_ID),  # not installed: nothing to choose
    (8, 4 * GIB, True, DEFAULT_MODEL_ID),    # no room for it
])
def test_choice_by_cores_memory_and_what_is_installed(
        monkeypatch: pytest.MonkeyPatch, cores: int, ram: int, larger_installed: bool,
        expected: str) -> None:
    monkeypatch.setattr(default_model, "installed",
                        lambda mid: larger_installed and mid == LARGER_MODEL_ID)
    assert default_model_id(cores=cores, ram=ram) == expected


def test_installed_reads_the_package_index_not_the_files() -> None:
    assert default_model.installed(DEFAULT_MODEL_ID)  # the default model's parts are a dependency
    assert not default_model.installed("no-such-model")
