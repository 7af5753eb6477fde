"""The RLM delegate's loop on a scripted model: depth, fresh rounds, memory, stopping, budget."""

from __future__ import annotations

import json

from app.core.agent.events import Event
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.rlm.budget import Controller, RlmBudget
from app.core.rlm.delegate import MAX_DEPTH, Delegate, parse_action
from app.core.rlm.events import DelegateFinished, DelegateStarted, DelegateStep
from app.core.rlm.variables import ToolFailure, Workspace, ctx_grep, ctx_slice

LOG = "\n".join(f"2026-01-01 step {i} ok" for i in range(3000)) + \
    "\nerror: disk quota exceeded on /var/build/cache (code 122)\n" + \
    "\n".join(f"2026-01-01 step {i} ok" for i in range(3000, 6000))


def act(name: str, confidence: float = 0.2, **arguments: object) -> ScriptedReply:
    return ScriptedReply.text(json.dumps({"name": name, "arguments": arguments,
                                          "confidence": confidence}))


def workspace(text: str = LOG) -> Workspace:
    ws = Workspace()
    ws.add("output_0", text)
    return ws


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def test_recursion_never_exceeds_depth_two() -> None:
    # A model that only ever asks for a summary: the root asks, the helper asks again and is
    # refused, for as many rounds as the budgets allow.
    provider = ScriptedProvider([act("ctx_summarize", var="output_0", instruction="why?")] * 60)
    events: list[Event] = []
    delegate = Delegate(provider, emit=events.append, max_rounds=4)
    finding = await delegate.run("why did the build fail?", workspace())
    starts = [e for e in events if isinstance(e, DelegateStarted)]
    assert max(e.depth for e in starts) == MAX_DEPTH == 2
    assert delegate.deepest == 2 and len([e for e in starts if e.depth == 2]) >= 2
    steps = [e for e in events if isinstance(e, DelegateStep) and e.depth == 2 and e.round]
    assert steps and all("not available at depth 2" in e.action for e in steps)
    assert finding.max_depth == 1


async def test_each_round_is_a_fresh_single_turn_call_with_memory_as_state() -> None:
    replies = [act("mem_store", key="first_error", value="disk quota exceeded (code 122)")]
    replies += [act("ctx_grep", var="output_0", pattern=f"step {i}") for i in range(7)]
    replies += [act("answer", 0.9, text="disk quota exceeded on /var/build/cache (code 122)")]
    provider = ScriptedProvider(replies)
    delegate = Delegate(provider, max_rounds=20, budget_scale=100)
    finding = await delegate.run("why did the build fail?", workspace())
    assert "code 122" in finding.text
    sizes = []
    for req in provider.requests:
        assert [m.role for m in req.messages] == ["system", "user"]  # nothing accumulates
        sizes.append(len(req.messages[1].content))
    # The note made in round 1 is in every later prompt: the memory is the state.
    assert all("first_error: disk quota exceeded" in r.messages[1].content
               for r in provider.requests[1:])
    # Prompts stay bounded however many rounds run: results and memory are capped.
    assert max(sizes) < 9000
    # The raw 150K-char variable is never in a prompt; its preview is.
    assert all(len(LOG) > 100_000 and LOG[:2000] not in r.messages[1].content
               for r in provider.requests)
    # Evidence quoted verbatim from what the delegate saw (the probe found the error line).
    assert any("disk quota exceeded on /var/build/cache (code 122)" in e for e in finding.evidence)


async def test_stops_when_confident_after_min_rounds() -> None:
    provider = ScriptedProvider([act("ctx_grep", 0.5, var="output_0", pattern="error"),
                                 act("answer", 0.95, text="disk quota exceeded"),
                                 act("ctx_grep", var="output_0", pattern="never asked")])
    small = workspace("step 1 ok\nerror: disk quota exceeded\nstep 2 ok\n" * 100)
    budget = RlmBudget(time_budget_s=100.0, min_rounds=2)
    finding = await Delegate(provider).run("why did it fail?", small, budget=budget)
    assert finding.text == "disk quota exceeded" and finding.rounds == 2
    assert finding.stop_reason.startswith("confident")
    assert len(provider.requests) == 2


async def test_a_stalled_delegate_stops_and_still_answers() -> None:
    same = act("ctx_grep", var="output_0", pattern="error")
    provider = ScriptedProvider([same] * 4 + [act("answer", 0.6, text="quota exceeded")])
    finding = await Delegate(provider, budget_scale=100, max_rounds=10).run("why?", workspace())
    assert finding.stop_reason.startswith("stalled")
    assert finding.text == "quota exceeded"  # the final answer-only round
    last = provider.requests[-1].messages[1].content
    assert "call answer now" in last


async def test_time_budget_stops_when_the_next_round_will_not_fit() -> None:
    clock = Clock()

    class Slow(ScriptedProvider):
        async def stream(self, request, cancel):  # type: ignore[no-untyped-def,override]
            clock.t += 2.0  # every round takes two seconds
            async for ev in super().stream(request, cancel):
                yield ev

    provider = Slow([act("ctx_grep", var="output_0", pattern=f"step {i}") for i in range(20)]
                    + [act("answer", 0.5, text="quota")])
    delegate = Delegate(provider, clock=clock, max_rounds=20)
    budget = RlmBudget(time_budget_s=7.0, min_rounds=1, max_rounds=20)
    finding = await delegate.run("q", workspace(), budget=budget)
    assert finding.stop_reason.startswith("time budget")
    assert finding.rounds == 3  # 6 s used; a fourth (~2.4 s predicted) does not fit in 1 s


def test_budget_classes_and_ema() -> None:
    assert RlmBudget.for_request("what failed?", 5_000).min_rounds == 1
    assert RlmBudget.for_request("list all failing tests and count each", 150_000).min_rounds == 3
    assert RlmBudget.for_request("q", 5_000, interactive=True).time_budget_s == 1.5
    ctl = Controller(RlmBudget(10.0, 1))
    ctl.record(4.0, confidence=0.1, new_info=True)
    ctl.record(1.0, confidence=0.1, new_info=True)
    assert abs((ctl.ema_s or 0) - (0.3 * 1.0 + 0.7 * 4.0)) < 1e-9


def test_micro_tools_are_capped() -> None:
    ws = workspace()
    assert len(ctx_slice(ws, {"var": "output_0", "start": 0, "end": 50_000})) < 2100
    out = ctx_grep(ws, {"var": "output_0", "pattern": "ok"})
    assert out.startswith("6000 matching line(s)") and len(out) <= 2100
    assert len(out.splitlines()) <= 21
    try:
        ctx_grep(ws, {"var": "nope", "pattern": "x"})
    except ToolFailure as exc:
        assert "variables: output_0" in str(exc)
    else:
        raise AssertionError("an unknown variable must fail")


def test_a_prose_reply_is_an_answer_and_json_a_call() -> None:
    assert parse_action("The disk is full.", ("answer",)).name == "answer"
    a = parse_action('{"name": "ctx_grep", "arguments": {"var": "o", "pattern": "x"}, '
                     '"confidence": 70}', ("ctx_grep",))
    assert a.name == "ctx_grep" and a.args["pattern"] == "x" and a.confidence == 0.7


async def test_a_failing_model_is_reported_not_raised() -> None:
    from app.core.providers.base import ProviderError

    provider = ScriptedProvider([ScriptedReply(error=ProviderError("boom"))])
    events: list[Event] = []
    finding = await Delegate(provider, emit=events.append).run("q", workspace())
    assert "boom" in finding.error
    assert isinstance(events[-1], DelegateFinished) and "boom" in events[-1].error
