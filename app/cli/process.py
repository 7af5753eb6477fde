"""``nanobot process calibrate|run|resume|status|list|audit``: million-step processes from the shell.

Exit codes: 0 finished (or ok), 1 failed / audit found errors, 2 bad input, 3 no-go, 4 stopped
(undecided step, endpoints down, Ctrl+C: resumable), 5 paused by a budget (resumable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event
from app.core.models.embedded import EmbeddedModelError
from app.core.process import kmath
from app.core.process.events import ProcessEnded, ProcessNote, ProcessProgress
from app.core.process.spec import ProcessBudget, ProcessSpec, SpecError, new_process_id
from app.core.process.store import ProcessBusy, ProcessStateError
from app.core.process.task import TaskError, known_tasks, task_variant
from app.core.process.view import describe_process, fmt_duration, tree_order
from app.core.providers.registry import ProviderSetupError
from app.core.settings.config import ConfigError

EXIT = {"finished": 0, "failed": 1, "stopped": 4, "paused": 5}
BAD_INPUT = (TaskError, SpecError, ConfigError, ProviderSetupError, EmbeddedModelError,
             ValueError)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("process", help="million-step processes: calibrate, run, resume, audit")
    ps = p.add_subparsers(dest="process_command", metavar="ACTION", required=True)

    cal = ps.add_parser("calibrate", help="measure a model's per-step success rate p on a task")
    _task_args(cal)
    _sampler_args(cal)
    cal.add_argument("--samples", type=int, default=100, help="single samples to score (100)")
    cal.add_argument("--temperature", type=float, default=0.1)
    cal.add_argument("--target", type=float, default=0.95, help="target whole-task success t")
    cal.add_argument("--steps", type=int, help="steps s to plan for (default: the task's count)")
    cal.add_argument("--confidence", type=float, default=0.95)
    cal.add_argument("--seed", type=int, default=0)
    cal.set_defaults(handler=calibrate_cmd)

    run = ps.add_parser("run", help="start a process")
    _task_args(run)
    _sampler_args(run)
    _budget_args(run)
    run.add_argument("--k", type=int, help="vote margin (default: from the latest calibration)")
    run.add_argument("--target", type=float, default=0.95)
    run.add_argument("--tau", type=float, default=0.1, help="temperature after each step's first")
    run.add_argument("--token-cap", type=int, help="red-flag length cap (default: calibration's)")
    run.add_argument("--max-rounds", type=int, default=10)
    run.add_argument("--escalate", action="append", default=[], metavar="MODEL|URL",
                     help="model (or server URL) to try when a step stays undecided (repeatable)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--id", dest="process_id", help="process id (default: generated)")
    run.add_argument("--parent", help="id of the parent process")
    run.add_argument("--log-text", choices=["flagged", "all"],
                     help="which samples keep their raw text (default: all for models)")
    run.add_argument("--checkpoint-every", type=int, default=1000, help="steps between checkpoints")
    run.add_argument("--checkpoint-seconds", type=float, default=1.0)
    run.set_defaults(handler=run_cmd)

    res = ps.add_parser("resume", help="continue a process from its last decided step")
    res.add_argument("id")
    res.add_argument("--from-backup", action="store_true",
                     help="start from checkpoint.prev.json (when checkpoint.json is damaged)")
    res.add_argument("--truncate-log-at", type=int, metavar="LINE",
                     help="drop log lines from LINE on (after a damaged line was reported)")
    res.add_argument("--endpoint", action="append", default=[], metavar="URL[,opt=val]",
                     help="serve this resume from these servers instead (their URLs changed)")
    res.add_argument("--pool", type=Path, help="serve this resume from the servers in this file")
    _budget_args(res)
    res.set_defaults(handler=resume_cmd)

    st = ps.add_parser("status", help="show one process (or all)")
    st.add_argument("id", nargs="?")
    st.add_argument("--json", action="store_true")
    st.set_defaults(handler=status_cmd)

    ls = ps.add_parser("list", help="list processes")
    ls.set_defaults(handler=status_cmd, id=None, json=False)

    au = ps.add_parser("audit", help="check every decision of a process against the solver")
    au.add_argument("id")
    au.set_defaults(handler=audit_cmd)

    from app.cli.process_tasks import register_task_commands

    register_task_commands(ps)


def _task_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("task", nargs="?", default="",
                   help=f"a task name ({', '.join(known_tasks())}), FILE.py:FACTORY, "
                        "package.module:FACTORY, or a job's .toml file")
    p.add_argument("--task", dest="task_ref", metavar="REF", default="",
                   help="the same as the TASK argument (FILE.py:FACTORY ...)")
    p.add_argument("--task-file", metavar="JOB.toml", default="",
                   help="a declarative job: for each item of a list, one voted question")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a task parameter, typed by the task's schema (repeatable; see "
                        "`nanobot process tasks NAME`)")
    p.add_argument("--disks", type=int, help="hanoi: number of disks")
    p.add_argument("--format", dest="task_format", choices=["full", "move", "guided", "choice"],
                   default="full", help="hanoi: full = move and next state (MAKER); move = the "
                                        "move only; guided = the move, asked one rule at a time; "
                                        "choice = pick one of the legal moves")
    p.add_argument("--no-grammar", action="store_true",
                   help="do not constrain replies with the task's grammar")


def _sampler_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("samplers")
    g.add_argument("--model", dest="proc_model", metavar="SLOT",
                   help="in-process model: local, local:rlm, a model id or a .gguf (default local)")
    g.add_argument("--endpoint", action="append", default=[], metavar="URL[,opt=val]",
                   help="OpenAI-compatible server (repeatable); options parallel=N, "
                        "grammar=llama|vllm|none, model=NAME, api_key_env=VAR")
    g.add_argument("--pool", type=Path, help="JSON file: {label, endpoints: [{url, parallel, ...}]}")
    g.add_argument("--label", help="the model's name for calibration lookups (http endpoints)")
    g.add_argument("--sampler", choices=["model", "sim"], default="model")
    g.add_argument("--sampler-from", metavar="FILE.py:FACTORY",
                   help="a sampler made by FACTORY(task, seed) (a simulated model for a task of "
                        "your own, or another backend)")
    g.add_argument("--sim-p", type=float, default=0.99, help="sim: chance a sample is right")
    g.add_argument("--sim-malformed", type=float, default=0.15)
    g.add_argument("--sim-correlated", type=float, default=0.0, help="sim: share of hard steps")
    g.add_argument("--sim-delay-ms", type=float, default=0.0)


def _budget_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("budget (over the whole process)")
    g.add_argument("--max-steps", type=int)
    g.add_argument("--max-tokens", type=int)
    g.add_argument("--max-wall", type=float, metavar="SECONDS")


def _err(text: str, code: int = 2) -> int:
    print(f"error: {text}", file=sys.stderr)
    return code


def _task(args: argparse.Namespace) -> tuple[Any, str]:
    """(task, where it comes from) for what the command line names."""
    from app.core.process.loader import task_from_command_line

    if args.task and args.task_ref:
        raise TaskError(f"give the task once: {args.task!r} or --task {args.task_ref!r}")
    name = args.task or args.task_ref
    legacy: dict[str, Any] = {}
    if args.disks is not None:
        legacy["disks"] = args.disks
    if name == "hanoi" and not any(p.startswith("format=") for p in args.param):
        legacy["format"] = args.task_format
    return task_from_command_line(name, args.task_file, args.param, legacy)


def _sampler_conf(args: argparse.Namespace) -> dict[str, Any]:
    from app.core.process.samplers import check_endpoint, parse_endpoint

    if getattr(args, "sampler_from", None):
        from app.core.process.loader import split_ref

        target, attr = split_ref(args.sampler_from)
        if target.endswith(".py"):
            target = str(Path(target).expanduser().resolve())
        return {"kind": "python", "ref": f"{target}:{attr}", "label": args.label or attr}
    if args.sampler == "sim":
        return {"kind": "sim", "p": args.sim_p, "malformed": args.sim_malformed,
                "correlated": args.sim_correlated, "delay_ms": args.sim_delay_ms}
    if args.pool:
        try:
            data = json.loads(args.pool.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SpecError(f"pool file {args.pool}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
            raise SpecError(f"pool file {args.pool}: expected {{label, endpoints: [...]}}")
        endpoints = []
        for ep in data["endpoints"]:
            ep = {"parallel": 1, "grammar": "llama", "model": "default", "api_key_env": "", **ep}
            check_endpoint(ep)
            endpoints.append(ep)
        return {"kind": "http", "label": args.label or data.get("label", ""),
                "endpoints": endpoints}
    if args.endpoint:
        return {"kind": "http", "label": args.label or "",
                "endpoints": [parse_endpoint(e) for e in args.endpoint]}
    return {"kind": "local", "model": args.proc_model or args.model or "local"}


def _escalation_conf(value: str) -> dict[str, Any]:
    """``--escalate``: a URL is an OpenAI-compatible server, anything else an in-process model."""
    from app.core.process.samplers import parse_endpoint

    if value.startswith(("http://", "https://")):
        ep = parse_endpoint(value)
        return {"kind": "http", "label": ep["model"], "endpoints": [ep]}
    return {"kind": "local", "model": value}


def _listener(quiet: bool = False) -> Any:
    def show(ev: Event) -> None:
        if isinstance(ev, ProcessProgress) and not quiet:
            total = f"/{ev.total:,}" if ev.total else ""
            pct = f" ({100 * ev.step / ev.total:.1f}%)" if ev.total else ""
            per = ev.samples / ev.step if ev.step else 0.0
            flag = 100 * ev.flagged / ev.samples if ev.samples else 0.0
            eta = f" · ETA {fmt_duration(ev.eta_s)}" if ev.eta_s >= 0 else ""
            print(f"step {ev.step:,}{total}{pct} · {per:.2f} samples/step · flagged {flag:.1f}% "
                  f"· k={ev.k} · {ev.steps_per_s:,.1f} steps/s{eta}", file=sys.stderr, flush=True)
        elif isinstance(ev, ProcessNote):
            print(f"[{ev.level}] {ev.text}", file=sys.stderr, flush=True)
        elif isinstance(ev, ProcessEnded):
            print(f"{ev.status}: {ev.reason}", file=sys.stderr, flush=True)
    return show


def _drive(coro_factory: Any) -> Any:
    """Run a coroutine with SIGINT/SIGTERM wired to a cancel token (a clean, resumable stop)."""
    cancel = CancelToken()

    async def go() -> Any:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, cancel.cancel)
        try:
            return await coro_factory(cancel)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    return asyncio.run(go())


# --- calibrate -----------------------------------------------------------------------------------

def calibrate_cmd(args: argparse.Namespace) -> int:
    from app.core.process.calibrate import calibrate
    from app.core.process.samplers import build_sampler
    from app.core.process.stats import save_calibration

    try:
        task, _source = _task(args)
        if args.samples < 1:
            raise SpecError("--samples must be at least 1")
        sampler = build_sampler(_sampler_conf(args), task, seed=args.seed)
    except BAD_INPUT as exc:
        return _err(str(exc))
    total = args.samples
    tick = max(1, total // 20)

    def progress(i: int, ok: bool | None, _text: str) -> None:
        if (i + 1) % tick == 0 or i + 1 == total:
            print(f"  {i + 1}/{total} scored", file=sys.stderr, flush=True)

    async def go(cancel: CancelToken) -> Any:
        try:
            return await calibrate(task, sampler, samples=args.samples,
                                   temperature=args.temperature, grammar=not args.no_grammar,
                                   target=args.target, steps=args.steps,
                                   confidence=args.confidence, seed=args.seed, cancel=cancel,
                                   on_sample=progress)
        finally:
            await sampler.aclose()

    report = _drive(go)
    row = report.row()
    row_id = save_calibration(row)
    for line in report.lines():
        print(line)
    print(f"  stored as calibration #{row_id} in the stats database")
    return 0 if report.verdict == "go" else 3


# --- run / resume --------------------------------------------------------------------------------

def _choose_k(args: argparse.Namespace, task: Any, conf: dict[str, Any],
              label: str) -> tuple[int, int, dict[str, Any]] | int:
    """(k, token cap, calibration used) or an exit code after printing why."""
    from app.core.process.stats import latest_calibration

    steps = task.total_steps or 1
    if args.k is not None:
        return args.k, args.token_cap or task.default_token_cap, {}
    if conf["kind"] == "sim":
        # The simulated model's p is a setting, not a measurement: use it as it is.
        try:
            k = kmath.k_min(conf["p"], steps, args.target)
        except kmath.NoGo:
            print(f"no-go: the simulated model's p = {conf['p']} is not above 0.5; voting would "
                  "not converge, so the process was not started", file=sys.stderr)
            return 3
        return k, args.token_cap or task.default_token_cap, {"sim_p": conf["p"]}
    cal = latest_calibration(task.name, task_variant(task), label)
    if cal is None:
        return _err(f"no calibration of {label} on {task.name} "
                    f"({task.params.get('format', '')}) yet: run `nanobot process calibrate "
                    f"{task.name} ...` with the same model first, or pass --k")
    try:
        k = kmath.k_min(cal["p_low"], steps, args.target)
    except kmath.NoGo:
        print(f"no-go: calibration #{cal['id']} of {label}: p = {cal['p_hat']}, lower bound "
              f"{cal['p_low']:.4f} <= 0.5 from {cal['valid']} valid of {cal['samples']} samples; "
              "voting would not converge, so the process was not started", file=sys.stderr)
        return 3
    used = {"id": cal["id"], "p_low": cal["p_low"], "p_hat": cal["p_hat"],
            "valid_rate": cal["valid_rate"]}
    return k, args.token_cap or int(cal["token_cap"]), used


def _outcome_code(outcome: Any, store: Any, spec: ProcessSpec, label: str) -> int:
    from app.core.process.stats import save_run

    c = outcome.counters
    save_run({"id": spec.id, "task": spec.task, "params": spec.params, "model": label,
              "k": spec.k, "status": outcome.status, "steps": outcome.step,
              "samples": c["samples"], "flagged": c["flagged"], "tokens": c["tokens"],
              "active_s": c["active_s"], "chain": outcome.chain})
    _trace(outcome, spec, label)
    per = c["samples"] / outcome.step if outcome.step else 0.0
    print(f"{spec.id}: {outcome.status} at step {outcome.step:,} ({outcome.reason})")
    print(f"  samples {c['samples']:,} ({per:.3f}/step), red-flagged {c['flagged']:,} "
          f"{c['flags']}, escalations {c['escalations']}, tokens {c['tokens']:,}, "
          f"active {fmt_duration(c['active_s'])}")
    print(f"  result chain {outcome.chain[:16]}  final state {json.dumps(outcome.state)[:120]}")
    if outcome.status in ("stopped", "paused"):
        print(f"  continue with: nanobot process resume {spec.id}")
    return EXIT.get(outcome.status, 1)


def _trace(outcome: Any, spec: ProcessSpec, label: str) -> None:
    from app.runtime.learning import trace_process

    c = outcome.counters
    # The task's own check decides: finished reached its goal, failed decided a wrong move;
    # a stopped or paused run has no verdict yet.
    success = {"finished": True, "failed": False}.get(outcome.status)
    trace_process({"task": f"process {spec.task} {json.dumps(spec.params, sort_keys=True)}",
                   "category": f"process-{spec.task}", "process": spec.id,
                   "steps": outcome.step, "seconds": round(float(c["active_s"]), 3),
                   "status": outcome.status, "reason": outcome.reason, "success": success,
                   "judged_by": "check" if success is not None else "",
                   "tokens": {"total": int(c["tokens"])}, "samples": int(c["samples"]),
                   "flagged": int(c["flagged"]), "model": label,
                   "settings": {"k": spec.k}})


def _execute(store: Any, spec: ProcessSpec, task: Any, *, from_backup: bool = False,
             truncate: int | None = None) -> int:
    from app.core.process.engine import ProcessRunner
    from app.core.process.samplers import build_sampler

    samplers = [build_sampler(spec.sampler, task, seed=spec.seed)]
    samplers += [build_sampler(e, task, seed=spec.seed) for e in spec.escalation]
    runner = ProcessRunner(store, spec, task, samplers, listener=_listener())

    async def go(cancel: CancelToken) -> Any:
        try:
            return await runner.run(cancel, from_backup=from_backup, truncate_at_line=truncate)
        finally:
            for s in samplers:
                await s.aclose()

    outcome = _drive(go)
    _export(store, task)
    return _outcome_code(outcome, store, spec, samplers[0].label)


def _export(store: Any, task: Any) -> bool:
    """Write the task's output (results, patches, a branch) from the log; say where."""
    from app.core.process.output import export

    try:
        for line in export(store, task):
            print(f"  {line}", flush=True)
    except (OSError, TaskError) as exc:
        print(f"warning: the output of {store.id} was not written: {exc}", file=sys.stderr)
        return False
    return True


