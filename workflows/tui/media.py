"""Slash commands that attach media or load a codebase: /attach, /screenshot, /audio, /load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work

from gemloom.errors import GemloomError

MAX_AUDIO_CHUNKS = 10  # 5 minutes of 30-second items; longer recordings go through ingest
CODEBASE_SHARE = 0.6  # of the context, leaving room for the conversation before compaction


class MediaCommands:
    """Mixin for GemloomApp: attachments and the codebase, loaded off the UI thread."""

    codebase: tuple[Path, str, int, int] | None  # root, pack, tokens, budget (set by the app)

    async def slash_attach(self: Any, path: str) -> None:
        from gemloom.workflows.tui.files import FilePickScreen

        if not path:
            self.push_screen(FilePickScreen(self.workspace), self._attach_image)
            return
        self._attach_image(path)

    @work(thread=True, group="media")
    def _attach_image(self: Any, path: str | Path | None) -> None:
        if not path:
            return
        from gemloom.tools.screen.image import load

        name = Path(path).name
        self._attached(
            "images", lambda: [load(Path(path).expanduser()).png()], f"Attached {name}.", name
        )

    async def slash_detach(self: Any, which: str) -> None:
        names = self.attachment_names()
        if not names:
            self.notify("Nothing is attached.")
        elif which.strip().lower() == "all":
            self.remove_attachment(None)
        elif which:
            self.remove_attachment(which.strip())
        else:
            from gemloom.workflows.tui.screens import PickScreen

            rows = [(name, (name,)) for name in names]
            self.push_screen(
                PickScreen("Remove which attachment?", ["attachment"], rows), self.remove_attachment
            )

    def attachment_names(self: Any) -> list[str]:
        """What goes with the next message, by name, each once."""
        return list(dict.fromkeys(name for _, name in self._attached_items()))

    def _attached_items(self: Any) -> list[tuple[str, str]]:
        return [(kind, name) for kind in ("images", "audio") for name in self.attached_names[kind]]

    def remove_attachment(self: Any, name: str | None) -> None:
        """Drop one attachment by name (every piece of it), or all of them with None."""
        if name is not None and name not in self.attachment_names():
            self.notify(f"No attachment named {name}.", severity="warning")
            return
        for kind in ("images", "audio"):
            keep = [
                i for i, n in enumerate(self.attached_names[kind]) if name is not None and n != name
            ]
            self.attachments[kind] = [self.attachments[kind][i] for i in keep]
            self.attached_names[kind] = [self.attached_names[kind][i] for i in keep]
        self.show_attachments()
        self.notify(f"Removed {name}." if name else "Removed every attachment.")

    @work(thread=True, group="media")
    def slash_screenshot(self: Any, region: str) -> None:
        from gemloom.tools.screen.tools import capture, parse_region

        def grab() -> list[bytes]:
            shot = capture(parse_region(region) if region else None)
            return [shot.png()]

        self._attached("images", grab, "Screenshot attached.", "screenshot")

    @work(thread=True, group="media")
    def slash_audio(self: Any, path: str) -> None:
        from gemloom.tools.audio.decode import decode, split

        def chunks() -> list[bytes]:
            parts = split(decode(Path(path).expanduser()))
            if len(parts) > MAX_AUDIO_CHUNKS:
                self.call_from_thread(
                    self.notify,
                    f"Only the first {MAX_AUDIO_CHUNKS * 30 // 60} minutes are "
                    "attached; use `gemloom ingest` for whole meetings.",
                    severity="warning",
                )
            return [part.wav() for part in parts[:MAX_AUDIO_CHUNKS]]

        if not path:
            self.call_from_thread(self.notify, "Usage: /audio PATH", severity="warning")
            return
        name = Path(path).name
        self._attached("audio", chunks, f"Attached audio from {name}.", name)

    def _attached(self: Any, kind: str, make: Any, note: str, name: str) -> None:
        """Run `make` (in this worker thread) and add what it returns to the attachments."""
        try:
            items = make()
        except GemloomError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return

        def add() -> None:
            taken = set(self.attachment_names())
            unique, number = name, 2
            while unique in taken:  # two files of one name stay apart
                unique, number = f"{name} ({number})", number + 1
            self.attachments[kind].extend(items)
            self.attached_names[kind].extend([unique] * len(items))
            self.show_attachments()
            self.notify(note)

        self.call_from_thread(add)

    @work(thread=True, group="media")
    def slash_load(self: Any, argument: str) -> None:
        path, _, question = argument.partition(" ")
        if not path:
            self.call_from_thread(self.notify, "Usage: /load PATH [question]", severity="warning")
            return
        from gemloom.tools.codebase.tools import pack

        root = Path(path).expanduser().resolve()
        try:
            context = self.sessions.llm.model_info().context_length
            budget = int(context * CODEBASE_SHARE) - self.settings.answer_reserve
            packed = pack(root, budget=budget, question=question, fmt="xml")
        except GemloomError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return

        def loaded() -> None:
            self.sessions.context.codebase_root = root
            self.codebase = (root, packed.text, packed.stats.tokens, budget)
            self.show_attachments()
            self.notify(f"Loaded {root.name}: {packed.stats.tokens:,} of {budget:,} tokens.")

        self.call_from_thread(loaded)
