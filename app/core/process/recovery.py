"""Rebuild a process's position from its checkpoint and the log written after it.

Replaying is strict. Each decision after the checkpoint must be the next step, must be legal in the
state reached so far (checked by the task's rules), and must extend the hash chain to the value it
recorded. Anything else stops the resume with the exact line and what to do; the state is never
guessed. Only a torn final line (the write a kill interrupted) is dropped: it has no newline, so it
was never a complete record.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from app.core.process.store import Checkpoint, ProcessStateError, ProcessStore
from app.core.process.task import Parsed, RedFlag, Task, TaskError

RECORD_TYPES = {"s", "f", "d", "e", "x", "start", "torn", "end"}


def chain_next(chain: str, key: str) -> str:
    return hashlib.sha256(f"{chain}|{key}".encode()).hexdigest()


@dataclass
class Position:
    step: int
    state: Any
    prev: Any
    chain: str
    log_offset: int
    log_line: int
    counters: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def new_counters() -> dict[str, Any]:
    return {"samples": 0, "flagged": 0, "flags": {}, "tokens": 0, "rounds": 0, "escalations": 0,
            "active_s": 0.0, "sampler_s": 0.0, "max_samples_step": 0, "hist": {}}


def count_sample(counters: dict[str, Any], rec: dict[str, Any]) -> None:
    counters["samples"] += 1
    tokens = rec.get("tok", 0)
    counters["tokens"] += tokens if isinstance(tokens, int) and tokens > 0 else 0
    if rec.get("r") == "f":
        counters["flagged"] += 1
        kind = str(rec.get("flag", "?"))
        counters["flags"][kind] = counters["flags"].get(kind, 0) + 1


def count_decision(counters: dict[str, Any], rec: dict[str, Any]) -> None:
    n = int(rec.get("n", 0))
    counters["rounds"] += int(rec.get("rounds", 0))
    counters["max_samples_step"] = max(counters["max_samples_step"], n)
    hist = counters["hist"]
    bucket = str(n if n < 20 else 20)
    hist[bucket] = hist.get(bucket, 0) + 1


def _corrupt(store: ProcessStore, line_no: int, offset: int, raw: bytes, why: str,
             keep_until: int) -> ProcessStateError:
    excerpt = raw[:160].decode("utf-8", "replace")
    return ProcessStateError(
        f"{store.log_path} line {line_no} (byte {offset}) cannot be trusted: {why}\n"
        f"  {excerpt!r}",
        "Nothing was changed. To drop this line and everything after it, and go on from the "
        f"last decision before it (step {keep_until}), run:\n"
        f"  nanobot process resume {store.id} --truncate-log-at {line_no}\n"
        "Or restore log.jsonl from a backup.")


def recover(store: ProcessStore, task: Task, cp: Checkpoint | None,
            truncate_at_line: int | None = None) -> Position:
    """Replay the log after ``cp`` (or from the start); truncate a torn tail; raise on damage."""
    if cp is None:
        state = task.initial_state()
        pos = Position(0, task.state_to_json(state), None, "", 0, 0, new_counters())
    else:
        try:
            state = task.state_from_json(cp.state)
            if cp.prev is not None:
                task.action_from_json(cp.prev)
        except TaskError as exc:
            raise ProcessStateError(
                f"checkpoint {store.checkpoint_path} holds an impossible state: {exc}",
                "Nothing was changed. To resume from the previous checkpoint run: "
                f"nanobot process resume {store.id} --from-backup") from exc
        counters = {**new_counters(), **json.loads(json.dumps(cp.counters))}
        pos = Position(cp.step, cp.state, cp.prev, cp.chain, cp.log_offset, cp.log_line, counters)
    size = store.log_path.stat().st_size if store.log_path.exists() else 0
    if pos.log_offset > size:
        raise ProcessStateError(
            f"{store.checkpoint_path.name} says the log has {pos.log_offset} bytes, "
            f"but {store.log_path} has only {size}: the log was truncated or replaced",
            "Nothing was changed. Restore log.jsonl, or resume from the previous checkpoint: "
            f"nanobot process resume {store.id} --from-backup")
    prev = task.action_from_json(pos.prev) if pos.prev is not None else None
    with open(store.log_path, "rb") as fh:
        fh.seek(pos.log_offset)
        offset, line_no = pos.log_offset, pos.log_line
        good_offset, good_line = offset, line_no
        for raw in fh:
            line_no += 1
            if truncate_at_line is not None and line_no >= truncate_at_line:
                pos.notes.append(f"dropped log lines from {line_no} on, as asked")
                _truncate(store, offset)
                break
            if not raw.endswith(b"\n"):
                pos.notes.append(f"skipped a torn final line {line_no} ({len(raw)} bytes)")
                _truncate(store, offset)
                break
            rec = _parse(raw)
            if rec is None:
                raise _corrupt(store, line_no, offset, raw, "not a log record", pos.step)
            kind = rec["r"]
            if kind in ("s", "f"):
                count_sample(pos.counters, rec)
            elif kind == "e":
                pos.counters["escalations"] += 1
            elif kind == "d":
                why = _replay_decision(task, state, prev, pos, rec)
                if isinstance(why, str):
                    raise _corrupt(store, line_no, offset, raw, why, pos.step)
                state, prev = why
                count_decision(pos.counters, rec)
            offset += len(raw)
            good_offset, good_line = offset, line_no
        pos.log_offset, pos.log_line = good_offset, good_line
    pos.state = task.state_to_json(state)
    pos.prev = list(prev) if isinstance(prev, tuple) else prev
    return pos


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        rec = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(rec, dict) or rec.get("r") not in RECORD_TYPES:
        return None
    return rec


def _replay_decision(task: Task, state: Any, prev: Any, pos: Position,
                     rec: dict[str, Any]) -> tuple[Any, Any] | str:
    if rec.get("step") != pos.step:
        return f"a decision for step {rec.get('step')!r} where step {pos.step} was next"
    try:
        action = task.action_from_json(rec.get("action"))
    except TaskError as exc:
        return str(exc)
    answer = task.validate(state, Parsed(action, None))
    if isinstance(answer, RedFlag):
        return f"the recorded move breaks the rules: {answer.detail}"
    if answer.key != rec.get("key"):
        return f"the recorded key {rec.get('key')!r} does not match its action"
    chain = chain_next(pos.chain, answer.key)
    if rec.get("h") != chain[:16]:
        return "the hash chain does not match (a decision before it was changed or lost)"
    pos.chain = chain
    pos.step += 1
    return answer.next_state, action


def _truncate(store: ProcessStore, offset: int) -> None:
    with open(store.log_path, "r+b") as fh:
        fh.truncate(offset)
        fh.flush()
        os.fsync(fh.fileno())
