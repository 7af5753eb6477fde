"""Run a learned recipe inside a turn: bind its arguments, let the model fill only what it must,
run each step through the session's own tool path (permissions, context gate, events), then
answer in the recipe's learned form, or leave the answer to the model where it has none or the
form does not bind.

Every step is committed to history as an ordinary assistant tool call and its result, so the
conversation, the session file and the trace show exactly what ran. A step whose arguments
cannot be made, or whose tool fails, ends the recipe there: the model carries on from what is
in history, as it would without a recipe, and the use counts as a failure of the recipe.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from app.core.agent.events import Notice, Usage
from app.core.agent.messages import Message, ToolCall, new_call_id
from app.core.learning.recipes import Recipe, Step
from app.core.learning.rules import Unbound, bind, render_answer
from app.core.providers.base import ProviderRequest, TextChunk, UsageChunk
from app.core.wire.tool_calls import loads_lenient

if TYPE_CHECKING:
    from app.core.agent.session import Session

log = logging.getLogger(__name__)

FILL_SYSTEM = ("You fill in the arguments of one step of a procedure that worked for earlier "
               "tasks of the same kind. Reply with one JSON object and nothing else.")
RESULT_SHOWN = 1500  # characters of each earlier step's result the fill prompt shows


@dataclass
class RecipeRun:
    recipe: str
    steps_run: int = 0
    fill_steps: int = 0
    completed: bool = False
    problem: str = ""
    answered: bool = False  # the learned answer form gave the answer: no model step
    skipped: int = 0  # read-only steps left out because nothing reads their results


def _fill_prompt(request: str, step: Step, fills: dict[str, dict[str, Any]],
                 bound: dict[str, Any], done: list[tuple[ToolCall, str]]) -> str:
    lines = [f"Task: {request}", ""]
    if done:
        lines.append("Results of the steps so far:")
        for call, result in done:
            lines.append(f"- {call.name}({json.dumps(call.arguments, ensure_ascii=False)}):")
            lines.append(result[:RESULT_SHOWN])
        lines.append("")
    known = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in bound.items())
    lines.append(f"Next step: {step.tool}" + (f" with {known}" if known else "") + ".")
    for name, spec in fills.items():
        lines.append(f"Fill in {name}: {spec.get('fill', name)}.")
        for ex in spec.get("examples", [])[:3]:
            if isinstance(ex, dict):
                lines.append(f"  For the task {json.dumps(ex.get('task', ''))} it was "
                             f"{json.dumps(ex.get('value'), ensure_ascii=False)}.")
    lines.append("Reply with a JSON object with the keys: " + ", ".join(fills) + ".")
    return "\n".join(lines)


async def fill_arguments(session: Session, turn_id: str, request: str, step: Step,
                         fills: dict[str, dict[str, Any]], bound: dict[str, Any],
                         done: list[tuple[ToolCall, str]]) -> dict[str, Any]:
    """One short model step whose whole reply is a JSON object of the missing arguments."""
    cancel = session.cancel_token
    if cancel is None:
        raise Unbound("the turn is over")
    schema = {"type": "object", "additionalProperties": False, "required": list(fills),
              "properties": {k: {"type": "integer"} if any(
                  isinstance(e, dict) and isinstance(e.get("value"), int)
                  for e in v.get("examples", [])) else {"type": "string"}
                  for k, v in fills.items()}}
    extra: dict[str, Any] = {}
    if session.provider.capabilities.grammar_tool_calls:  # a local model: hold it to the form
        from app.core.providers.grammar import schema_gbnf

        extra["grammar"] = schema_gbnf(schema)
    req = ProviderRequest(
        messages=(Message(role="system", content=FILL_SYSTEM),
                  Message(role="user", content=_fill_prompt(request, step, fills, bound, done))),
        tools=(), max_tokens=400, temperature=0.0, extra=extra)
    text: list[str] = []
    async for chunk in session.provider.stream(req, cancel):
        if isinstance(chunk, TextChunk):
            text.append(chunk.text)
        elif isinstance(chunk, UsageChunk):
            session.emit(Usage(turn_id, chunk.prompt_tokens, chunk.completion_tokens,
                               session.context_used, session.context_limit))
    if cancel.cancelled:
        raise Unbound("cancelled")
    try:
        value = loads_lenient("".join(text))
    except ValueError:
        value = None
    if not isinstance(value, dict) or not set(fills) <= set(value):
        raise Unbound(f"the model did not fill {', '.join(fills)}")
    return {k: value[k] for k in fills}


async def run_recipe(session: Session, turn_id: str, recipe: Recipe, values: dict[str, str],
                     request: str, *, answer_forms: bool = True) -> RecipeRun:
    """Run ``recipe``'s steps in ``turn_id``; afterwards it answers in its learned form, or the
    model answers from the results."""
    if not answer_forms:
        recipe = replace(recipe, answer=None)
    run = RecipeRun(recipe.name)
    session.emit(Notice(turn_id, f"Running learned recipe {recipe.name} "
                                 f"({' → '.join(s.tool for s in recipe.steps)})"))
    done: list[tuple[ToolCall, str]] = []
    results: list[str] = []  # one per step, "" for a skipped one, so rules' step numbers hold
    needed = recipe.needed_steps()
    for i, step in enumerate(recipe.steps):
        cancel = session.cancel_token
        if cancel is None or cancel.cancelled:
            run.problem = "cancelled"
            return run
        tool = session.tools.get(step.tool)
        if recipe.answer and i not in needed and getattr(tool, "read_only", False):
            run.skipped += 1
            results.append("")
            continue
        fills = step.fills()
        try:
            args = {k: bind(v, values, results) for k, v in step.args.items() if k not in fills}
            if fills:
                run.fill_steps += 1
                args.update(await fill_arguments(session, turn_id, request, step, fills, args,
                                                 done))
        except Unbound as exc:
            run.problem = f"step {run.steps_run + 1} ({step.tool}): {exc}"
            break
        call = ToolCall(new_call_id(), step.tool, args)
        session.commit_message(turn_id, Message(role="assistant", content="", tool_calls=(call,)))
        # As bound: the content a rule made is exact; a whole-file request to a small model
        # would write it anew (it set TIMEOUT too when asked for MAX_RETRIES = 199).
        await session.run_tool(turn_id, call, cancel, as_bound=True)
        run.steps_run += 1
        last = session.history[-1]
        if last.role != "tool" or last.is_error:
            run.problem = f"step {run.steps_run} ({step.tool}) failed"
            break
        done.append((call, last.content))
        results.append(last.content)
    else:
        run.completed = True
        text = _answer(recipe, values, results)
        if text:
            run.answered = True
            session.emit(Notice(turn_id, f"Answered in the form recipe {recipe.name} learned, "
                                         "without a model step."))
            session.finish_with(text)
        else:
            session.answer_next()
    if run.problem:
        log.info("recipe %s stopped: %s", recipe.name, run.problem)
        session.emit(Notice(turn_id, f"Recipe {recipe.name} stopped ({run.problem}); "
                                     "the model carries on.", level="warning"))
    return run


def _answer(recipe: Recipe, values: dict[str, str], results: list[str]) -> str:
    if not recipe.answer:
        return ""
    try:
        return render_answer(recipe.answer, values, results)
    except Unbound as exc:
        log.info("recipe %s: its answer form does not bind (%s); the model answers",
                 recipe.name, exc)
        return ""
