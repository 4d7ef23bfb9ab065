"""Running turns: the queue of messages typed while busy, Escape to stop, and why a turn ended."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from textual import work
from textual.css.query import NoMatches

from gemloom.errors import GemloomError, ModelNotFound, OllamaUnreachable
from gemloom.terminal import visible_data
from gemloom.workflows.tui.chat import TurnNote, UserMessage

FRAME = 0.2  # seconds: streamed text reaches the screen at most this often
DOWN_HINT = " Browsing works; ctrl+r retries (and gemloom retries by itself every few seconds)."


STOPPED_BY_YOU = "Stopped by you: the partial answer above is kept."
QUEUED_NOTE = "⏳ queued: sent when the agent is free"


def queued_view(text: str) -> UserMessage:
    """How a waiting message looks in the chat."""
    return UserMessage(f"{text}\n{QUEUED_NOTE}", markup=False, classes="queued")


@dataclass
class Queued:
    """A message typed while the agent was busy or still starting."""

    text: str
    view: UserMessage


@dataclass
class TurnEnd:
    """How a run of the agent ended."""

    session_id: str | None
    stopped: bool = False
    error: str = ""
    partial: list[str] = field(default_factory=list)


class TurnControl:
    """Mixin for GemloomApp: drive the agent, queue what is typed meanwhile, stop on Escape."""

    def init_turns(self: Any) -> None:
        """State of the turn machinery (called from __init__)."""
        self.queue: list[Queued] = []
        self.busy = False
        self._outcome: TurnEnd | None = None
        self._turn_text = ""

    # -- accepting input ----------------------------------------------------------------

    async def accept(self: Any, text: str) -> bool:
        """Take a typed message: send, queue, or refuse (then it stays in the prompt)."""
        if self.sessions is None or self.busy or (self.connecting and not self.model_ok):
            view = queued_view(text)
            self.queue.append(Queued(text, view))
            await self.chat.mount(view)
            self.chat.scroll_end(animate=False)
            return True
        if not self.model_ok:
            self.notify("The chat model is not available (see the banner); your text is kept.")
            return False
        await self.send_message(text)
        return True

    async def flush_queue(self: Any) -> None:
        """Send the oldest queued message if the agent is free."""
        if not self.queue or self.busy or not self.model_ok or self.sessions is None:
            return
        queued = self.queue.pop(0)
        queued.view.remove_class("queued")
        queued.view.update(queued.text)
        await self.send_message(queued.text, view=queued.view)

    async def unqueue_to_prompt(self: Any) -> None:
        """Put queued messages back into the prompt (the server turned out to be down)."""
        if not self.queue:
            return
        texts = [q.text for q in self.queue]
        for queued in self.queue:
            await queued.view.remove()
        self.queue = []
        prompt = self.prompt
        prompt.value = "\n\n".join([*texts, prompt.value] if prompt.value else texts)

    # -- running ------------------------------------------------------------------------

    def start_turn(self: Any, make_events: Callable[[], Iterator[Any]], text: str = "") -> None:
        """Run the agent in a worker; `text` is what comes back to the prompt on Escape."""
        self.busy = True
        settle_heap()
        hold_full_collections()
        self._turn_text = text
        self._outcome = TurnEnd(self.session_id)
        stop = getattr(self.sessions.llm, "stop", None)
        if stop is not None:
            stop.clear()
        self.drive(make_events, self._outcome)

    @work(thread=True, group="agent")
    def drive(self: Any, make_events: Callable[[], Iterator[Any]], outcome: TurnEnd) -> None:
        """Run the agent in a thread and hand each event to the UI."""
        from gemloom.agents import events as ev

        try:
            for batch in coalesce(make_events()):
                if isinstance(batch, ev.Error) or outcome.stopped:
                    continue  # an error is shown when the turn ends; after Escape, nothing
                if isinstance(batch, ev.Content):
                    outcome.partial.append(batch.text)  # exactly what reaches the screen
                elif isinstance(batch, ev.Usage):
                    outcome.partial = []  # that model call finished whole
                self.call_from_thread(self.on_agent_event, visible_data(batch))
        except GemloomError as exc:
            if not outcome.stopped:
                outcome.error = str(exc)
            if isinstance(exc, OllamaUnreachable | ModelNotFound):
                self.model_ok = False
                self.call_from_thread(self.show_banner, f"{exc}{DOWN_HINT}")
        if outcome.stopped:
            self._keep_partial(outcome)
        self.call_from_thread(self.turn_finished, outcome)

    def _keep_partial(self: Any, outcome: TurnEnd) -> None:
        """Store the partial answer in the session, so the model sees what it had said."""
        if outcome.session_id is not None:
            text = "".join(outcome.partial).rstrip()
            self.sessions.keep_partial(outcome.session_id, text, STOPPED_BY_YOU)

    def action_stop(self: Any) -> None:
        """Stop the running answer; the partial answer stays, the prompt text comes back."""
        if not self.busy or self._outcome is None or self._outcome.stopped:
            return
        self._outcome.stopped = True
        stop = getattr(self.sessions.llm, "stop", None)
        if stop is not None:
            stop.set()
        if not self.prompt.value and self._turn_text:
            self.prompt.value = self._turn_text

    async def turn_finished(self: Any, outcome: TurnEnd) -> None:
        """Close the answer, say in the chat why the turn ended, then go on with the queue."""
        approving = False
        try:
            approving = await self._finish_turn(outcome)
        except NoMatches:  # quit while the turn was ending: the widgets are gone
            if not self.closing:
                raise
        finally:
            if not self.busy and not approving:  # held on through an approval and the queue
                release_full_collections()

    async def _finish_turn(self: Any, outcome: TurnEnd) -> bool:
        """Whether an approval is now asked for (the turn goes on after it)."""
        if self.closing:
            return False
        answer = self._answer
        await self.close_answer()
        if outcome.stopped:
            await self.note("stopped", f"■ {STOPPED_BY_YOU}")
        elif outcome.error:
            if answer is not None:
                answer.add_class("interrupted")
                answer.border_subtitle = "interrupted"
            await self.note("failed", f"✗ The turn failed: {outcome.error}")
        self.busy = False
        self._outcome = None
        await self.refresh_sessions()
        if self.session_id and (request := self.sessions.awaiting(self.session_id)):
            self.ask_approval(request)
            return True
        await self.flush_queue()
        return False

    @property
    def closing(self: Any) -> bool:
        """Whether the app is shutting down."""
        return bool(self._exit or self._closing or self._closed)

    async def note(self: Any, kind: str, text: str) -> None:
        """A line in the chat that says why a turn ended (stays, unlike a toast)."""
        await self.show(TurnNote(text, classes=kind))
        self.chat.scroll_end(animate=False)

    async def show(self: Any, *widgets: Any) -> None:
        """Mount what the running turn shows above the messages still queued after it."""
        waiting = next((q.view for q in self.queue if q.view.parent is self.chat), None)
        await self.chat.mount(*widgets, before=waiting)

    async def action_quit(self: Any) -> None:
        """Quit; ask first while an answer is running."""
        from gemloom.workflows.tui.screens import ConfirmScreen

        if not self.busy:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.action_stop()
                self.exit()

        self.push_screen(ConfirmScreen("An answer is still running. Quit anyway?"), answered)


def settle_heap() -> None:
    """Hide what start-up built from the garbage collector, once per process.

    With the agent stack loaded a full collection walks about a million objects: 100-200 ms of
    CPU, up to 1.6 s of wall time on a loaded machine, a few times a minute while an answer
    streams. Frozen objects are never walked again; what later turns allocate still is.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()