def run_cmd(args: argparse.Namespace) -> int:
    from app.core.process.samplers import check_sampler, sampler_label
    from app.core.process.store import ProcessStore

    try:
        task, source = _task(args)
        conf = _sampler_conf(args)
        check_sampler(conf, task)
        escalation = [_escalation_conf(m) for m in args.escalate]
        label = sampler_label(conf)
        chosen = _choose_k(args, task, conf, label)
        if isinstance(chosen, int):
            return chosen
        k, cap, used = chosen
        budget = ProcessBudget(args.max_steps, args.max_tokens, args.max_wall)
        spec = ProcessSpec(
            id=args.process_id or new_process_id(task.name), task=task.name,
            params=dict(task.params), k=k, sampler=conf, tau=args.tau, token_cap=cap,
            max_rounds=args.max_rounds, escalation=tuple(escalation), budget=budget,
            seed=args.seed, grammar=not args.no_grammar,
            log_text=args.log_text or ("flagged" if conf["kind"] == "sim" else "all"),
            checkpoint_every=args.checkpoint_every, checkpoint_seconds=args.checkpoint_seconds,
            parent=args.parent, calibration=used, task_source=source,
            total_steps=task.total_steps)
        spec.check()
        store = ProcessStore.create(spec)
    except FileExistsError:
        return _err(f"a process with id {args.process_id!r} already exists")
    except BAD_INPUT as exc:
        return _err(str(exc))
    shown = {k: v for k, v in task.params.items() if v not in (None, "") and k != "fingerprint"}
    print(f"process {spec.id}: {task.name} {shown}, k={spec.k}, token cap {spec.token_cap}, "
          f"sampler {label}", flush=True)
    try:
        return _execute(store, spec, task)
    except (ProcessStateError, ProcessBusy) as exc:
        return _err(str(exc), 4)


