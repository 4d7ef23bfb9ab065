import base64
import io

from fake_ollama import FakeModel, Turn, call
from pilot import answers, approval_shown, idle, notified, ready, running, say, wait_until

from gemloom.workflows.tui.chat import AssistantMessage, CompactionMark, ToolCallView, UserMessage
from gemloom.workflows.tui.screens import HelpScreen, PickScreen


async def test_chat_streams_the_answer_and_lists_the_session(make_app, fake_ollama) -> None:
    fake_ollama.script(Turn("Hello **there**, " + "word " * 200, prompt_eval_count=321))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "hi")
        await idle(pilot)
        assert answers(app)[0].startswith("Hello **there**, word")
        assert [str(m.render()) for m in app.query(UserMessage)] == ["hi"]
        meter = str(app.query_one("#meter").render())
        assert "context: 321 of 262,144 used (0%)" in meter
        assert "answer: 254 tokens, 508,000/s" in meter  # the fake's own figures
        assert len(app.query_one("#sessions").children) == 1
        assert app.sub_title == "gemma4:12b · 262,144 context"


async def test_approve_a_write_tool(make_app, fake_ollama, workspace) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="n.txt", content="hi")]), Turn("Written.")
    )
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "write it")
        await approval_shown(pilot)
        assert not (workspace / "n.txt").exists()
        assert app.query_one(ToolCallView).status == "waiting"
        await pilot.press("y")
        await idle(pilot)
        assert (workspace / "n.txt").read_text() == "hi"
        assert answers(app) == ["Written."]
        assert app.query_one(ToolCallView).status == "done"


async def test_reject_with_a_reason(make_app, fake_ollama, workspace) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="n.txt", content="hi")]),
        Turn("OK, not writing."),
    )
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "write it")
        await approval_shown(pilot)
        await pilot.press("n")
        await pilot.press(*"wrong file", "enter")
        await idle(pilot)
        assert not (workspace / "n.txt").exists()
        assert fake_ollama.chat_bodies()[-1]["messages"][-1]["content"] == (
            "Rejected by the user: wrong file"
        )
        assert app.query_one(ToolCallView).status == "rejected"


async def test_edit_the_arguments(make_app, fake_ollama, workspace) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="n.txt", content="hi")]), Turn("Done.")
    )
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "write it")
        await approval_shown(pilot)
        await pilot.press("e")
        app.screen.query_one("#arguments").text = '{"path": "m.txt", "content": "edited"}'
        await pilot.press("ctrl+s")
        await idle(pilot)
        assert (workspace / "m.txt").read_text() == "edited"
        assert not (workspace / "n.txt").exists()


async def test_always_allow_skips_the_next_question(make_app, fake_ollama, workspace) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("write_text_file", path="1.txt", content="1")]),
        Turn(tool_calls=[call("write_text_file", path="2.txt", content="2")]),
        Turn("Both."),
    )
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "write two")
        await approval_shown(pilot)
        await pilot.press("a")
        await idle(pilot)
        assert (workspace / "2.txt").read_text() == "2"
        assert answers(app) == ["Both."]


async def test_ollama_down_shows_a_banner_and_browsing_works(make_app, dead_host, workspace):
    from gemloom.agents.sessions import Sessions
    from gemloom.settings import load_settings

    saved = Sessions(load_settings(), workspace=workspace)
    sid = saved.create("old talk")
    saved.graph.update_state(
        saved._config(sid),
        {
            "messages": [
                {"role": "user", "content": "earlier question"},
                {"role": "assistant", "content": "earlier answer"},
            ]
        },
        as_node="model",
    )
    app = make_app()
    async with running(app) as pilot:
        banner = str(app.query_one("#banner").render())
        assert "ollama serve" in banner and "Browsing works" in banner
        # the last session is reopened on start; browsing it works without a server
        await wait_until(pilot, lambda: answers(app) == ["earlier answer"])
        await say(pilot, "hello?")
        await pilot.pause()
        # nothing sent, nothing crashed, and the text is still in the prompt
        assert [str(m.render()) for m in app.query(UserMessage)] == ["earlier question"]
        assert app.prompt.value == "hello?"
        await wait_until(pilot, lambda: len(app.query_one("#sessions").children) == 1)
        app.query_one("#sessions").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: answers(app) == ["earlier answer"])


