"""The step engine: decide each step by first-to-ahead-by-k votes, log everything, checkpoint.

For each step the task builds one constant-size prompt from (strategy, previous action, state). The
first round launches k samples at once (the first greedy, the rest at a small temperature); each
later round launches the fewest samples that could decide the race. A sample is red-flagged and not
counted when it runs past the token cap, deviates from the format in any way, or fails the task's
rules. After ``max_rounds`` rounds without a winner the step escalates to the next sampler (another
slot's model); when none is left the process stops and says why. It never picks a plurality.

The engine never sees the solution. It learns it went wrong only if the task's step count runs out
before the done test passes; the post-hoc audit compares every decision with the solver.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event
from app.core.process.events import ProcessEnded, ProcessNote, ProcessProgress
from app.core.process.recovery import chain_next, count_decision, count_sample, recover
from app.core.process.samplers import Sampler, SampleRequest, SamplerError, SampleResult, sample_seed
from app.core.process.spec import ProcessSpec
from app.core.process.store import Checkpoint, LogWriter, ProcessStore
from app.core.process.task import Answer, RedFlag, Task
from app.core.process.vote import Tally

log = logging.getLogger(__name__)
Listener = Callable[[Event], None]


@dataclass(frozen=True)
class RunOutcome:
    status: str  # finished, paused, stopped, failed
    reason: str
    step: int
    chain: str
    state: Any
    counters: dict[str, Any]


@dataclass
class _Step:
    answer: Answer | None
    votes: dict[str, int]
    samples: int
    flagged: int
    rounds: int
    level: int
    reason: str = ""


class ProcessRunner:
    def __init__(self, store: ProcessStore, spec: ProcessSpec, task: Task,
                 samplers: Sequence[Sampler], *, listener: Listener | None = None) -> None:
        if not samplers:
            raise ValueError("a process needs at least one sampler")
        self.store = store
        self.spec = spec
        self.task = task
        self.samplers = list(samplers)
        self.listener = listener
        self.engine_s = 0.0  # time spent outside sampler calls, this run
        self.sampler_s = 0.0
        self._writer: LogWriter | None = None
        self._counters: dict[str, Any] = {}
        self._active_base = 0.0
        self._last_cp: Checkpoint | None = None

    def _emit(self, event: Event) -> None:
        if self.listener is not None:
            self.listener(event)

    # --- judging one sample ------------------------------------------------------------------

    def judge(self, state: Any, result: SampleResult) -> Answer | RedFlag:
        cap = self.spec.token_cap
        if result.finish == "length" or result.tokens > cap:
            return RedFlag("length", f"{max(result.tokens, cap)}+ tokens, over the cap of {cap}")
        parsed = self.task.parse(result.text)
        if isinstance(parsed, RedFlag):
            return parsed
        return self.task.validate(state, parsed)

    # --- one step ------------------------------------------------------------------------------

    async def decide(self, step: int, state: Any, prev: Any, cancel: CancelToken) -> _Step | None:
        """Vote on one step; None when cancelled before a decision."""
        spec, task = self.spec, self.task
        writer = self._writer
        assert writer is not None
        prompt = task.prompt(state, prev)
        if not spec.grammar and prompt.grammar:
            prompt = replace(prompt, grammar="")
        keep_text = spec.log_text == "all"
        index = samples = flagged = rounds = 0
        counters = self._counters
        votes: dict[str, int] = {}
        # Judging is a pure function of (state, reply, over the cap): the k agreeing replies of a
        # step are usually one string, so judge each distinct reply once.
        memo: dict[tuple[str, bool], Answer | RedFlag] = {}
        cap = spec.token_cap
        for level, sampler in enumerate(self.samplers):
            tally = Tally(spec.k)
            answers: dict[str, Answer] = {}
            for rnd in range(spec.max_rounds):
                need = tally.needed()
                requests = [
                    SampleRequest(prompt, spec.first_temperature if rnd == 0 and j == 0 else spec.tau,
                                  spec.token_cap + 1, sample_seed(spec.seed, step, index + j),
                                  step, index + j, state, prev)
                    for j in range(need)]
                index += need
                rounds += 1
                t0 = time.perf_counter()
                try:
                    results = await sampler.sample(requests, cancel)
                finally:
                    self.sampler_s += time.perf_counter() - t0
                if cancel.cancelled:
                    return None
                records: list[dict[str, Any]] = []
                won: str | None = None
                for req, res in zip(requests, results, strict=True):
                    samples += 1
                    memo_key = (res.text, res.finish == "length" or res.tokens > cap)
                    verdict = memo.get(memo_key) or memo.setdefault(memo_key,
                                                                    self.judge(state, res))
                    if isinstance(verdict, RedFlag):
                        flagged += 1
                        rec: dict[str, Any] = {"r": "f", "step": step, "i": req.idx,
                                               "flag": verdict.kind, "why": verdict.detail,
                                               "tok": res.tokens, "ep": res.endpoint,
                                               "text": res.text[:2000]}
                    else:
                        rec = {"r": "s", "step": step, "i": req.idx, "key": verdict.key,
                               "tok": res.tokens, "ep": res.endpoint}
                        if keep_text:
                            rec["text"] = res.text
                        # The first sample of a key is the one kept: the step's greedy sample
                        # when it is among them (keys may merge spellings of one answer).
                        answers.setdefault(verdict.key, verdict)
                        if won is None and tally.add(verdict.key):
                            won = verdict.key
                    if res.reissued:
                        rec["reissued"] = res.reissued
                    count_sample(counters, rec)
                    records.append(rec)
                writer.write(records)
                if won is not None:
                    votes = dict(tally.counts)
                    return _Step(answers[won], votes, samples, flagged, rounds, level)
            votes = dict(tally.counts)
            nxt = self.samplers[level + 1].label if level + 1 < len(self.samplers) else ""
            reason = (f"no answer led by {spec.k} after {spec.max_rounds} rounds on "
                      f"{sampler.label} (votes {votes or 'none'}, {flagged} flagged)")
            writer.write([{"r": "e", "step": step, "from": sampler.label, "to": nxt,
                           "why": reason}])
            counters["escalations"] += 1
            if nxt:
                self._emit(ProcessNote(self.spec.id, f"step {step}: {reason}; escalating to {nxt}",
                                       "warning"))
        return _Step(None, votes, samples, flagged, rounds, len(self.samplers) - 1,
                     reason=f"step {step} undecided: {reason}")

    # --- the run -------------------------------------------------------------------------------

    async def run(self, cancel: CancelToken, *, from_backup: bool = False,
                  truncate_at_line: int | None = None) -> RunOutcome:
        self.store.lock()
        try:
            return await self._run(cancel, from_backup, truncate_at_line)
        finally:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            self.store.unlock()

    async def _run(self, cancel: CancelToken, from_backup: bool,
                   truncate_at_line: int | None) -> RunOutcome:
        spec, task, store = self.spec, self.task, self.store
        cp = store.read_checkpoint(backup=from_backup)
        pos = recover(store, task, cp, truncate_at_line)
        for note in pos.notes:
            self._emit(ProcessNote(spec.id, note, "warning"))
        self._counters = pos.counters
        self._writer = writer = LogWriter(store.log_path, pos.log_offset, pos.log_line)
        writer.write([{"r": "start", "step": pos.step, "pid": os.getpid(), "ts": time.time(),
                       "k": spec.k, "samplers": [s.label for s in self.samplers],
                       "notes": pos.notes}])
        step, chain = pos.step, pos.chain
        state = task.state_from_json(pos.state)
        prev = task.action_from_json(pos.prev) if pos.prev is not None else None
        total = task.total_steps or 0
        self._last_cp = cp
        run_start = last_cp_time = time.monotonic()
        last_cp_step = step
        active_base = self._active_base = float(self._counters.get("active_s", 0.0))
        sampler_base = float(self._counters.get("sampler_s", 0.0))
        status, reason = "running", ""

        def checkpoint(st: str, why: str) -> None:
            nonlocal last_cp_time, last_cp_step
            now = time.monotonic()
            self._counters["active_s"] = active_base + (now - run_start)
            self._counters["sampler_s"] = sampler_base + self.sampler_s
            writer.sync()
            new = Checkpoint(step=step, state=task.state_to_json(state),
                             prev=list(prev) if isinstance(prev, tuple) else prev, chain=chain,
                             log_offset=writer.offset, log_line=writer.lines, status=st, reason=why,
                             k=spec.k, pid=os.getpid(), updated=time.time(),
                             counters=self._counters)
            store.write_checkpoint(new, self._last_cp)
            self._last_cp = replace(new, counters=dict(new.counters))
            rate = (step - last_cp_step) / max(now - last_cp_time, 1e-9)
            eta = (total - step) / rate if total and rate > 0 else -1.0
            last_cp_time, last_cp_step = now, step
            self._emit(ProcessProgress(spec.id, step=step, total=total,
                                       samples=self._counters["samples"],
                                       flagged=self._counters["flagged"], k=spec.k,
                                       steps_per_s=rate, eta_s=eta))

        try:
            while True:
                if task.is_done(state):
                    status, reason = "finished", f"done after {step} steps"
                    break
                if total and step >= total:
                    status = "failed"
                    reason = (f"{step} steps decided without reaching the goal: some decided move "
                              "was legal but wrong (run `nanobot process audit` to find it)")
                    break
                exhausted = self._budget_reason(step, run_start)
                if exhausted:
                    status, reason = "paused", exhausted
                    break
                if cancel.cancelled:
                    status, reason = "stopped", "cancelled"
                    break
                try:
                    outcome = await self.decide(step, state, prev, cancel)
                except SamplerError as exc:
                    status, reason = "stopped", f"step {step}: {exc}"
                    break
                if outcome is None:
                    status, reason = "stopped", "cancelled"
                    break
                if outcome.answer is None:
                    status, reason = "stopped", outcome.reason
                    writer.write([{"r": "x", "step": step, "why": reason, "votes": outcome.votes}])
                    break
                answer = outcome.answer
                chain = chain_next(chain, answer.key)
                rec = {"r": "d", "step": step, "key": answer.key, "action": answer.action,
                       "votes": outcome.votes, "n": outcome.samples, "flags": outcome.flagged,
                       "rounds": outcome.rounds, "h": chain[:16]}
                if outcome.level:
                    rec["esc"] = outcome.level
                writer.write([rec])
                count_decision(self._counters, rec)
                state, prev = answer.next_state, answer.action
                step += 1
                if (step - last_cp_step >= spec.checkpoint_every
                        or time.monotonic() - last_cp_time >= spec.checkpoint_seconds):
                    checkpoint("running", "")
        finally:
            if status == "running":  # an exception is on its way out: leave a resumable state
                status, reason = "stopped", "interrupted by an error"
            writer.write([{"r": "end", "step": step, "status": status, "why": reason}])
            checkpoint(status, reason)
        self.engine_s = self._counters["active_s"] - active_base - self.sampler_s
        if status == "finished":
            store.write_result(self._result(step, chain, state))
        self._emit(ProcessEnded(spec.id, status=status, reason=reason, step=step))
        return RunOutcome(status, reason, step, chain, task.state_to_json(state),
                          dict(self._counters))

    def _budget_reason(self, step: int, run_start: float) -> str:
        b = self.spec.budget
        c = self._counters
        if b.max_steps is not None and step >= b.max_steps:
            return f"step budget reached ({step} of {b.max_steps} steps)"
        if b.max_tokens is not None and c["tokens"] >= b.max_tokens:
            return f"token budget reached ({c['tokens']} of {b.max_tokens} tokens)"
        if b.max_wall_s is not None:
            active = self._active_base + (time.monotonic() - run_start)
            if active >= b.max_wall_s:
                return f"wall-clock budget reached ({active:.0f} of {b.max_wall_s:.0f} s)"
        return ""

    def _result(self, step: int, chain: str, state: Any) -> dict[str, Any]:
        c = self._counters
        return {"id": self.spec.id, "task": self.spec.task, "params": self.spec.params,
                "steps": step, "final_state": self.task.state_to_json(state), "chain": chain,
                "samples": c["samples"], "flagged": c["flagged"], "flags": c["flags"],
                "tokens": c["tokens"], "escalations": c["escalations"], "k": self.spec.k,
                "samples_per_step": c["samples"] / step if step else 0.0,
                "active_s": c["active_s"], "finished": time.time()}
