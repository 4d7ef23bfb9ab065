"""What keeps the TUI quick while an answer streams: a settled heap, few re-layouts."""

import gc

from fake_ollama import Turn
from pilot import answers, idle, ready, say


async def test_the_first_turn_freezes_what_start_up_built(make_app, fake_ollama):
    fake_ollama.script(Turn("first"), Turn("second"))
    gc.unfreeze()  # another test of this process may have frozen it already
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        assert gc.get_freeze_count() == 0  # start-up alone does not freeze
        await say(pilot, "hello")
        await idle(pilot)
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the agent stack and Textual are out of the collector's walk
        await say(pilot, "again")
        await idle(pilot)
        # once per process: what later turns build stays collectable (not frozen as well)
        assert gc.get_freeze_count() <= frozen
        assert answers(app) == ["first", "second"]
