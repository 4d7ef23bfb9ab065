"""The memory browser (search, provenance, delete) and the /remember and /recall commands."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from gemloom.errors import GemloomError
from gemloom.workflows.tui.screens import MODAL_CSS, titled


def _store(app: Any) -> Any:
    """The session's memory store, opened on first use (in a worker thread)."""
    context = app.sessions.context
    if context.memory is None:
        from gemloom.memory.store import MemoryStore

        context.memory = MemoryStore.open(settings=app.settings)
    return context.memory


def provenance(record: Any) -> str:
    """Everything known about where a memory came from."""
    lines = [
        f"id: {record.id}",
        f"kind: {record.kind.value}   namespace: {record.namespace}",
        f"created: {record.created:%Y-%m-%d %H:%M}",
        f"tags: {', '.join(record.tags) or '-'}",
        f"source: {record.source.describe() or '-'}",
        "",
        record.text,
    ]
    return "\n".join(lines)


class MemoryScreen(ModalScreen[None]):
    """Search memories, see their provenance, delete one."""

    DEFAULT_CSS = (
        MODAL_CSS.format(name="MemoryScreen")
        + """
    MemoryScreen #detail { height: auto; max-height: 10; border-top: solid $panel; }
    """
    )
    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("delete,ctrl+d", "forget", "Forget")]

    def __init__(self, query: str = ""):
        super().__init__()
        self.query_text = query
        """The search to run when the screen opens."""
        self.records: dict[str, Any] = {}
        """Shown records by id."""

    def compose(self) -> ComposeResult:
        with titled("Memory", "Enter search · ↑↓ move · delete forget · esc close"):
            yield Input(self.query_text, placeholder="search memories (Enter)", id="search")
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Static("", id="detail", markup=False)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("kind", "when", "memory", "similarity")
        self.search(self.query_text)

    @on(Input.Submitted, "#search")
    def _submitted(self, event: Input.Submitted) -> None:
        self.search(event.value.strip())

    @work(thread=True, exclusive=True)
    def search(self, query: str) -> None:
        """Recall by meaning, or list the newest memories when the query is empty."""
        try:
            store = _store(self.app)
            if query:
                found = [(h.record, 1 - h.distance) for h in store.recall(query, k=20)]
            else:
                newest = sorted(store.records(deleted=False), key=lambda r: r.created)
                found = [(r, None) for r in reversed(newest[-50:])]
        except GemloomError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        self.app.call_from_thread(self._show, found)

    def _show(self, found: list[tuple[Any, float | None]]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.records = {r.id: r for r, _ in found}
        for record, score in found:
            similarity = f"{score:.2f}" if score is not None else ""
            table.add_row(
                record.kind.value,
                f"{record.created:%Y-%m-%d}",
                record.text[:60],
                similarity,
                key=record.id,
            )
        if not found:
            self.query_one("#detail", Static).update("no memories found")

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value and (record := self.records.get(event.row_key.value)):
            self.query_one("#detail", Static).update(provenance(record))

    def action_forget(self) -> None:
        """Delete (soft) the highlighted memory."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        memory_id = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        if memory_id is None:  # every row is added with its memory's id as key
            return
        try:
            _store(self.app).forget(memory_id)
        except GemloomError as exc:
            self.notify(str(exc), severity="error")
            return
        table.remove_row(memory_id)
        self.records.pop(memory_id, None)
        self.notify("Forgotten.")

    async def action_dismiss(self, result: None = None) -> None:
        """Close."""
        self.dismiss(None)


class MemoryCommands:
    """Mixin for GemloomApp: /remember, /recall and the memory browser."""

    @work(thread=True, group="memory")
    def slash_remember(self: Any, text: str) -> None:
        from gemloom.memory.records import Source

        try:
            added = _store(self).add(
                text, kind="note", tags=["tui"],
                source=Source(session_id=self.session_id), namespace=self.workspace.name,
            )  # fmt: skip
        except GemloomError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        self.call_from_thread(self.notify, f"Remembered ({added[0].action}).")

    async def slash_recall(self: Any, query: str) -> None:
        self.push_screen(MemoryScreen(query))

    def action_memory(self: Any) -> None:
        """Open the memory browser."""
        if self.sessions is not None:
            self.push_screen(MemoryScreen())
