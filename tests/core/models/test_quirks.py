"""Catalog quirks: matched from GGUF metadata, applied by the loop and the in-process provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent.messages import Message, ToolCall
from app.core.agent.session import Session, SessionOptions
from app.core.models.gguf_meta import chat_template, read_gguf_metadata
from app.core.models.quirks import match_quirks, quirks_by_id, quirks_for_gguf
from app.core.providers.base import Capabilities, ProviderRequest
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.providers.scripted import ScriptedProvider
from app.core.tools.base import ToolRegistry
from app.core.tools.defaults import builtin_tools
from tests.core.wire.template_set import TEMPLATES_DIR

NANBEIGE = quirks_by_id("nanbeige4.1-3b")


def test_catalog_entry_records_nanbeige_quirks() -> None:
    assert NANBEIGE is not None
    assert NANBEIGE.always_reasons and NANBEIGE.think_prefill == "<think>\n</think>\n\n"
    assert NANBEIGE.tool_call_format == "tags" and not NANBEIGE.grammar_tool_calls
    assert NANBEIGE.sampling["top_p"] == 0.95


@pytest.mark.parametrize("meta, filename", [
    ({"general.name": "Nanbeige4.1 3B"}, ""),
    ({"general.basename": "Nanbeige4.1", "general.size_label": "3B"}, ""),
    ({}, "/models/Nanbeige4.1-3B-Q8_0.gguf"),
])
def test_matching_by_metadata_or_file_name(meta: dict[str, str], filename: str) -> None:
    found = match_quirks(meta, filename)
    assert found is not None and found.model_id == "nanbeige4.1-3b"


def test_unknown_models_have_no_quirks() -> None:
    assert match_quirks({"general.name": "Llama 3.2 1B Instruct"}, "llama.gguf") is None


def test_default_model_is_matched_by_its_own_metadata(model_path: Path) -> None:
    meta = read_gguf_metadata(model_path, {"general.name"})
    assert meta["general.name"].startswith("Qwen2.5 Coder 0.5B")
    found = quirks_for_gguf(model_path)
    assert found is not None and found.model_id == "qwen2.5-coder-0.5b" and found.grammar_tool_calls
    assert "<|im_start|>" in chat_template(model_path)


async def test_the_loop_sends_the_empty_think_prefill_only_with_thinking_off(tmp_path: Path) -> None:
    provider = ScriptedProvider(["one", "two"])
    provider.capabilities = Capabilities(always_reasons=True,
                                         think_prefill="<think>\n</think>\n\n")
    session = Session(provider, options=SessionOptions(workspace=tmp_path))
    await session.run_turn("hi")
    session.thinking = True
    await session.run_turn("think hard")
    assert [r.prefill for r in provider.requests] == ["<think>\n</think>\n\n", ""]


@pytest.mark.model
def test_inprocess_provider_applies_the_quirks(model_path: Path) -> None:
    # The real GGUF with a Nanbeige-style template: quirks come from the catalog entry.
    provider = LlamaInProcessProvider(model_path, n_ctx=2048, quirks=NANBEIGE,
                                      chat_template=(TEMPLATES_DIR / "nanbeige.jinja").read_text())
    try:
        call = ToolCall("c1", "exec", {"command": "python hello.py"})
        request = ProviderRequest(
            messages=(Message(role="system", content="Be brief."),
                      Message(role="user", content="run hello.py"),
                      Message(role="assistant", content="", tool_calls=(call,)),
                      Message(role="tool", content="hi", tool_call_id="c1", name="exec")),
            tools=tuple(t.spec for t in builtin_tools()), prefill=NANBEIGE.think_prefill
            if NANBEIGE else "")
        prompt = provider.render_prompt(request)
        caps = provider.capabilities
        assert caps.always_reasons and caps.template.probed and caps.template.tool_calls
        assert "<tools>" in prompt and '"name": "write_file"' in prompt  # the template's own list
        assert '<tool_call>\n{"name": "exec", "arguments": {"command": "python hello.py"}}' in prompt
        assert "<tool_response>\nhi\n</tool_response>" in prompt
        assert prompt.endswith("<|im_start|>assistant\n<think>\n</think>\n\n")
        assert provider._grammar(request) is None  # tags models are not grammar-constrained
        assert not provider._starts_in_reasoning(request)
    finally:
        if provider._llama is not None:
            provider._llama.close()


@pytest.mark.model
def test_inprocess_provider_with_a_strict_template_never_crashes(model_path: Path) -> None:
    provider = LlamaInProcessProvider(
        model_path, n_ctx=2048, chat_template=(TEMPLATES_DIR / "gemma3_strict.jinja").read_text())
    try:
        session = Session(provider, tools=ToolRegistry(builtin_tools()),
                          options=SessionOptions(workspace=model_path.parent))
        session.history = [Message(role="user", content="a"), Message(role="user", content="b"),
                           Message(role="tool", content="orphan", tool_call_id="x", name="exec"),
                           Message(role="notice", content="note")]
        request = ProviderRequest(messages=tuple(session.build_messages()),
                                  tools=session.tools.specs())
        prompt = provider.render_prompt(request)
        assert provider.capabilities.template.alternation and provider.template_fallbacks == 0
        assert prompt.count("<start_of_turn>user") == 1 and "You can call tools" in prompt
        # A result without its call is kept, as text: the model still reads it.
        assert "[Tool result: exec]\norphan" in prompt and "[System notice] note" in prompt
    finally:
        if provider._llama is not None:
            provider._llama.close()
