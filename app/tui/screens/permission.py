"""The tool-permission modal: allow once, allow for this session, or deny.

It shows the one-line label and what will actually happen: the command for ``exec``, the URL for
``web_fetch``, the unified diff for ``write_file`` / ``edit_file``; and, when the command is asked
about because nobody can tell what it runs, why. The "allow for this session" button names exactly
what it allows: the command's words (``git status``), the host, or this exact command. Control
characters are shown as visible escapes, never sent to the terminal. :func:`ask_permission` is the
approver the app plugs into the session; cancelling the turn closes the modal as a denial.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.syntax import Syntax
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from app.core.policy.display import visible
from app.core.policy.permissions import ApprovalRequest, Decision

_LEXERS = {"exec": "bash", "write_file": "diff", "edit_file": "diff"}
_DECISIONS: dict[str, Decision] = {"allow_once": "allow_once", "allow_session": "allow_session",
                                   "deny": "deny"}


class PermissionScreen(ModalScreen[Decision]):
    """Asks whether one tool call may run."""

    DEFAULT_CSS = """
    PermissionScreen {
        align: center middle;
    }
    PermissionScreen > #dialog {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 90%;
        border: thick $warning;
        background: $panel;
        padding: 1 2;
    }
    PermissionScreen #title {
        text-style: bold;
        color: $warning;
    }
    PermissionScreen #label {
        margin-bottom: 1;
    }
    PermissionScreen #note {
        width: 100%;
        height: auto;
        color: $warning;
        margin-bottom: 1;
    }
    PermissionScreen #preview {
        height: auto;
        max-height: 20;
        border: round $primary;
        background: $surface;
    }
    PermissionScreen #buttons {
        height: auto;
        margin-top: 1;
    }
    PermissionScreen Button {
        margin-right: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "decide('allow_once')", "Allow once"),
        Binding("a", "decide('allow_session')", "Allow for session"),
        Binding("n", "decide('deny')", "Deny"),
        Binding("escape", "decide('deny')", "Deny"),
    ]

    def __init__(self, request: ApprovalRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        req = self.request
        scope = visible(req.session_label or req.session_scope or req.tool)
        with Vertical(id="dialog"):
            yield Label(f"Allow {visible(req.tool)}?", id="title", markup=False)
            yield Label(visible(req.label), id="label", markup=False)
            if req.note:
                yield Label(visible(req.note), id="note", markup=False)
            if req.preview:
                lexer = _LEXERS.get(req.tool, "text")
                with VerticalScroll(id="preview"):
                    yield Static(Syntax(visible(req.preview), lexer, theme="ansi_dark",
                                        word_wrap=True, background_color="default"),
                                 id="preview-text")
            with Horizontal(id="buttons"):
                yield Button("Allow once (y)", id="allow_once", variant="primary")
                yield Button(f"Allow {scope} this session (a)", id="allow_session")
                yield Button("Deny (n)", id="deny", variant="error")

    def on_mount(self) -> None:
        self.query_one("#deny", Button).focus()  # Enter on a fresh modal must not approve

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(_DECISIONS.get(event.button.id or "", "deny"))

    def action_decide(self, decision: str) -> None:
        self.dismiss(_DECISIONS.get(decision, "deny"))


async def ask_permission(app: App[Any], request: ApprovalRequest) -> Decision:
    """Push the modal and wait for the answer; a cancelled wait closes it as a denial."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Decision] = loop.create_future()
    screen = PermissionScreen(request)

    def done(result: Decision | None) -> None:
        if not answer.done():
            answer.set_result(result or "deny")

    await app.push_screen(screen, callback=done)
    try:
        return await answer
    except asyncio.CancelledError:
        if screen.is_current:
            screen.dismiss("deny")
        raise