async def test_missing_model_banner(make_app, fake_ollama) -> None:
    del fake_ollama.models["gemma4:12b"]
    app = make_app()
    async with running(app):
        assert "gemloom pull gemma4:12b" in str(app.query_one("#banner").render())


async def test_resume_a_session_after_restarting(make_app, fake_ollama) -> None:
    fake_ollama.script(Turn("first answer"), Turn("second answer"))
    async with running(make_app()) as pilot:
        await say(pilot, "first question")
        await idle(pilot)
    app = make_app()
    async with running(app) as pilot:
        await wait_until(pilot, lambda: len(app.query_one("#sessions").children) == 1)
        app.query_one("#sessions").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: answers(app) == ["first answer"])
        await say(pilot, "second question")
        await idle(pilot)
        assert answers(app) == ["first answer", "second answer"]
        sent = [m["content"] for m in fake_ollama.chat_bodies()[-1]["messages"]]
        assert sent[1:] == ["first question", "first answer", "second question"]


async def test_attach_an_image(make_app, fake_ollama, tmp_path) -> None:
    from PIL import Image

    image = tmp_path / "shot.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(image)
    (tmp_path / "fake.png").write_text("not an image")
    fake_ollama.script(Turn("I see it."))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "/attach /no/such/file.png")
        await say(pilot, f"/attach {tmp_path / 'fake.png'}")
        await say(pilot, f"/attach {image}")
        await wait_until(pilot, lambda: len(app.attachments["images"]) == 1)
        assert "attached: shot.png (/detach removes)" in str(app.query_one("#attachments").render())
        await say(pilot, "what is this?")
        await idle(pilot)
        sent = fake_ollama.chat_bodies()[0]["messages"][-1]
        picture = Image.open(io.BytesIO(base64.b64decode(sent["images"][0])))
        assert picture.size == (40, 30) and picture.getpixel((5, 5)) == (200, 10, 10)
        assert len(sent["images"]) == 1


