"""On-disk state of a process: ``<data>/processes/<id>/``.

- ``process.json``: the spec (written when created; budgets may be raised on resume).
- ``log.jsonl``: append-only, one record per sample, red flag, decision, escalation and stop.
- ``checkpoint.json``: the last checkpointed state, replaced atomically; the one before it is kept
  as ``checkpoint.prev.json``. Each carries a checksum, so a damaged file is recognised, not trusted.
- ``run.lock``: held (flock) by the one runner; the kernel drops it when that process dies.
- ``result.json``: written when the process finishes.

The checkpoint records the log's byte offset at the moment it was taken. Recovery replays only the
decisions after that offset, so a checkpoint is never ahead of the log it describes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from app.core.process.spec import SAFE_ID, ProcessSpec, SpecError
from app.core.settings.paths import atomic_write_text, get_paths

STATUSES = ("running", "paused", "stopped", "finished", "failed")
# One encoder for every record: json.dumps with options builds a new encoder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class ProcessStateError(Exception):
    """A process's files cannot be trusted. ``hint`` says exactly what the user can do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(f"{message}\n{hint}")
        self.message = message
        self.hint = hint


class ProcessBusy(Exception):
    pass


def processes_dir() -> Path:
    return get_paths().data_dir / "processes"


def _digest(data: dict[str, Any]) -> str:
    body = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class Checkpoint:
    step: int  # decided steps so far = the index of the next step to decide
    state: Any  # JSON form (task.state_to_json)
    prev: Any  # the last decided action (JSON form) or None
    chain: str  # hash chain over every decided answer key, hex
    log_offset: int
    log_line: int
    status: str = "running"
    reason: str = ""
    k: int = 0
    pid: int = 0
    updated: float = 0.0
    counters: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sum"] = _digest(asdict(self))
        return data

    @classmethod
    def from_json(cls, data: Any, where: str) -> Checkpoint:
        if not isinstance(data, dict):
            raise ValueError(f"{where}: not a JSON object")
        stored = data.pop("sum", None)
        try:
            cp = cls(**data)
        except TypeError as exc:
            raise ValueError(f"{where}: {exc}") from exc
        if stored != _digest(asdict(cp)):
            raise ValueError(f"{where}: checksum mismatch (the file was changed or damaged)")
        if cp.status not in STATUSES or cp.step < 0 or cp.log_offset < 0:
            raise ValueError(f"{where}: impossible values (status {cp.status!r}, step {cp.step})")
        return cp


