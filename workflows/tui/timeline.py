"""The chat timeline: how each agent event of a running turn is shown."""

from __future__ import annotations

import threading
from typing import Any

from textual.css.query import NoMatches
from textual.widgets import Static

from gemloom.workflows.tui.chat import AssistantMessage, CompactionMark, ThinkingView, ToolCallView


class Timeline:
    """Mixin for GemloomApp: answers, thinking, tool calls and notes as the agent streams them."""

    _answer: AssistantMessage | None  # set by the app
    _thinking: ThinkingView | None
    _progress = ""  # the tool whose progress the activity line shows, if any

    def ask_approval(self: Any, request: dict[str, Any]) -> None:
        """Show the approval modal for a pending call, then go on with the answer."""
        from gemloom.workflows.tui.approval import ApprovalScreen

        session_id = self.session_id

        def answered(decision: Any) -> None:
            self.start_turn(lambda: self.sessions.answer(session_id, decision))

        tool = self.sessions.agent.registry.get(request["name"])
        server = getattr(tool, "source", "") if tool else ""
        self.push_screen(ApprovalScreen(request, server=server), answered)

    async def on_agent_event(self: Any, event: Any) -> None:
        """Show one agent event."""
        from gemloom.agents import events as ev
        from gemloom.tools.audio.tools import MeetingProgress
        from gemloom.tools.mcp.tools import McpNotice

        if self.closing:
            return
        match event:
            case ev.Content(text):
                if self._answer is None:
                    self._answer = AssistantMessage()
                    await self.show(self._answer)
                await self._answer.add_text(text)
            case ev.Thinking(text):
                if self._thinking is None:
                    self._thinking = ThinkingView()
                    await self.show(self._thinking)
                self._thinking.append(text)
            case ev.ToolProposed(call_id, name, arguments, risk, _):
                await self.close_answer()
                if self.chat.tool_view(call_id) is None:  # a resumed step proposes again
                    tool = self.sessions.agent.registry.get(name)
                    server = getattr(tool, "source", "") if tool else ""
                    await self.show(ToolCallView(call_id, name, arguments, risk, server))
                self.chat.scroll_end(animate=False)
            case ev.AwaitingApproval(call_id) | ev.Approved(call_id) | ev.Rejected(call_id):
                status = {
                    ev.AwaitingApproval: "waiting",
                    ev.Approved: "approved",
                    ev.Rejected: "rejected",
                }[type(event)]
                if view := self.chat.tool_view(call_id):
                    view.set_status(status, getattr(event, "reason", ""))
            case MeetingProgress(tool, text):  # under the chat while the tool works
                self._progress = tool
                self.show_activity(f"⟳ {tool}: {text}")
            case ev.ToolFinished(call_id, _, result, error):
                self._end_progress()
                if view := self.chat.tool_view(call_id):  # a rejection stays a rejection
                    kept = view.status == "rejected"
                    view.set_status("rejected" if kept else "error" if error else "done", result)
            case ev.Usage():
                self.meter.show(event)
            case ev.Compacted(count, before, after, _):
                await self.show(
                    CompactionMark(
                        f"── {count} older messages compacted: {before:,} → {after:,} tokens ──"
                    )
                )
                self.notify(f"Compacted {count} older messages into a summary.")
            case ev.Cut(reason):
                await self.close_answer()
                await self.note("cut", f"✂ Stopped: {reason}.")
            case ev.Stopped(reason):
                await self.close_answer()
                await self.note("stopped", f"■ Stopped: {reason}.")
            case McpNotice(server, text):  # a server that failed: one line, the session goes on
                await self.note("mcp", f"! MCP server {server}: {text}")

    def _end_progress(self: Any) -> None:
        """Clear the activity line if a tool's progress is on it (not another task's)."""
        if self._progress:
            self._progress = ""
            self.show_activity("")

    def failed_over(self: Any, old: str, new: str) -> None:
        """Say in the chat that a server went away and where the work goes on (any thread)."""
        from gemloom.llm_hosts import failover_text

        text = f"⇄ {failover_text(old, new)}"
        if self._thread_id == threading.get_ident():
            self.call_later(self._failover_note, text)
        elif not self.closing:
            self.call_from_thread(self._failover_note, text)

    async def _failover_note(self: Any, text: str) -> None:
        try:
            await self.note("failover", text)
        except NoMatches:  # quit meanwhile: there is no chat to say it in (and the request
            if not self.closing:  # that failed over must not fail because of it)
                raise

    async def close_answer(self: Any) -> None:
        """Flush the streaming answer and forget the current answer/thinking views."""
        self._end_progress()  # the turn ended, or the model speaks again
        if self._answer is not None:
            await self._answer.finish()
        self._answer = self._thinking = None

    def show_activity(self: Any, text: str) -> None:
        """Show (or clear, with "") what a background task is doing."""
        line = self.query_one("#activity", Static)
        line.update(text)
        line.set_class(bool(text), "shown")