async def test_attach_audio(make_app, fake_ollama, tmp_path) -> None:
    import wave

    recording = tmp_path / "note.wav"
    with wave.open(str(recording), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\x10\x00" * 16_000 * 3)
    fake_ollama.script(Turn("heard"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, f"/audio {recording}")
        await wait_until(pilot, lambda: len(app.attachments["audio"]) == 1)
        await say(pilot, "transcribe")
        await idle(pilot)
        sent = fake_ollama.chat_bodies()[0]["messages"][-1]["images"][0]
        assert base64.b64decode(sent)[:4] == b"RIFF"


async def test_screenshot_without_a_display_is_a_notification(make_app, fake_ollama, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "/screenshot")
        await wait_until(pilot, lambda: notified(app, "Xvfb"))
        assert app.attachments["images"] == []


async def test_load_a_codebase_with_its_budget_meter(make_app, fake_ollama, tmp_path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text("def main():\n    return 42\n")
    fake_ollama.script(Turn("It returns 42."), Turn("still here"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, f"/load {repo} what does main return")
        await wait_until(pilot, lambda: app.codebase is not None)
        meter = str(app.query_one("#attachments").render())
        assert "codebase repo:" in meter and "of its budget" in meter
        await say(pilot, "what does main return?")
        await idle(pilot)
        sent = fake_ollama.chat_bodies()[0]["messages"][-1]["content"]
        assert "return 42" in sent and sent.endswith("what does main return?")
        assert "📦 codebase repo" in str(app.query(UserMessage)[0].render())
        await say(pilot, "and then?")
        await idle(pilot)
        assert fake_ollama.chat_bodies()[1]["messages"][-1]["content"] == "and then?"
        await say(pilot, f"/load {tmp_path / 'missing'}")
        await wait_until(pilot, lambda: notified(app, "missing"))


async def test_pick_the_model(make_app, fake_ollama) -> None:
    fake_ollama.models["small:1b"] = FakeModel(["completion", "tools"], 32_768, "gemma3")
    fake_ollama.script(Turn("from small"))
    app = make_app()
    async with running(app) as pilot:
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, PickScreen))
        table = app.screen.query_one("DataTable")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert ["  small:1b", "completion, tools", "32,768"] in rows
        assert rows[table.cursor_row][0] == "● gemma4:12b"  # starts on the current model, marked
        assert not any("embed" in r[0] for r in rows)  # cannot chat: not offered
        assert "cannot chat are not listed" in str(app.screen.query_one("Label").render())
        table.move_cursor(row=[r[0] for r in rows].index("  small:1b"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.sub_title.startswith("small:1b ·"))
        await say(pilot, "hi")
        await idle(pilot)
        assert fake_ollama.chat_bodies()[-1]["model"] == "small:1b"


async def test_context_meter_warns_and_marks_compaction(make_app, fake_ollama) -> None:
    fake_ollama.models["gemma4:12b"] = FakeModel(context_length=32_768)
    fake_ollama.script(Turn("big", prompt_eval_count=24_000))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "x" * 90_000)
        await idle(pilot)
        assert app.query_one("#meter").has_class("warn")
        fake_ollama.script(Turn("summary of it"), Turn("after"))
        await say(pilot, "more")
        await idle(pilot)
        assert app.query(CompactionMark)
        assert answers(app)[-1] == "after"


async def test_session_commands(make_app, fake_ollama, sessions_backend) -> None:
    fake_ollama.script(Turn("one"), Turn("two"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "q1")
        await idle(pilot)
        await say(pilot, "q2")
        await idle(pilot)
        original = app.session_id
        await say(pilot, "/rename My chat")
        assert app.sessions.get(original).title == "My chat"
        await say(pilot, "/history")
        await wait_until(pilot, lambda: isinstance(app.screen, PickScreen))
        table = app.screen.query_one("DataTable")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [r[1] for r in rows] == ["q2", "q1"]  # the person's messages, newest first
        assert all(len(r[0]) == 5 and r[0][2] == ":" for r in rows)  # with their time, HH:MM
        await pilot.press("enter")  # rewind to before "q2"
        await wait_until(pilot, lambda: app.session_id != original)
        assert answers(app) == ["one"]
        assert app.prompt.value == "q2"  # back in the prompt, to edit and send again
        assert app.sessions.get(app.session_id).title == "My chat (fork)"
        forked = app.session_id
        await app.open_session(original)
        await say(pilot, "/fork")
        await wait_until(pilot, lambda: app.session_id not in (original, forked))
        assert app.sessions.get(app.session_id).title == "My chat (fork 2)"  # distinct names
        await say(pilot, "/history")
        await wait_until(pilot, lambda: isinstance(app.screen, PickScreen))
        app.screen.query_one("DataTable").move_cursor(row=1)
        before = app.session_id
        await pilot.press("enter")  # before the first message: only the system prompt stays
        await wait_until(pilot, lambda: app.session_id != before)
        assert app.prompt.value == "q1" and answers(app) == []
        assert [m["role"] for m in app.sessions.messages(app.session_id)] == ["system"]
        await app.open_session(forked)
        await say(pilot, "/delete")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.session_id is None)
        assert forked not in [s.id for s in app.sessions.list()]
        await say(pilot, "/nonsense")
        await say(pilot, "/fork")
        await pilot.pause()


async def test_help_and_small_terminal(make_app, fake_ollama) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.query_one("#sidebar").has_class("hidden")
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = app.screen.text
        assert "ctrl+n" in text and "/attach [PATH]" in text and "approve" in text
        body = app.screen.query_one("#help-body")
        assert body.max_scroll_y > 0  # at 80x24 the help does not fit: it must scroll
        assert "End of help" not in app.export_screenshot().replace("&#160;", " ")
        await pilot.press("end")
        await wait_until(pilot, lambda: body.scroll_y == body.max_scroll_y)
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "End of help: escape closes it." in shown  # the last line is on screen
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("ctrl+b")
        assert not app.query_one("#sidebar").has_class("hidden")


async def test_jobs_screen_opens_notes_and_retries(make_app, fake_ollama, tmp_path) -> None:
    import os
    import time

    from gemloom.workflows.jobs import Job, JobBoard
    from gemloom.workflows.tui.jobs import JobsScreen, NotesScreen

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "standup.md").write_text("# Standup notes\n\n- ship it\n")
    board = JobBoard()
    board.save(
        Job(
            "done1",
            "ingest",
            ["ingest", "standup.wav", "--out", str(notes)],
            os.getpid(),
            status="done",
            exit_code=0,
            started=time.time() - 10,
            cwd=str(tmp_path),
        )
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    app = make_app()
    async with running(app) as pilot:
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, JobsScreen))
        table = app.screen.query_one("DataTable")
        assert table.get_row_at(0)[:3] == ["done1", "ingest", "done (0)"]
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, NotesScreen))
        assert app.screen.path == notes / "standup.md"
        await pilot.press("escape")
        await pilot.press("escape")
        await say(pilot, f"/watch {inbox} --out {notes}")
        await wait_until(pilot, lambda: isinstance(app.screen, JobsScreen))
        watcher = next(j for j in board.list() if j.kind == "watch")
        assert watcher.status == "running"
        await wait_until(pilot, lambda: "watching" in board.get(watcher.id).progress(), timeout=30)
        board.stop(watcher.id)
        await wait_until(pilot, lambda: board.get(watcher.id).status == "done", timeout=30)


