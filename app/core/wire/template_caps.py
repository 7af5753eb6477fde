"""What a chat template accepts, found by test-rendering it (the way llama.cpp's minja does).

No model name is consulted: each constraint is a small message list rendered through the template,
and a constraint holds when the render raises or silently drops a needle string. The result is a
:class:`TemplateCaps` record that :mod:`app.core.wire.thread_repair` reads when it renders history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Render a wire message list through the template; raises when the template refuses it.
RenderFn = Callable[[list[dict[str, Any]]], str]

_SYS = "NbSystemNeedle"
_MID = "NbMidSystemNeedle"
_U1, _U2, _U3 = "NbUserOne", "NbUserTwo", "NbUserThree"
_A1, _A2 = "NbAssistantOne", "NbAssistantTwo"
_TOOL = "nb_probe_tool"
_TOOL2 = "nb_probe_other"
_ARG = "NbArgValue"
_RESULT, _RESULT2 = "NbToolResult", "NbToolResultTwo"


@dataclass(frozen=True)
class TemplateCaps:
    """Constraints of one chat template. The defaults describe a permissive (ChatML-like) one."""

    system_role: bool = True  # a leading system message is rendered
    system_mid: bool = True  # a system message later in the thread is rendered
    tool_calls: bool = True  # assistant ``tool_calls`` are rendered by the template itself
    parallel_tool_calls: bool = True  # several calls in one assistant message render
    object_arguments: bool = True  # call arguments go in as an object (else a JSON string)
    tool_role: bool = True  # ``tool`` messages render after an assistant message with calls
    tool_role_after_text: bool = True  # ``tool`` messages render after a plain assistant message
    alternation: bool = False  # user/assistant must alternate; same-role neighbours raise
    must_start_with_user: bool = False  # the first non-system message must be a user message
    must_end_with_user: bool = False  # a trailing assistant message is refused
    generation_opens_think: bool = False  # the generation prompt already opens ``<think>``
    probed: bool = False  # True when these came from rendering the template

    @classmethod
    def strictest(cls) -> TemplateCaps:
        """Assume nothing: plain alternating user/assistant text, starting and ending with user."""
        return cls(system_role=False, system_mid=False, tool_calls=False,
                   parallel_tool_calls=False, object_arguments=True, tool_role=False,
                   tool_role_after_text=False, alternation=True, must_start_with_user=True,
                   must_end_with_user=True, probed=False)

    def to_dict(self) -> dict[str, bool]:
        return {k: bool(v) for k, v in self.__dict__.items()}


class TemplateProbeError(Exception):
    """The template cannot render even a single user message."""


def _renders(render: RenderFn, messages: list[dict[str, Any]], *needles: str) -> bool:
    try:
        out = render(messages)
    except Exception:
        return False
    return all(n in out for n in needles)


def _call(name: str, call_id: str, *, as_object: bool) -> dict[str, Any]:
    args: dict[str, Any] | str = {"nb_arg": _ARG}
    return {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": args if as_object else json.dumps(args)}}


def probe_template(render: RenderFn) -> TemplateCaps:
    """Test-render ``render`` with small message lists and record what it accepts."""
    user1 = {"role": "user", "content": _U1}
    if not _renders(render, [user1], _U1):
        raise TemplateProbeError("the chat template cannot render a single user message")
    try:
        opens_think = render([user1]).rstrip().endswith("<think>")
    except Exception:
        opens_think = False

    system_role = _renders(render, [{"role": "system", "content": _SYS}, user1], _SYS, _U1)
    alternation = not (
        _renders(render, [user1, {"role": "user", "content": _U2}], _U1, _U2)
        and _renders(render, [user1, {"role": "assistant", "content": _A1},
                              {"role": "assistant", "content": _A2},
                              {"role": "user", "content": _U2}], _A1, _A2, _U2))
    must_start_with_user = not _renders(
        render, [{"role": "assistant", "content": _A1}, user1], _A1, _U1)
    must_end_with_user = not _renders(render, [user1, {"role": "assistant", "content": _A1}], _A1)
    lead = [{"role": "system", "content": _SYS}] if system_role else []
    system_mid = _renders(render, [*lead, user1, {"role": "assistant", "content": _A1},
                                   {"role": "system", "content": _MID},
                                   {"role": "user", "content": _U2}], _MID, _U2)

    # Tool calls: objects first (most templates apply ``tojson`` to the arguments), then strings.
    def with_call(as_object: bool) -> list[dict[str, Any]]:
        return [user1, {"role": "assistant", "content": "",
                        "tool_calls": [_call(_TOOL, "call_p1", as_object=as_object)]}]

    follow = [{"role": "user", "content": _U2}]
    tool_calls, object_arguments = False, True
    if _renders(render, with_call(True) + follow, _TOOL, _ARG, _U2):
        tool_calls = True
    elif _renders(render, with_call(False) + follow, _TOOL, _ARG, _U2):
        tool_calls, object_arguments = True, False

    def result(content: str, call_id: str, name: str) -> dict[str, Any]:
        return {"role": "tool", "tool_call_id": call_id, "name": name, "content": content}

    tool_role = False
    parallel = False
    if tool_calls:
        cycle = [*with_call(object_arguments), result(_RESULT, "call_p1", _TOOL)]
        tool_role = (_renders(render, cycle, _RESULT)
                     and _renders(render, [*cycle, {"role": "assistant", "content": _A2},
                                           {"role": "user", "content": _U3}], _RESULT, _A2, _U3)
                     and _renders(render, [*cycle, {"role": "user", "content": _U3}],
                                  _RESULT, _U3))
        two = {"role": "assistant", "content": "", "tool_calls": [
            _call(_TOOL, "call_p1", as_object=object_arguments),
            _call(_TOOL2, "call_p2", as_object=object_arguments)]}
        if tool_role:
            parallel = _renders(render, [user1, two, result(_RESULT, "call_p1", _TOOL),
                                         result(_RESULT2, "call_p2", _TOOL2)],
                                _TOOL, _TOOL2, _RESULT, _RESULT2)
        else:
            parallel = _renders(render, [user1, two, {"role": "user", "content": _U2}],
                                _TOOL, _TOOL2, _U2)
    text_turn = [user1, {"role": "assistant", "content": _A1}]
    tool_after_text = (
        _renders(render, [*text_turn, result(_RESULT, "call_p1", _TOOL)], _RESULT)
        and _renders(render, [*text_turn, result(_RESULT, "call_p1", _TOOL),
                              {"role": "assistant", "content": _A2},
                              {"role": "user", "content": _U3}], _RESULT, _A2, _U3)
        and _renders(render, [*text_turn, result(_RESULT, "call_p1", _TOOL),
                              {"role": "user", "content": _U3}], _RESULT, _U3))
    return TemplateCaps(
        system_role=system_role, system_mid=system_mid, tool_calls=tool_calls,
        parallel_tool_calls=parallel, object_arguments=object_arguments, tool_role=tool_role,
        tool_role_after_text=tool_after_text, alternation=alternation,
        must_start_with_user=must_start_with_user, must_end_with_user=must_end_with_user,
        generation_opens_think=opens_think, probed=True)


def jinja_render_fn(template: str, *, bos_token: str = "", eos_token: str = "",
                    **extra: Any) -> RenderFn:
    """A render function for a GGUF's Jinja template, using llama-cpp-python's own formatter
    (so probing sees exactly what generation will see)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    # Typed as Any: its stubs want TypedDict messages, and ours are plain wire dicts.
    formatter: Any = Jinja2ChatFormatter(template=template, eos_token=eos_token,
                                         bos_token=bos_token)

    def render(messages: list[dict[str, Any]]) -> str:
        prompt: str = formatter(messages=messages, **extra).prompt
        return prompt

    return render
