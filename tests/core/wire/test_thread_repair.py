"""Thread repair against real chat templates: probing, targeted repairs, and a 10,000-case fuzz."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.agent.messages import Message, ToolCall
from app.core.models.gguf_meta import chat_template
from app.core.wire.template_caps import TemplateCaps, TemplateProbeError, probe_template
from app.core.wire.thread_repair import (
    CONTINUE,
    INTERRUPTED,
    RESUMED,
    render_prompt,
    render_thread,
    repair_tool_pairs,
    unique_call_ids,
)
from tests.core.wire.template_set import TemplateUnderTest, file_templates, load

FILE_TEMPLATES = {t.name: t for t in file_templates()}


@pytest.fixture(scope="module")
def all_templates(model_path: Path) -> list[TemplateUnderTest]:
    own = chat_template(model_path)
    assert "<|im_start|>" in own  # really the GGUF's template, not a stand-in
    return [load("default-model", own), *FILE_TEMPLATES.values()]


# --- probing --------------------------------------------------------------------------------


def test_probe_finds_each_family_constraints() -> None:
    strict = FILE_TEMPLATES["gemma3_strict"].caps
    assert not strict.system_role and not strict.tool_role and strict.alternation
    assert strict.must_start_with_user and not strict.tool_calls
    gemma = FILE_TEMPLATES["gemma3"].caps
    assert gemma.system_role and gemma.alternation and not gemma.system_mid
    mistral = FILE_TEMPLATES["mistral_strict"].caps
    assert not mistral.system_role and mistral.alternation
    llama = FILE_TEMPLATES["llama3"].caps
    assert llama.tool_calls and llama.tool_role and not llama.parallel_tool_calls
    assert not llama.alternation
    chatml = FILE_TEMPLATES["chatml"].caps
    assert chatml.system_role and not chatml.tool_calls and chatml.tool_role_after_text
    nanbeige = FILE_TEMPLATES["nanbeige"].caps
    assert nanbeige.tool_calls and nanbeige.parallel_tool_calls and nanbeige.tool_role


def test_probe_default_model_template(all_templates: list[TemplateUnderTest]) -> None:
    caps = all_templates[0].caps
    assert caps.probed and caps.system_role and caps.tool_role and caps.tool_calls
    assert caps.object_arguments and not caps.alternation


def test_probe_detects_string_arguments_and_open_think() -> None:
    src = ("{% for m in messages %}{{ m.role }}:{{ m.content }}"
           "{% for c in m.tool_calls or [] %}{{ c.function.name }}{{ c.function.arguments + '' }}"
           "{% endfor %}\n{% endfor %}{% if add_generation_prompt %}assistant:<think>\n{% endif %}")
    caps = load("strings", src).caps
    assert caps.tool_calls and not caps.object_arguments and caps.generation_opens_think


def test_probe_refuses_a_template_that_renders_nothing() -> None:
    def broken(messages: list[dict[str, object]]) -> str:
        raise ValueError("nope")

    with pytest.raises(TemplateProbeError):
        probe_template(broken)


# --- targeted repairs -----------------------------------------------------------------------

READ = ToolCall("c1", "read_file", {"path": "app.py"})


def test_strict_template_folds_system_and_renders_tools_as_text() -> None:
    t = FILE_TEMPLATES["gemma3_strict"]
    history = [
        Message(role="system", content="Be brief."),
        Message(role="user", content="look at app.py"),
        Message(role="assistant", content="", tool_calls=(READ,)),
        Message(role="tool", content="print('x')", tool_call_id="c1", name="read_file"),
        Message(role="notice", content="steer: also check tests"),
        Message(role="system", content="mid-thread rule"),
    ]
    wire = render_thread(history, t.caps)
    assert [m["role"] for m in wire] == ["user", "assistant", "user"]
    assert wire[0]["content"].startswith("Be brief.\n\nlook at app.py")
    assert '"path": "app.py"' in wire[1]["content"]  # arguments kept
    assert "[Tool result: read_file]\nprint('x')" in wire[2]["content"]
    assert "[System notice] mid-thread rule" in wire[2]["content"]
    prompt, fallback = render_prompt(t.render, history, t.caps)
    assert not fallback and "print('x')" in prompt


def test_strict_thread_starts_and_ends_with_user() -> None:
    t = FILE_TEMPLATES["mistral_strict"]
    wire = render_thread([Message(role="assistant", content="hello"),
                          Message(role="assistant", content="again")], t.caps)
    assert wire[0] == {"role": "user", "content": RESUMED}
    assert wire[1] == {"role": "assistant", "content": "hello\n\nagain"}
    assert wire[-1] == {"role": "user", "content": CONTINUE}
    assert not render_prompt(t.render, [], t.caps)[1]


def test_unanswered_call_gets_interrupted_result_and_orphans_become_text() -> None:
    history = [Message(role="user", content="q"),
               Message(role="tool", content="orphan", tool_call_id="zz", name="x"),
               Message(role="assistant", content="", tool_calls=(READ,)),
               Message(role="user", content="never mind")]
    repaired = repair_tool_pairs(history)
    assert [m.role for m in repaired] == ["user", "user", "assistant", "tool", "user"]
    assert repaired[1].content == "[Tool result: x]\norphan"  # kept, as text
    assert repaired[3].content == INTERRUPTED and repaired[3].is_error


def test_single_call_template_gets_parallel_calls_as_text() -> None:
    t = FILE_TEMPLATES["llama3"]
    two = (READ, ToolCall("c2", "list_dir", {"path": "."}))
    history = [Message(role="user", content="go"), Message(role="assistant", content="", tool_calls=two),
               Message(role="tool", content="A", tool_call_id="c1", name="read_file"),
               Message(role="tool", content="B", tool_call_id="c2", name="list_dir")]
    wire = render_thread(history, t.caps)
    assert "tool_calls" not in wire[1] and '"list_dir"' in wire[1]["content"]
    prompt, fallback = render_prompt(t.render, history, t.caps)
    assert not fallback and "A" in prompt and "B" in prompt
    one = render_thread(history[:2] + history[2:3], t.caps)
    assert render_thread([history[0], Message(role="assistant", content="", tool_calls=(READ,)),
                          history[2]], t.caps)[1]["tool_calls"][0]["function"]["name"] == "read_file"
    assert one


def test_reused_call_id_does_not_leave_a_dangling_native_call() -> None:
    again = Message(role="assistant", content="", tool_calls=(READ,))
    history = [Message(role="user", content="q"), again,
               Message(role="tool", content="r1", tool_call_id="c1", name="read_file"), again]
    wire = render_thread(history, TemplateCaps())
    call_ids = [c["id"] for m in wire for c in m.get("tool_calls", ())]
    result_ids = [m["tool_call_id"] for m in wire if m["role"] == "tool"]
    assert len(set(call_ids)) == 2 and sorted(call_ids) == sorted(result_ids)


# --- fuzz -----------------------------------------------------------------------------------

IDS = ["c1", "c2", "c3", "c4", "dup"]
NAMES = ["read_file", "exec", "list_dir", "weird name"]
# Strategies are built once: constructing them per draw dominated the fuzz's run time.
# A small alphabet that still holds the characters templates and JSON care about.
TEXT = st.text(alphabet="ab \n\t{}<>|%#\x27\"\\:é中🙂", max_size=30)
ARGS = st.dictionaries(st.sampled_from(["path", "command", "n"]), st.one_of(TEXT, st.integers()),
                       max_size=2)
CALL = st.builds(ToolCall, st.sampled_from(IDS), st.sampled_from(NAMES), ARGS)
ASSISTANT = st.builds(lambda c, calls, r, x: Message(role="assistant", content=c,
                                                     tool_calls=tuple(calls), reasoning=r,
                                                     cancelled=x),
                      TEXT, st.lists(CALL, max_size=3), TEXT, st.booleans())
TOOL = st.builds(lambda c, i, n, e: Message(role="tool", content=c, tool_call_id=i, name=n,
                                            is_error=e),
                 TEXT, st.sampled_from([*IDS, None]), st.sampled_from(NAMES), st.booleans())
OTHER = st.builds(lambda r, c: Message(role=r, content=c),
                  st.sampled_from(["system", "user", "notice", "summary"]), TEXT)
MESSAGE = st.one_of(ASSISTANT, TOOL, OTHER, ASSISTANT, TOOL)


def must_survive(history: list[Message]) -> list[str]:
    """User text and every tool result: paired, reused id, second result or orphan alike."""
    keep = [m.content for m in history if m.role in ("user", "system", "notice", "summary", "tool")]
    return [k.strip() for k in keep if k.strip()]


def test_fuzz_every_template_renders_and_keeps_content(
        all_templates: list[TemplateUnderTest]) -> None:
    @settings(max_examples=10_000, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(MESSAGE, max_size=18), st.booleans())
    def check(history: list[Message], native: bool) -> None:
        needed = must_survive(history)
        for t in all_templates:
            prompt, fallback = render_prompt(t.render, history, t.caps, native_tools=native)
            assert not fallback, f"{t.name} needed the fallback"
            for text in needed:
                assert text in prompt, f"{t.name} lost {text!r}"

    check()


# --- ids reused across turns, second results, missing calls ------------------------------------


def adversarial_history() -> list[Message]:
    """What servers that number calls per response produce, plus the other unpairable cases."""
    first = ToolCall("call_0", "read_file", {"path": "a.py"})
    later = ToolCall("call_0", "list_dir", {"path": "src"})  # same id, a later turn
    return [
        Message(role="user", content="read a.py"),
        Message(role="assistant", content="", tool_calls=(first,)),
        Message(role="tool", content="RESULT-ONE", tool_call_id="call_0", name="read_file"),
        Message(role="tool", content="SECOND-RESULT", tool_call_id="call_0", name="read_file"),
        Message(role="assistant", content="done"),
        Message(role="user", content="now list src"),
        Message(role="assistant", content="", tool_calls=(later,)),
        Message(role="tool", content="RESULT-LATER", tool_call_id="call_0", name="list_dir"),
        Message(role="tool", content="NO-SUCH-CALL", tool_call_id="call_9", name="exec"),
    ]


def test_a_reused_id_pairs_with_its_own_call() -> None:
    repaired = repair_tool_pairs(adversarial_history())
    pairs = {m.tool_call_id: m.content for m in repaired if m.role == "tool"}
    assert pairs["call_0"] == "RESULT-ONE"
    renamed = [c.id for m in repaired for c in m.tool_calls if c.name == "list_dir"]
    assert renamed == ["call_0_2"] and pairs["call_0_2"] == "RESULT-LATER"
    texts = [m.content for m in repaired if m.role == "user"]
    assert "[Tool result: read_file]\nSECOND-RESULT" in texts
    assert "[Tool result: exec]\nNO-SUCH-CALL" in texts


def test_no_template_loses_an_unpairable_result(all_templates: list[TemplateUnderTest]) -> None:
    history = adversarial_history()
    for t in all_templates:
        for native in (True, False):
            prompt, fallback = render_prompt(t.render, history, t.caps, native_tools=native)
            assert not fallback, t.name
            for text in ("RESULT-ONE", "SECOND-RESULT", "RESULT-LATER", "NO-SUCH-CALL"):
                assert text in prompt, f"{t.name} lost {text}"


def test_call_ids_are_unique_when_a_reply_enters_the_history() -> None:
    history = adversarial_history()
    calls = [ToolCall("call_0", "read_file", {}), ToolCall("call_0", "exec", {}),
             ToolCall("", "glob", {})]
    ids = [c.id for c in unique_call_ids(calls, history)]
    assert len(set(ids)) == 3 and "call_0" not in ids and "call_9" not in ids and all(ids)