async def test_remember_recall_and_forget(make_app, fake_ollama) -> None:
    from gemloom.workflows.tui.memory import MemoryScreen

    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "/remember The staging database is on port 5433")
        await wait_until(pilot, lambda: notified(app, "Remembered"))
        await say(pilot, "/recall The staging database is on port 5433")
        await wait_until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        await wait_until(pilot, lambda: app.screen.query_one("DataTable").row_count == 1)
        detail = str(app.screen.query_one("#detail").render())
        assert "port 5433" in detail and "kind: note" in detail and "tags: tui" in detail
        app.screen.query_one("DataTable").focus()
        await pilot.press("delete")
        await wait_until(pilot, lambda: app.screen.query_one("DataTable").row_count == 0)
        store = app.sessions.context.memory
        assert list(store.records(deleted=False)) == []


async def test_rename_and_delete_keys_work_while_the_prompt_has_focus(make_app, fake_ollama):
    from gemloom.workflows.tui.screens import ConfirmScreen, PromptScreen

    fake_ollama.script(Turn("one"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "q1")
        await idle(pilot)
        assert app.focused is app.prompt
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*"Renamed", "enter")
        await wait_until(pilot, lambda: app.sessions.get(app.session_id).title == "Renamed")
        app.prompt.focus()
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.sessions.list() == [])


async def test_tool_calls_say_their_status_in_words(make_app, fake_ollama) -> None:
    fake_ollama.script(
        Turn(tool_calls=[call("read_file", path="a.txt")]),
        Turn(tool_calls=[call("read_file", path="missing.txt")]),
        Turn(tool_calls=[call("write_text_file", path="n.txt", content="hi")]),
        Turn("ok"),
    )
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "go")
        await approval_shown(pilot)
        views = list(app.query(ToolCallView))
        titles = [str(v.title) for v in views]
        assert titles[0].startswith("✓ done: read_file") and views[0].has_class("-done")
        assert titles[1].startswith("! failed: read_file") and views[1].has_class("-failed")
        assert titles[2].startswith("? waiting for approval: write_text_file")
        await pilot.press("escape")
        await idle(pilot)
        assert str(views[2].title).startswith("✗ rejected: write_text_file")
        assert views[2].has_class("-rejected")


async def test_every_dialog_has_a_title_and_its_own_keys(make_app, fake_ollama) -> None:
    from gemloom.workflows.tui.jobs import JobsScreen
    from gemloom.workflows.tui.memory import MemoryScreen

    fake_ollama.script(Turn("one"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "q1")
        await idle(pilot)
        for key, kind, needs in [
            ("ctrl+g", JobsScreen, "s stop"),
            ("ctrl+y", MemoryScreen, "delete forget"),
            ("ctrl+l", PickScreen, "Enter pick"),
            ("ctrl+e", None, "Enter answer"),
            ("ctrl+d", None, "y yes"),
            ("f1", HelpScreen, "esc closes"),
        ]:
            app.prompt.focus()
            start = app.screen
            await pilot.press(key)
            await wait_until(pilot, lambda s=start: app.screen is not s)
            assert kind is None or isinstance(app.screen, kind)
            box = app.screen.children[0]
            assert box.border_title, key
            assert needs in f"{box.border_title} {box.border_subtitle}", key
            await pilot.press("escape")
            await wait_until(pilot, lambda s=start: app.screen is s)


async def test_the_meter_belongs_to_the_session_on_screen(make_app, fake_ollama) -> None:
    fake_ollama.script(Turn("one", prompt_eval_count=5000))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "q1")
        await idle(pilot)
        first = app.session_id
        assert "context: 5,000 of 262,144 used" in str(app.meter.render())
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: "nothing sent yet" in str(app.meter.render()))
        await app.open_session(first)
        shown = str(app.meter.render())
        assert shown.startswith("context: about ") and "(estimated)" in shown
        assert "5,000" not in shown  # not the figures of whatever was on screen before


