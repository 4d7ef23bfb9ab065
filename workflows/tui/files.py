"""Picking a file from a tree (images for /attach) and removing attachments before sending."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree

from gemloom.workflows.tui.screens import MODAL_CSS, titled

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"}


class ImageTree(DirectoryTree):
    """A directory tree that shows folders and image files only (hidden entries left out)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            p
            for p in paths
            if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in IMAGE_SUFFIXES)
        ]


class FilePickScreen(ModalScreen[Path | None]):
    """Browse from a folder and pick an image file; returns its path or None."""

    DEFAULT_CSS = (
        MODAL_CSS.format(name="FilePickScreen")
        + """
    FilePickScreen DirectoryTree { height: 20; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, root: Path):
        super().__init__()
        self.root = root
        """Where browsing starts."""

    def compose(self) -> ComposeResult:
        with titled(f"Attach an image from {self.root}", "↑↓ move · Enter open/pick · esc cancel"):
            yield ImageTree(self.root)

    def on_mount(self) -> None:
        self.query_one(ImageTree).focus()

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(event.path)

    def action_cancel(self) -> None:
        """Pick nothing."""
        self.dismiss(None)
