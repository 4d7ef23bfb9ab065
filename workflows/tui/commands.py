"""Slash commands and the command palette entries of the TUI."""

from __future__ import annotations

import inspect
import re
import shlex
from functools import partial
from pathlib import Path
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from gemloom.errors import GemloomError

COMMANDS: dict[str, str] = {
    "/help": "show keys and commands",
    "/new": "start a new session (also /clear)",
    "/copy [code]": "copy the last answer (or its last code block) to the clipboard",
    "/retry": "regenerate the last answer",
    "/model [NAME]": "pick the chat model (capabilities shown)",
    "/attach [PATH]": "attach an image to the next message (no PATH: browse for one)",
    "/detach [NAME|all]": "remove an attachment before sending (no NAME: pick one)",
    "/screenshot [X,Y,W,H]": "capture the screen (or a region) and attach it",
    "/audio PATH": "attach a recording (up to 5 minutes, as 30-second items)",
    "/load PATH [QUESTION]": "load a codebase into the next message (budget meter below)",
    "/rename TITLE": "rename this session",
    "/fork": "fork this session from its latest step",
    "/history": "rewind or fork from an earlier checkpoint",
    "/resume": "go on with a session that stopped midway",
    "/delete": "delete this session",
    "/export [md|json] [PATH]": "write this session as Markdown or JSON (default: md here)",
    "/remember TEXT": "store a note in long-term memory",
    "/recall QUERY": "search memory (browser: search, provenance, delete)",
    "/jobs": "meeting watchers and review runs: status, retry, stop, open notes",
    "/watch DIR [--out DIR]": "start a meeting watcher job",
    "/review SHOT... [--repo PATH] [-o FILE]": "start a screenshot review job",
    "/regenerate RECORDING [--out DIR]": "make a meeting's notes again from its transcript",
}
SLASH_HELP = "\n".join(f"- `{name}`: {what}" for name, what in COMMANDS.items())


