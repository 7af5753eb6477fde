"""Shared fixtures: a private NANOBOT_HOME per test, no API keys, and the real bundled model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# The fault-injecting OpenAI-compatible server's ``fault`` fixture, for every test module.
pytest_plugins = ["tests.fault_server"]

# Hermetic: whatever keys the developer or CI has set must not change what tests do.
_KEY_HINTS = ("API_KEY", "_TOKEN", "OPENAI", "ANTHROPIC", "OPENROUTER", "BRAVE")


@pytest.fixture(autouse=True)
def nanobot_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "nanobot-home"
    monkeypatch.setenv("NANOBOT_HOME", str(home))
    for name in list(os.environ):
        if any(h in name for h in _KEY_HINTS):
            monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the embedded model is assembled once for the whole run."""
    shared = os.environ.get("NANOBOT_TEST_MODELS_DIR")
    return Path(shared) if shared else tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def model_path(models_dir: Path) -> Path:
    from app.core.models.embedded import ensure_embedded

    return ensure_embedded(directory=models_dir)


@pytest.fixture(autouse=True)
def _share_models_dir(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests that build providers through config find the already-assembled model here.
    if "model_path" in request.fixturenames or request.node.get_closest_marker("model"):
        models = request.getfixturevalue("models_dir")
        monkeypatch.setenv("NANOBOT_MODELS_DIR", str(models))


@pytest.fixture(scope="session")
def local_model(model_path: Path) -> Iterator[object]:
    """The default model loaded in-process once per run (it is not bound to an event loop)."""
    from app.core.providers.llama_inprocess import LlamaInProcessProvider

    provider = LlamaInProcessProvider(model_path, n_ctx=4096, temperature=0.0, seed=7,
                                      label="qwen2.5-coder-0.5b", tool_nudge=True)
    provider._load_sync()
    yield provider
    if provider._llama is not None:
        provider._llama.close()