async def test_the_first_screen_says_what_gemloom_does(make_app, fake_ollama) -> None:
    from gemloom.workflows.tui.render import Welcome

    fake_ollama.script(Turn("one"))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        text = str(app.query_one(Welcome).render())
        for feature in ("/attach", "/load", "/remember", "approve", "ctrl+b sessions", "F1"):
            assert feature in text
        await say(pilot, "q1")
        await idle(pilot)
        assert not app.query(Welcome)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: bool(app.query(Welcome)))


async def test_export_the_session_from_the_chat(make_app, fake_ollama, workspace) -> None:
    import json

    fake_ollama.script(Turn("the answer"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "/export")
        await wait_until(pilot, lambda: notified(app, "Open or start"))
        await say(pilot, "the question")
        await idle(pilot)
        await say(pilot, "/export")
        md = workspace / f"session-{app.session_id}.md"
        await wait_until(pilot, md.exists)
        assert "## You\n\nthe question" in md.read_text()
        await say(pilot, "/export json out/s.json")
        await wait_until(pilot, (workspace / "out" / "s.json").exists)
        body = json.loads((workspace / "out" / "s.json").read_text())
        assert body["messages"][-1]["content"] == "the answer"
        await say(pilot, "/export pdf")
        await wait_until(pilot, lambda: notified(app, "'pdf'"))


async def test_attachments_are_named_removable_and_browsable(make_app, fake_ollama, workspace):
    from PIL import Image

    from gemloom.workflows.tui.files import FilePickScreen

    (workspace / "pics").mkdir()
    Image.new("RGB", (8, 8), (0, 200, 0)).save(workspace / "pics" / "green.png")
    Image.new("RGB", (8, 8), (0, 0, 200)).save(workspace / "blue.png")
    fake_ollama.script(Turn("one image"))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "/attach")  # no path: a file browser, images and folders only
        await wait_until(pilot, lambda: isinstance(app.screen, FilePickScreen))
        tree = app.screen.query_one("ImageTree")
        await wait_until(pilot, lambda: len(tree.root.children) == 2)
        labels = sorted(str(node.label) for node in tree.root.children)
        assert labels == ["blue.png", "pics"]  # a.txt is not offered
        node = next(n for n in tree.root.children if str(n.label) == "blue.png")
        tree.move_cursor(node)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.attachment_names() == ["blue.png"])
        await say(pilot, f"/attach {workspace / 'pics' / 'green.png'}")
        await wait_until(pilot, lambda: app.attachment_names() == ["blue.png", "green.png"])
        await say(pilot, "/detach")
        await wait_until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("enter")  # the first row: blue.png
        await wait_until(pilot, lambda: app.attachment_names() == ["green.png"])
        await say(pilot, "/detach nothing.png")
        assert app.attachment_names() == ["green.png"]
        await say(pilot, "look")
        await idle(pilot)
        sent = fake_ollama.chat_bodies()[0]["messages"][-1]
        picture = Image.open(io.BytesIO(base64.b64decode(sent["images"][0])))
        assert len(sent["images"]) == 1 and picture.getpixel((2, 2)) == (0, 200, 0)
        assert "📎 green.png" in str(app.query(UserMessage)[-1].render())
        assert app.attachment_names() == []


async def test_a_long_answer_streams_into_fixed_parts(make_app, fake_ollama) -> None:
    from textual.widgets import Markdown

    from gemloom.workflows.tui.chat import FrozenPart

    code = "```python\n" + "x = 1\n\n" * 200 + "```\n\n"  # blank lines inside: never cut there
    text = "".join(f"Paragraph {n} " + "word " * 40 + "\n\n" for n in range(60)) + code + "END"
    fake_ollama.script(Turn(text, chunk_chars=64, delay=0.002))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "long one")
        await idle(pilot)
        answer = app.query_one(AssistantMessage)
        parts = list(answer.query(FrozenPart)) + list(answer.query(Markdown))
        assert len(answer.query(Markdown)) == 1  # only the newest part is a Markdown widget
        assert answer.text == text and len(parts) > 3
        assert "".join(p.source for p in parts) == text  # nothing lost or doubled at the cuts
        assert sum("```python" in p.source for p in parts) == 1
        fenced = next(p for p in parts if "```python" in p.source)
        assert fenced.source.count("```") == 2  # the code block stayed in one part