class SlashCommands:
    """Mixin for GemloomApp: what each slash command and palette entry does."""

    async def run_slash(self: Any, text: str) -> None:
        """Run a slash command typed in the prompt."""
        try:
            words = shlex.split(text)
        except ValueError as exc:
            self.notify(f"Cannot parse the command: {exc}", severity="error")
            return
        name, args = words[0].lower(), words[1:]
        handler = getattr(self, f"slash_{name[1:]}", None)
        if handler is None:
            self.notify(f"Unknown command {name}; /help lists them.", severity="error")
            return
        try:
            result = handler(" ".join(args))
            if inspect.isawaitable(result):
                await result
        except GemloomError as exc:
            self.notify(str(exc), severity="error", timeout=8)

    async def slash_help(self: Any, _: str) -> None:
        self.action_help()

    async def slash_new(self: Any, _: str) -> None:
        await self.action_new_session()

    async def slash_clear(self: Any, _: str) -> None:
        await self.action_new_session()

    async def slash_copy(self: Any, what: str) -> None:
        answer = last_answer(self.sessions.messages(self.session_id)) if self.session_id else ""
        if what.strip() == "code":
            blocks = CODE_BLOCK.findall(answer)
            answer = blocks[-1] if blocks else ""
        if not answer:
            self.notify("Nothing to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(answer)  # OSC 52: works over ssh and in tmux with set-clipboard
        self.notify(f"Copied {len(answer):,} characters.")

    async def slash_retry(self: Any, _: str) -> None:
        if not self._needs_session() or self.busy:
            return
        if not self.sessions.drop_last_answer(self.session_id):
            self.notify("Nothing to regenerate yet.", severity="warning")
            return
        await self.open_session(self.session_id)
        session_id = self.session_id
        self.start_turn(lambda: self.sessions.resume(session_id))

    async def slash_model(self: Any, name: str) -> None:
        if name:
            self.use_model(name)
        else:
            self.action_models()

    async def slash_rename(self: Any, title: str) -> None:
        if self._needs_session():
            if title:
                await self._renamed(title)
            else:
                from gemloom.workflows.tui.screens import PromptScreen

                self.push_screen(PromptScreen("New title:"), self._renamed)

    async def _renamed(self: Any, title: str | None) -> None:
        if title:
            self.sessions.rename(self.session_id, title)
            self.title = f"gemloom · {title}"
            await self.refresh_sessions()

    async def slash_fork(self: Any, _: str) -> None:
        if self._needs_session():
            new_id = self._fork(None)
            await self.refresh_sessions()
            await self.open_session(new_id)
            self.notify("Forked: you are in the new session.")

    def _fork(self: Any, checkpoint: str | None) -> str:
        """Fork, with a name no other session has ("title (fork 2)", ...)."""
        base = self.sessions.get(self.session_id).title or "session"
        titles = {info.title for info in self.sessions.list()}
        new_id = self.sessions.fork(self.session_id, checkpoint)
        number = 1
        while (name := f"{base} (fork{'' if number == 1 else f' {number}'})") in titles:
            number += 1
        self.sessions.rename(new_id, name)
        return new_id

    async def slash_history(self: Any, _: str) -> None:
        if not self._needs_session():
            return
        rows = [
            (key, (when, text)) for key, when, text in user_turns(self.sessions, self.session_id)
        ]
        from gemloom.workflows.tui.screens import PickScreen

        screen = PickScreen(
            "Rewind to before one of your messages (a fork; the original is kept). "
            "Enter picks, esc cancels:",
            ["when", "your message"],
            rows,
        )
        self.push_screen(screen, self._rewind)

    async def _rewind(self: Any, key: str | None) -> None:
        if not key:
            return
        index = int(key)
        messages = self.sessions.messages(self.session_id)
        new_id = self._fork(None)
        self.sessions.truncate(new_id, index)
        await self.refresh_sessions()
        await self.open_session(new_id)
        self.prompt.value = str(messages[index]["content"])
        self.notify("Rewound: edit your message and send it again; the original is unchanged.")

    async def slash_resume(self: Any, _: str) -> None:
        if self._needs_session():
            if not self.sessions.unfinished(self.session_id):
                self.notify("Nothing to resume in this session.")
                return
            session_id = self.session_id
            self.start_turn(lambda: self.sessions.resume(session_id))

    async def slash_delete(self: Any, _: str) -> None:
        if self._needs_session():
            from gemloom.workflows.tui.screens import ConfirmScreen

            self.push_screen(ConfirmScreen("Delete this session?"), self._delete_confirmed)

    async def _delete_confirmed(self: Any, yes: bool) -> None:
        if yes:
            self.sessions.delete(self.session_id)
            await self.action_new_session()
            await self.refresh_sessions()
            self.notify("Session deleted.")

    async def slash_export(self: Any, arguments: str) -> None:
        from gemloom.workflows.session_export import default_name, export_text, write_export

        if not self._needs_session():
            return
        words = arguments.split(maxsplit=1)
        fmt = words[0].lower() if words else "md"
        text = export_text(self.sessions, self.session_id, fmt)
        info = self.sessions.get(self.session_id)
        target = Path(words[1]).expanduser() if len(words) > 1 else Path(default_name(info, fmt))
        path = write_export(text, target if target.is_absolute() else self.workspace / target)
        self.notify(f"Exported to {path}.")

    async def slash_jobs(self: Any, _: str) -> None:
        self.action_jobs()

    async def slash_watch(self: Any, arguments: str) -> None:
        from gemloom.workflows.tui.jobs import start_job

        start_job(self, "watch", arguments)

    async def slash_review(self: Any, arguments: str) -> None:
        from gemloom.workflows.tui.jobs import start_job

        start_job(self, "review", arguments)

    def action_jobs(self: Any) -> None:
        """Show the jobs."""
        from gemloom.workflows.jobs import JobBoard
        from gemloom.workflows.tui.jobs import JobsScreen

        self.push_screen(JobsScreen(JobBoard(self.settings)))

    def _needs_session(self: Any) -> bool:
        if self.sessions is None or self.session_id is None:
            self.notify("Open or start a session first.", severity="warning")
            return False
        return True

    # -- bindings -----------------------------------------------------------------------

    async def action_rename(self: Any) -> None:
        await self.slash_rename("")

    async def action_delete_session(self: Any) -> None:
        await self.slash_delete("")

    async def action_fork(self: Any) -> None:
        await self.slash_fork("")

    async def action_history(self: Any) -> None:
        await self.slash_history("")

    def action_models(self: Any) -> None:
        """Pick the chat model from those Ollama has."""
        if self.sessions is None:
            return
        self.load_models()

    def use_model(self: Any, name: str | None) -> None:
        """Switch the chat model for the next messages."""
        if not name:
            return
        self.sessions.use_model(name)
        self.model_ok = False  # what is typed now waits for the probe, in no session yet
        self.settings = self.settings.model_copy(update={"chat_model": name})
        self.sub_title = name
        self.connect()


class CommandsProvider(Provider):
    """The slash commands in the command palette."""

    def _entries(self) -> list[tuple[str, str, Any]]:
        app: Any = self.app
        return [
            (name, help_text, partial(app.run_slash, name.split()[0]))
            for name, help_text in COMMANDS.items()
        ]

    async def discover(self) -> Hits:
        for name, help_text, run in self._entries():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self._entries():
            if (score := matcher.match(f"{name} {help_text}")) > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)


CODE_BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)


def last_answer(messages: list[dict[str, Any]]) -> str:
    """The newest non-empty answer text."""
    for message in reversed(messages):
        if message["role"] == "assistant" and message.get("content"):
            return str(message["content"])
    return ""


def user_turns(sessions: Any, session_id: str) -> list[tuple[str, str, str]]:
    """The person's messages, newest first: (index, time it was sent, text)."""
    import time

    config = {"configurable": {"thread_id": session_id}}
    sizes = [
        (len(snap.values.get("messages", [])), _created(snap))
        for snap in sessions.graph.get_state_history(config)
    ][::-1]  # oldest first
    turns = []
    for index, message in enumerate(sessions.messages(session_id)):
        content = str(message.get("content", ""))
        if message["role"] != "user" or content.startswith("[Summary of the earlier"):
            continue
        sent = next((when for size, when in sizes if size > index), 0.0)
        text = " ".join(content.split())[:70]
        turns.append((str(index), time.strftime("%H:%M", time.localtime(sent)), text))
    return turns[::-1]


def _created(snap: Any) -> float:
    from datetime import datetime

    return datetime.fromisoformat(snap.created_at).timestamp() if snap.created_at else 0.0
