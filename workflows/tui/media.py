"""Slash commands that attach media or load a codebase: /attach, /screenshot, /audio, /load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work

from gemloom.errors import GemloomError
from gemloom.workflows.tui.screens import PromptScreen

MAX_AUDIO_CHUNKS = 10  # 5 minutes of 30-second items; longer recordings go through ingest
CODEBASE_SHARE = 0.6  # of the context, leaving room for the conversation before compaction


class MediaCommands:
    """Mixin for GemloomApp: attachments and the codebase, loaded off the UI thread."""

    async def slash_attach(self: Any, path: str) -> None:
        if not path:
            self.push_screen(PromptScreen("Image file to attach:"), self._attach_image)
            return
        self._attach_image(path)

    @work(thread=True, group="media")
    def _attach_image(self: Any, path: str | None) -> None:
        if not path:
            return
        from gemloom.tools.screenshot_image import load

        self._attached(
            "images", lambda: [load(Path(path).expanduser()).png()], f"Attached {Path(path).name}."
        )

    @work(thread=True, group="media")
    def slash_screenshot(self: Any, region: str) -> None:
        from gemloom.tools.screenshot import capture, parse_region

        def grab() -> list[bytes]:
            shot = capture(parse_region(region) if region else None)
            return [shot.png()]

        self._attached("images", grab, "Screenshot attached.")

    @work(thread=True, group="media")
    def slash_audio(self: Any, path: str) -> None:
        from gemloom.tools.audio import decode, split

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
        self._attached("audio", chunks, f"Attached audio from {Path(path).name}.")

    def _attached(self: Any, kind: str, make: Any, note: str) -> None:
        """Run `make` (in this worker thread) and add what it returns to the attachments."""
        try:
            items = make()
        except GemloomError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return

        def add() -> None:
            self.attachments[kind].extend(items)
            self.show_attachments()
            self.notify(note)

        self.call_from_thread(add)

    @work(thread=True, group="media")
    def slash_load(self: Any, argument: str) -> None:
        path, _, question = argument.partition(" ")
        if not path:
            self.call_from_thread(self.notify, "Usage: /load PATH [question]", severity="warning")
            return
        from gemloom.tools.codebase import pack

        root = Path(path).expanduser().resolve()
        try:
            context = self.sessions.llm.model_info().context_length
            budget = int(context * CODEBASE_SHARE) - self.settings.answer_reserve
            packed = pack(root, budget=budget, question=question, fmt="xml")
        except GemloomError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return

        def loaded() -> None:
            self.sessions.agent.context.services["codebase_root"] = root
            self.codebase = (root, packed.text, packed.stats.tokens, budget)
            self.show_attachments()
            self.notify(f"Loaded {root.name}: {packed.stats.tokens:,} of {budget:,} tokens.")

        self.call_from_thread(loaded)