def resume_cmd(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.core.process.loader import task_for_spec
    from app.core.process.store import ProcessStore

    try:
        store = ProcessStore.open(args.id)
    except ProcessStateError as exc:
        print(f"error: {exc.message}\n{exc.hint}", file=sys.stderr)
        return 4
    try:
        # Claimed before anything changes: a second resume is refused with the spec untouched.
        store.lock()
        spec = store.load_spec()
        b = spec.budget
        if any(v is not None for v in (args.max_steps, args.max_tokens, args.max_wall)):
            b = ProcessBudget(args.max_steps if args.max_steps is not None else b.max_steps,
                              args.max_tokens if args.max_tokens is not None else b.max_tokens,
                              args.max_wall if args.max_wall is not None else b.max_wall_s)
            spec = replace(spec, budget=b)
            spec.check()
            store.save_spec(spec)
        task = task_for_spec(spec)
        if args.endpoint or args.pool:
            # Same model on new servers: only where samples come from changes, never k or caps.
            ns = argparse.Namespace(sampler="model", pool=args.pool, endpoint=args.endpoint,
                                    label=spec.sampler.get("label") or "", proc_model=None,
                                    model=None)
            spec = replace(spec, sampler=_sampler_conf(ns))
            store.save_spec(spec)
        print(f"resuming {spec.id}", flush=True)
        return _execute(store, spec, task, from_backup=args.from_backup,
                        truncate=args.truncate_log_at)
    except ProcessStateError as exc:
        print(f"error: {exc.message}\n{exc.hint}", file=sys.stderr)
        return 4
    except ProcessBusy as exc:
        return _err(str(exc), 4)
    except BAD_INPUT as exc:
        return _err(str(exc))
    finally:
        store.unlock()


# --- status / list / audit -----------------------------------------------------------------------

def status_cmd(args: argparse.Namespace) -> int:
    from app.core.process.store import ProcessStore, list_processes

    if args.id:
        try:
            store = ProcessStore.open(args.id)
        except ProcessStateError as exc:
            return _err(f"{exc.message} ({exc.hint})")
        view = describe_process(store)
        if args.json:
            print(json.dumps(view.__dict__, default=str, indent=1))
        else:
            print("\n".join(view.detail_lines()))
        return 0
    stores = list_processes()
    if not stores:
        print("no processes")
        return 0
    for depth, view in tree_order([describe_process(store) for store in stores]):
        print(("  " * depth + "└ " if depth else "") + view.summary_line())
    return 0


def audit_cmd(args: argparse.Namespace) -> int:
    from app.core.process.audit import audit
    from app.core.process.loader import task_for_spec
    from app.core.process.store import ProcessStore

    try:
        store = ProcessStore.open(args.id)
        spec = store.load_spec()
        task = task_for_spec(spec)
    except ProcessStateError as exc:
        return _err(f"{exc.message} ({exc.hint})")
    except TaskError as exc:
        return _err(str(exc))
    report = audit(store, task)
    ok = report.ok(task.total_steps)
    print(f"audit of {spec.id}: {report.decisions:,} decisions, {report.errors} wrong "
          f"against the solver; goal reached: {report.done}; chain {report.chain[:16]}")
    if report.broken:
        print(f"  log problem: {report.broken}")
    for e in report.first_errors:
        print(f"  step {e['step']}: decided {e['decided']}, solver {e['solver']} (line {e['line']})")
    if not report.solver:
        print(f"  no solver for {spec.task}: checked the rules and the hash chain only")
    print("  zero errors" if ok else "  NOT a clean run")
    return 0 if ok else 1
