"""The bundled model an empty main slot runs, per machine."""

from __future__ import annotations

import pytest

from app.core.models import default_model
from app.core.models.default_model import LARGER_MODEL_ID, default_model_id
from app.core.models.embedded import DEFAULT_MODEL_ID

GIB = 1 << 30


@pytest.mark.parametrize("cores, ram, larger_installed", [
    (2, 24 * GIB, True), (8, 32 * GIB, True), (8, 32 * GIB, False), (8, 4 * GIB, True),
])
def test_the_smaller_model_on_every_machine_as_measured(
        monkeypatch: pytest.MonkeyPatch, cores: int, ram: int, larger_installed: bool) -> None:
    # With the harness the larger model passed fewer of the 71 agent tasks (57 against 60) with
    # more unsupported claims (7 against 2), four times slower: installed or not, it is not the
    # default (BENCHMARKS.md, issue 13).
    monkeypatch.setattr(default_model, "installed",
                        lambda mid: larger_installed and mid == LARGER_MODEL_ID)
    assert default_model_id(cores=cores, ram=ram) == DEFAULT_MODEL_ID


def test_installed_reads_the_package_index_not_the_files() -> None:
    assert default_model.installed(DEFAULT_MODEL_ID)  # the default model's parts are a dependency
    assert not default_model.installed("no-such-model")