class LogWriter:
    """Appends records as JSON lines; tracks the byte offset and line count for checkpoints."""

    def __init__(self, path: Path, offset: int, lines: int) -> None:
        self.path = path
        self._fh: IO[bytes] = open(path, "ab")  # noqa: SIM115 - held open for the whole run
        self.offset = offset
        self.lines = lines

    def write(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        encode = _ENCODER.encode
        data = "".join([encode(r) + "\n" for r in records]).encode("utf-8")
        self._fh.write(data)
        self._fh.flush()  # in the kernel: survives kill -9 of this process
        self.offset += len(data)
        self.lines += len(records)

    def sync(self) -> None:
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


class ProcessStore:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.id = directory.name
        self.spec_path = directory / "process.json"
        self.log_path = directory / "log.jsonl"
        self.checkpoint_path = directory / "checkpoint.json"
        self.backup_path = directory / "checkpoint.prev.json"
        self.result_path = directory / "result.json"
        self.lock_path = directory / "run.lock"
        self._lock_fh: IO[str] | None = None

    @classmethod
    def open(cls, process_id: str, root: Path | None = None) -> ProcessStore:
        root = root or processes_dir()
        directory = root / process_id
        if (not SAFE_ID.match(process_id) or ".." in process_id
                or not (directory / "process.json").exists()):
            known = sorted(p.name for p in root.glob("*") if (p / "process.json").exists()) \
                if root.exists() else []
            hint = f"known processes: {', '.join(known[-5:])}" if known else "no processes yet"
            raise ProcessStateError(f"no process {process_id!r} in {root}", hint)
        return cls(directory)

    @classmethod
    def create(cls, spec: ProcessSpec, root: Path | None = None) -> ProcessStore:
        spec.check_id()
        directory = (root or processes_dir()) / spec.id
        directory.mkdir(parents=True, exist_ok=False)
        store = cls(directory)
        store.save_spec(spec)
        store.log_path.touch()
        return store

    # --- spec ----------------------------------------------------------------------------------

    def save_spec(self, spec: ProcessSpec) -> None:
        atomic_write_text(self.spec_path, json.dumps(spec.to_json(), indent=1) + "\n")

    def load_spec(self) -> ProcessSpec:
        try:
            data = json.loads(self.spec_path.read_text(encoding="utf-8"))
            return ProcessSpec.from_json(data)
        except (OSError, ValueError, SpecError) as exc:
            raise ProcessStateError(
                f"{self.spec_path} is damaged: {exc}",
                "Nothing was changed. Restore the file from a backup, or start a new process; the "
                "log next to it still holds every decision for an audit.") from exc

    # --- checkpoints ---------------------------------------------------------------------------

    def read_checkpoint(self, *, backup: bool = False) -> Checkpoint | None:
        path = self.backup_path if backup else self.checkpoint_path
        if not path.exists():
            return None
        try:
            return Checkpoint.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
        except (OSError, ValueError) as exc:
            other = self._backup_summary() if not backup else ""
            hint = ("Nothing was changed. " + (
                f"The previous checkpoint {self.backup_path.name} is intact ({other}); to resume "
                f"from it run: nanobot process resume {self.id} --from-backup"
                if other else "No intact earlier checkpoint exists; restore the file or start "
                              "the process again."))
            raise ProcessStateError(f"checkpoint {path} is damaged: {exc}", hint) from exc

    def _backup_summary(self) -> str:
        try:
            cp = self.read_checkpoint(backup=True)
        except ProcessStateError:
            return ""
        return f"step {cp.step}" if cp else ""

    def write_checkpoint(self, cp: Checkpoint, previous: Checkpoint | None) -> None:
        if previous is not None:
            atomic_write_text(self.backup_path, json.dumps(previous.to_json()) + "\n")
        atomic_write_text(self.checkpoint_path, json.dumps(cp.to_json()) + "\n")

    def peek(self) -> Checkpoint | None:
        """The latest checkpoint for display; a damaged one reads as None instead of raising."""
        try:
            return self.read_checkpoint()
        except ProcessStateError:
            return None

    # --- the run lock --------------------------------------------------------------------------

    def lock(self) -> None:
        """Take the run lock (a no-op when this store already holds it)."""
        if self._lock_fh is not None:
            return
        fh = open(self.lock_path, "a+")  # noqa: SIM115 - held until unlock()
        # A status reader holds a shared lock for an instant while it looks: try a few times.
        for attempt in range(5):
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if attempt == 4:
                    fh.close()
                    raise ProcessBusy(
                        f"process {self.id} is already running in another program") from exc
                time.sleep(0.05)
        self._lock_fh = fh

    def unlock(self) -> None:
        if self._lock_fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def is_running(self) -> bool:
        """Whether some program holds this process's run lock right now."""
        if self._lock_fh is not None:
            return True
        if not self.lock_path.exists():
            return False
        with open(self.lock_path, "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return False

    # --- result --------------------------------------------------------------------------------

    def write_result(self, result: dict[str, Any]) -> None:
        atomic_write_text(self.result_path, json.dumps(result, indent=1) + "\n")

    def read_result(self) -> dict[str, Any] | None:
        if not self.result_path.exists():
            return None
        try:
            data = json.loads(self.result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def list_processes(root: Path | None = None) -> list[ProcessStore]:
    root = root or processes_dir()
    if not root.exists():
        return []
    stores = [ProcessStore(p) for p in root.iterdir() if (p / "process.json").exists()]
    return sorted(stores, key=lambda s: s.spec_path.stat().st_mtime)