_HELD: list[tuple[int, int, int]] = []  # the thresholds to restore, while a turn holds them


def hold_full_collections() -> None:
    """No full collection while an answer streams: one pass walks every live widget and cache.

    Measured with 5,000 streamed tokens (bench/tui.py): 14 full passes of 180-250 ms each, and
    a key pressed during one waits for it. Young collections still run, so short-lived cycles
    go as before; what reaches the oldest generation waits for the end of the turn.
    """
    if not _HELD:
        _HELD.append(gc.get_threshold())
        young, middle, _ = _HELD[0]
        gc.set_threshold(young, middle, 1_000_000)


def release_full_collections() -> None:
    """Restore the thresholds: the collector's own rule then runs the held-back full pass.

    Not forced with gc.collect(): in a process with a large heap (the test suite's) a forced
    pass per turn cost more than all the passes it held back. Not while an approval dialog is
    up: a pause then would let keys typed ahead outlast its guard.
    """
    if _HELD:
        gc.set_threshold(*_HELD.pop())


def coalesce(events: Iterator[Any], every: float = FRAME) -> Iterator[Any]:
    """Merge answer pieces that arrive within `every` seconds into one Content event.

    Each hand-over to the UI thread costs a layout pass; at 50 tokens a second, one per token
    makes key presses wait behind reflows.
    """
    from gemloom.agents import events as ev

    pending: list[str] = []
    last = 0.0
    for event in events:
        if isinstance(event, ev.Content):
            pending.append(event.text)
            if time.monotonic() - last < every:
                continue
        if pending:
            yield ev.Content("".join(pending))
            pending = []
            last = time.monotonic()
        if not isinstance(event, ev.Content):
            yield event
    if pending:
        yield ev.Content("".join(pending))
