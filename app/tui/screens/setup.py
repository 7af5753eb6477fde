"""The first-run wizard: hardware → recommended models → downloads → config → a test prompt.

Everything it decides comes from the core (:mod:`app.core.models.recommend`,
:mod:`app.core.models.setup_plan`, :mod:`app.core.models.download`); this screen shows the steps, lets the
user edit download URLs or skip a download, and runs the slow parts in workers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    ContentSwitcher,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Static,
)

from app.core.agent.cancel import CancelToken
from app.core.models.discover import model_dirs, scan
from app.core.models.download import DownloadError, DownloadProgress, download
from app.core.models.gpu import NvmlReader
from app.core.models.hardware import GiB, HardwareSnapshot, take_snapshot
from app.core.models.recommend import Recommendation, recommend
from app.core.models.setup_plan import SlotChoice, choices_from, embedded_instead, render_config, write_config
from app.core.settings.config import load_config
from app.core.settings.paths import get_paths

STEPS = ("hardware", "models", "download", "write", "test")
TITLES = {"hardware": "1/5 Your hardware", "models": "2/5 Recommended models",
          "download": "3/5 Downloads", "write": "4/5 Write the config",
          "test": "5/5 Test a prompt"}
TEST_PROMPT = "Reply with one short friendly sentence."


class SetupScreen(Screen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "quit_setup", "Quit setup")]
    DEFAULT_CSS = """
    SetupScreen #step-title { text-style: bold; color: $accent; padding: 0 1; }
    SetupScreen ContentSwitcher { height: 1fr; padding: 0 1; }
    SetupScreen #nav { height: 3; align-horizontal: right; padding: 0 1; }
    SetupScreen .slot-row { height: auto; margin-bottom: 1; }
    SetupScreen .slot-url { width: 1fr; }
    SetupScreen #dir-row { height: 3; }
    SetupScreen #models-dir { width: 1fr; }
    SetupScreen ProgressBar { width: 1fr; }
    SetupScreen .dl-row { height: auto; }
    SetupScreen #config-preview { border: round $panel; padding: 0 1; height: auto; }
    """

    def __init__(self, *, hardware: HardwareSnapshot | None = None,
                 models_dir: Path | None = None, mirror: str = "",
                 config_path: Path | None = None, test_prompt: str = TEST_PROMPT) -> None:
        super().__init__()
        self.hw = hardware
        self.models_dir = (models_dir or Path("~/models")).expanduser()
        self.mirror = mirror
        self.config_path = config_path or get_paths().config_file
        self.test_prompt = test_prompt
        self.step = 0
        self.rec: Recommendation | None = None
        self.choices: list[SlotChoice] = []
        self.downloads_ok = False
        self.written = False
        self.busy = False
        self.reply = ""
        self._cancel = CancelToken()

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(TITLES["hardware"], id="step-title")
        with ContentSwitcher(initial="step-hardware"):
            with VerticalScroll(id="step-hardware"):
                yield Static("Looking at this machine…", id="hw-summary")
            with VerticalScroll(id="step-models"):
                yield Label("Where GGUF models live (found files are used instead of "
                            "downloading):")
                with Horizontal(id="dir-row"):
                    yield Input(str(self.models_dir), id="models-dir")
                    yield Button("Scan", id="scan")
                yield Vertical(id="slot-rows")
            with VerticalScroll(id="step-download"):
                yield Vertical(id="dl-rows")
                yield Static("", id="dl-status")
            with VerticalScroll(id="step-write"):
                yield Static("", id="config-preview")
                yield Button("Write config", id="write", variant="primary")
                yield Static("", id="write-status")
            with VerticalScroll(id="step-test"):
                yield Button("Send the test prompt", id="test", variant="primary")
                yield Static("", id="test-output")
        with Horizontal(id="nav"):
            yield Button("Back", id="back")
            yield Button("Next", id="next", variant="primary")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#back", Button).disabled = True
        if self.hw is None:
            self.query_one("#next", Button).disabled = True
            self.sample_hardware()
        else:
            self.show_hardware()

    @work(thread=True, group="setup-hw", exit_on_error=False)
    def sample_hardware(self) -> None:
        reader = NvmlReader()
        snap = take_snapshot(reader, cpu_interval=0.2)
        reader.close()
        self.app.call_from_thread(self._got_hardware, snap)

    def _got_hardware(self, snap: HardwareSnapshot) -> None:
        self.hw = snap
        self.query_one("#next", Button).disabled = False
        self.show_hardware()

    def show_hardware(self) -> None:
        assert self.hw is not None
        from app.core.models.tiers import classify

        hw, verdict = self.hw, classify(self.hw)
        gpus = "\n".join(f"  GPU{g.index}: {g.name}, {g.mem_total / GiB:.1f} GiB VRAM"
                         for g in hw.gpus) or f"  GPU: none ({hw.gpu_note or 'no NVIDIA GPU'})"
        self.query_one("#hw-summary", Static).update(
            f"Tier: {verdict.tier.label} — {verdict.reason}\n\n"
            f"  CPU: {hw.cores_logical} cores\n"
            f"  RAM: {hw.ram_total / GiB:.1f} GiB ({hw.ram_available / GiB:.1f} GiB free)\n"
            f"{gpus}\n\nNext: the models recommended for each slot.")

    # --- steps -------------------------------------------------------------------------------

    def go(self, step: int) -> None:
        self.step = step
        name = STEPS[step]
        self.query_one(ContentSwitcher).current = f"step-{name}"
        self.query_one("#step-title", Static).update(TITLES[name])
        self.query_one("#back", Button).disabled = step == 0
        nxt = self.query_one("#next", Button)
        nxt.label = "Finish" if name == "test" else "Next"
        nxt.disabled = (name == "download" and not self.downloads_ok) or (
            name == "write" and not self.written)

    @on(Button.Pressed, "#next")
    async def next_step(self) -> None:
        # A step change can await mounts; a second press meanwhile would run the old step again.
        if self.busy:
            return
        self.busy = True
        try:
            await self._advance()
        finally:
            self.busy = False

    async def _advance(self) -> None:
        name = STEPS[self.step]
        if name == "hardware":
            await self.build_recommendations()
            self.go(1)
        elif name == "models":
            self.read_edits()
            self.go(2)
            await self.start_downloads()
        elif name == "download":
            self.preview_config()
            self.go(3)
        elif name == "write":
            self.go(4)
        else:
            self.dismiss(True)

    @on(Button.Pressed, "#back")
    def back(self) -> None:
        if self.step > 0:
            self.go(self.step - 1)

    def action_quit_setup(self) -> None:
        self._cancel.cancel("setup closed")
        self.dismiss(False)

    # --- models ------------------------------------------------------------------------------

    async def build_recommendations(self) -> None:
        assert self.hw is not None
        self.models_dir = self._models_dir_field()
        found = await asyncio.to_thread(scan, model_dirs([str(self.models_dir)]))
        self.rec = recommend(self.hw, found=found)
        self.choices = choices_from(self.rec, self.models_dir, mirror=self.mirror)
        rows = self.query_one("#slot-rows", Vertical)
        await rows.remove_children()
        for c in self.choices:
            row = Vertical(classes="slot-row", id=f"row-{c.slot}")
            await rows.mount(row)
            where = {"embedded": "embedded, nothing to download",
                     "file": f"found at {c.path}",
                     "download": f"download {c.size / 1e9:.1f} GB to {c.path}"}[c.kind]
            if c.shared_with:
                where = f"shares the {c.shared_with} slot's model"
            await row.mount(Label(f"{c.slot}: {c.title} — {where}"))
            await row.mount(Label(f"   {c.fit}", classes="dim"))
            if c.kind == "download" and not c.shared_with:
                await row.mount(Checkbox("download it (off: use the embedded default)",
                                         True, id=f"dl-{c.slot}"))
                await row.mount(Input(c.url, id=f"url-{c.slot}", classes="slot-url"))

    def _models_dir_field(self) -> Path:
        return Path(os.path.expanduser(self.query_one("#models-dir", Input).value))

    @on(Button.Pressed, "#scan")
    async def rescan(self) -> None:
        await self.build_recommendations()

    def read_edits(self) -> None:
        out: list[SlotChoice] = []
        for c in self.choices:
            if c.kind == "download" and not c.shared_with:
                if not self.query_one(f"#dl-{c.slot}", Checkbox).value:
                    c = embedded_instead(c, next((x for x in out if x.slot == "main"), None))
                else:
                    c = dataclasses.replace(c, url=self.query_one(f"#url-{c.slot}", Input).value)
            elif c.shared_with:
                base = next(x for x in out if x.slot == c.shared_with)
                c = dataclasses.replace(base, slot=c.slot, shared_with=c.shared_with)
            out.append(c)
        self.choices = out

    # --- downloads ---------------------------------------------------------------------------

    def pending(self) -> list[SlotChoice]:
        return [c for c in self.choices if c.kind == "download" and not c.shared_with]

    async def start_downloads(self) -> None:
        rows = self.query_one("#dl-rows", Vertical)
        await rows.remove_children()
        todo = self.pending()
        if not todo:
            self.downloads_ok = True
            self.query_one("#dl-status", Static).update("Nothing to download.")
            self.go(2)
            return
        for c in todo:
            await rows.mount(Label(f"{c.slot}: {Path(c.path).name}", id=f"dl-label-{c.slot}"))
            await rows.mount(ProgressBar(total=c.size or None, show_eta=False,
                                         id=f"bar-{c.slot}"))
        self.query_one("#dl-status", Static).update("Downloading…")
        self.run_downloads(todo)

    @work(thread=True, group="setup-download", exclusive=True, exit_on_error=False)
    def run_downloads(self, todo: list[SlotChoice]) -> None:
        notes: list[str] = []
        for c in todo:
            def progress(p: DownloadProgress, slot: str = c.slot) -> None:
                self.app.call_from_thread(self._progress, slot, p.done, p.total)

            try:
                res = download(c.url, Path(c.path), sha256=c.sha256, progress=progress,
                               cancel=self._cancel)
            except Exception as exc:  # whatever it is, the wizard must say so, not wait forever
                why = str(exc) if isinstance(exc, DownloadError) else f"{type(exc).__name__}: {exc}"
                self.app.call_from_thread(self._downloads_done, False, f"{c.slot}: {why}")
                return
            self.app.call_from_thread(self._progress, c.slot, res.size, res.size)
            notes.append(f"✓ {c.slot}: {res.path.name} "
                         + ("checksum verified" if res.verified else
                            "(no checksum was published; header checked)"))
        self.app.call_from_thread(self._downloads_done, True, "\n".join(notes))

    def _progress(self, slot: str, done: int, total: int | None) -> None:
        bar = self.query_one(f"#bar-{slot}", ProgressBar)
        bar.update(total=total or None, progress=done)

    def _downloads_done(self, ok: bool, text: str) -> None:
        self.downloads_ok = ok
        status = self.query_one("#dl-status", Static)
        status.update(text if ok else f"✗ {text}\nPress Back to change the URL or skip it.")
        if self.step == 2:
            self.query_one("#next", Button).disabled = not ok

    # --- config and test ---------------------------------------------------------------------

    def preview_config(self) -> None:
        assert self.rec is not None
        self.config_text = render_config(self.choices, tier=self.rec.tier.label,
                                         models_dir=self.models_dir)
        self.query_one("#config-preview", Static).update(
            f"{self.config_path}\n\n{self.config_text}")

    @on(Button.Pressed, "#write")
    def write(self) -> None:
        try:
            backup = write_config(self.config_text, self.config_path)
        except OSError as exc:
            self.query_one("#write-status", Static).update(
                f"✗ cannot write {self.config_path}: {exc.strerror or exc}")
            return
        self.written = True
        self.query_one("#write-status", Static).update(
            f"✓ wrote {self.config_path}" + (f" (the old one is kept as {backup.name})"
                                             if backup else ""))
        self.query_one("#next", Button).disabled = False

    @on(Button.Pressed, "#test")
    def test(self) -> None:
        self.query_one("#test-output", Static).update("Loading the main model and asking…")
        self.run_test_prompt()

    @work(group="setup-test", exclusive=True, exit_on_error=False)
    async def run_test_prompt(self) -> None:
        from app.runtime.build import build_runtime

        out = self.query_one("#test-output", Static)
        try:
            config = load_config(self.config_path)
            # A test prompt is no conversation: long-term memory stays out of it.
            config = dataclasses.replace(
                config, memory=dataclasses.replace(config.memory, enabled=False))
            rt = build_runtime(config=config, persist=False)
        except Exception as exc:  # a config or model problem: show it, keep the wizard open
            out.update(f"✗ {type(exc).__name__}: {exc}")
            return
        session = rt.factory.with_options(max_tokens=48).new().session
        try:
            outcome = await session.run_turn(self.test_prompt)
        finally:
            await session.provider.aclose()
            if rt.stack is not None:
                await rt.stack.manager.shutdown()
        self.reply = outcome.text
        out.update(f"You: {self.test_prompt}\nNanobot: {outcome.text}" if outcome.status ==
                   "finished" else f"✗ {outcome.status}: {outcome.error}")
