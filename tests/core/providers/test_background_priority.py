"""A background generation (the summariser's) runs at the lowest CPU priority, and so do the
threads it starts: on two cores the user's turn and the UI get the CPU first."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.providers.base import ProviderRequest
from app.core.providers.llama_inprocess import BACKGROUND_NICE, LlamaInProcessProvider
from app.core.settings.config import Config
from app.runtime.build import memory_summarizer
from tests.gguf_fixture import write_gguf

linux = pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")


def unloaded(tmp_path: Path) -> LlamaInProcessProvider:
    """A provider that is never loaded (only its file's header is checked)."""
    return LlamaInProcessProvider(write_gguf(tmp_path / "model.gguf"))


def priorities_seen(provider: LlamaInProcessProvider) -> list[int]:
    """Run ``_generate`` in a thread of its own (as stream() does); record the priority of that
    thread and of a thread it starts (as llama.cpp starts its compute threads)."""
    seen: list[int] = []

    def fake_generate(request: object, cancel: object, put: object) -> None:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        worker = threading.Thread(target=lambda: seen.append(
            os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        worker.start()
        worker.join()

    provider._generate_locked = fake_generate  # type: ignore[method-assign]
    thread = threading.Thread(target=provider._generate,
                              args=(ProviderRequest(messages=()), CancelToken(), lambda _: None))
    thread.start()
    thread.join()
    return seen


@linux
def test_a_background_generation_and_its_threads_run_at_the_lowest_priority(
        tmp_path: Path) -> None:
    provider = unloaded(tmp_path)
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert priorities_seen(provider) == [base, base]  # a foreground one is left alone
    provider.background = True
    assert priorities_seen(provider) == [BACKGROUND_NICE, BACKGROUND_NICE]
    assert os.getpriority(os.PRIO_PROCESS, 0) == base  # the app's own thread is untouched


def test_the_summariser_model_is_marked_as_background(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    from app.core.providers import registry

    made = unloaded(tmp_path)
    monkeypatch.setattr(registry, "local_provider",
                        lambda *a, **k: registry.Selection(made, []))
    summarizer = memory_summarizer(Config())
    assert summarizer._factory is not None
    assert summarizer._factory() is made and made.background