async def test_copy_retry_and_clear(make_app, fake_ollama) -> None:
    answer = "Use this:\n\n```python\nprint('hi')\n```\n\nDone."
    fake_ollama.script(Turn(answer), Turn("A better answer."))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "/copy")
        await wait_until(pilot, lambda: notified(app, "Nothing to copy"))
        await say(pilot, "how do I print?")
        await idle(pilot)
        await say(pilot, "/copy")
        assert app.clipboard == answer
        await say(pilot, "/copy code")
        assert app.clipboard == "print('hi')\n"
        await say(pilot, "/retry")
        await idle(pilot)
        assert answers(app) == ["A better answer."]  # regenerated in place
        roles = [m["role"] for m in app.sessions.messages(app.session_id)]
        assert roles == ["system", "user", "assistant"]
        resent = fake_ollama.chat_bodies()[-1]["messages"]
        assert [m["content"] for m in resent][-1] == "how do I print?"
        await say(pilot, "/clear")
        await wait_until(pilot, lambda: app.session_id is None and not answers(app))


async def test_mcp_tools_name_their_server(make_app, fake_ollama, tmp_path) -> None:
    from mcp_helpers import stdio_server, toml_config

    toml_config(tmp_path / "config.toml", {"fx": stdio_server()})  # GEMLOOM_CONFIG points here
    fake_ollama.script(Turn(tool_calls=[call("fx.echo", text="hello", times="2")]), Turn("Done."))
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "echo")
        await idle(pilot)
        title = str(app.query_one(ToolCallView).title)
        assert title.startswith("✓ done: fx.echo (MCP server fx)")


async def test_mcp_approval_names_the_server_and_a_failed_server_is_a_line(
    make_app, fake_ollama, tmp_path
) -> None:
    from mcp_helpers import stdio_server, toml_config

    from gemloom.workflows.tui.chat import TurnNote

    servers = {"fx": stdio_server(), "gone": {"command": "gemloom-no-such-server"}}
    toml_config(tmp_path / "config.toml", servers)  # GEMLOOM_CONFIG points here
    fake_ollama.script(
        Turn(tool_calls=[call("fx.write_note", path="n.txt", text="hi")]), Turn("Done.")
    )
    app = make_app()
    async with running(app) as pilot:
        await say(pilot, "note it")
        await approval_shown(pilot)
        question = str(app.screen.query_one("#question").render())
        assert "fx.write_note" in question and "from MCP server fx" in question
        await pilot.press("n")
        await wait_until(pilot, lambda: not app.busy)
        notes = [str(n.render()) for n in app.query(TurnNote)]
        assert any(n.startswith("! MCP server gone: did not start") for n in notes), notes


async def test_a_model_that_cannot_chat_is_a_banner_and_no_session_is_made(
    fake_ollama, workspace
) -> None:
    from gemloom.agents.sessions import Sessions
    from gemloom.settings import load_settings
    from gemloom.workflows.tui.app import GemloomApp
    from gemloom.workflows.tui.stopping import StoppableLLM

    settings = load_settings(chat_model="embeddinggemma")

    def factory() -> Sessions:
        return Sessions(settings, llm=StoppableLLM(settings, retries=0), workspace=workspace)

    app = GemloomApp(settings, workspace, sessions_factory=factory)
    async with running(app) as pilot:
        assert "embeddinggemma cannot chat: ctrl+l picks" in str(app.query_one("#banner").render())
        await say(pilot, "hello")
        assert app.prompt.value == "hello"  # kept, not sent
        assert app.sessions.list() == [] and fake_ollama.chat_bodies() == []


async def test_a_message_sent_while_a_new_model_is_probed_waits_for_its_check(
    make_app, fake_ollama
):
    app = make_app()
    async with running(app) as pilot:
        app.use_model("embeddinggemma")
        await say(pilot, "hi")  # before the probe of the new model has answered
        await wait_until(pilot, lambda: app.query_one("#banner").has_class("shown"))
        await wait_until(pilot, lambda: app.prompt.value == "hi")  # back, not sent
        assert app.sessions.list() == [] and fake_ollama.chat_bodies() == []
