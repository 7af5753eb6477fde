"""The one registry of user actions: ids, default keys, descriptions, groups.

Key bindings, the footer, the help screen (F1), the command palette and the ``[keymap]`` table in
the config are all generated from this list, so they cannot disagree.

Adding an action (for a new pane or modal):

    from app.tui.actions import ActionSpec, register_action
    register_action(ActionSpec("show_dashboard", "f3", "app.show_screen('dashboard')",
                               "Open the dashboard", group="Panes"))

The ``action`` string is an ordinary Textual action, run in the namespace named by ``where``:
``"app"`` actions are bound on the App; ``"prompt"`` actions are bound on the prompt widget, which
sees printable keys first (the backtick inject key must live there); ``"conversation"`` actions
are the conversation's own keys while it has focus (its bindings carry the same ids). Users remap
any action by id:

    [keymap]
    toggle_thinking = "ctrl+y"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding

Where = Literal["app", "prompt", "conversation"]


@dataclass(frozen=True)
class ActionSpec:
    id: str  # stable; users remap it in [keymap]
    keys: str  # default key(s), comma separated, Textual key names
    action: str  # the Textual action to run
    description: str
    group: str = "General"
    footer: bool = False  # show in the footer (space is scarce at 80 columns)
    priority: bool = False  # checked before the focused widget sees the key
    where: Where = "app"
    key_display: str | None = None
    palette: bool = True  # offer it in the command palette
    short: str = ""  # the footer's label (default: the description)

    def binding(self, keys: str | None = None) -> Binding:
        return Binding(keys or self.keys, self.action, self.short or self.description,
                       show=self.footer, tooltip=self.description,
                       key_display=self.key_display, priority=self.priority, id=self.id)


DEFAULT_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("cancel", "escape", "cancel", "Cancel the turn (press twice)", "Turn",
               footer=True, key_display="esc esc", palette=False, short="Cancel"),
    ActionSpec("interrupt", "ctrl+c", "interrupt", "Cancel the turn; twice on an idle prompt quits",
               "Turn", priority=True, palette=False),
    ActionSpec("toggle_thinking", "ctrl+t", "toggle_thinking", "Thinking on/off", "Turn",
               footer=True, priority=True, short="Think"),
    ActionSpec("queue", "tab", "queue",
               "Complete a /command, its argument or an @path; while a turn runs, queue the "
               "prompt for after it", "Prompt", where="prompt"),
    ActionSpec("recall", "up", "recall", "Recall the last pending message to edit it", "Prompt",
               where="prompt", palette=False),
    ActionSpec("inject_prompt", "grave_accent", "inject_prompt",
               "Open the inject line while a turn runs", "Prompt", where="prompt",
               priority=True, key_display="`", palette=False),
    ActionSpec("focus_conversation", "shift+tab", "focus_conversation",
               "Pick blocks in the conversation (↑↓, Enter opens, c copies, Esc back)", "View",
               where="prompt", palette=False),
    ActionSpec("page_up", "pageup", "scroll_view('page_up')", "Scroll the conversation up a page",
               "View", key_display="PgUp"),
    ActionSpec("page_down", "pagedown", "scroll_view('page_down')",
               "Scroll the conversation down a page", "View", key_display="PgDn"),
    ActionSpec("scroll_top", "ctrl+home", "scroll_view('top')",
               "Scroll to the start of the conversation", "View"),
    ActionSpec("scroll_bottom", "ctrl+end", "scroll_view('bottom')",
               "Scroll to the newest message (and follow it)", "View"),
    ActionSpec("block_previous", "up", "cursor(-1)", "Conversation focused: previous block",
               "View", where="conversation", palette=False),
    ActionSpec("block_next", "down", "cursor(1)", "Conversation focused: next block", "View",
               where="conversation", palette=False),
    ActionSpec("block_toggle", "enter,space", "toggle_block",
               "Conversation focused: open or fold a thinking or tool block", "View",
               where="conversation", palette=False),
    ActionSpec("block_copy", "c", "copy_block", "Conversation focused: copy the block", "View",
               where="conversation", palette=False),
    ActionSpec("block_leave", "escape", "leave", "Conversation focused: back to the prompt",
               "View", where="conversation", palette=False),
    ActionSpec("command_palette", "ctrl+p", "command_palette", "Command palette", "App",
               footer=True, priority=True, palette=False, short="Palette"),
    ActionSpec("help", "f1", "help", "Keys and commands", "App", footer=True, priority=True,
               short="Help"),
    ActionSpec("toggle_side", "f2", "toggle_side", "Side column on/off", "App", footer=True,
               short="Side"),
    ActionSpec("clear_view", "ctrl+l", "clear_view", "Clear the view (the session keeps all)",
               "App", priority=True),
    ActionSpec("sessions", "f3", "sessions", "Sessions: list and resume", "App"),
    ActionSpec("quit", "ctrl+q", "quit", "Quit", "App", footer=True, priority=True, short="Quit"),
)

_REGISTRY: dict[str, ActionSpec] = {a.id: a for a in DEFAULT_ACTIONS}


def register_action(spec: ActionSpec) -> ActionSpec:
    """Add (or replace, by id) an action; call before the app is constructed."""
    _REGISTRY[spec.id] = spec
    return spec


def actions(where: Where | None = None) -> list[ActionSpec]:
    return [a for a in _REGISTRY.values() if where is None or a.where == where]


def get(action_id: str) -> ActionSpec | None:
    return _REGISTRY.get(action_id)


def bindings(where: Where) -> list[Binding]:
    return [a.binding() for a in actions(where)]


def unknown_ids(keymap: Iterable[str]) -> list[str]:
    return sorted(k for k in keymap if k not in _REGISTRY)


def keys_for(spec: ActionSpec, keymap: dict[str, str]) -> str:
    """The keys that trigger ``spec`` after the user's keymap is applied."""
    return keymap.get(spec.id, spec.keys)
