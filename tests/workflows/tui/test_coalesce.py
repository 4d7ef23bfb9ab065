from gemloom.agents import events as ev
from gemloom.workflows.tui.turns import coalesce


def test_pieces_within_a_frame_are_merged_and_order_is_kept() -> None:
    stream = [
        ev.Content("a"),
        ev.Content("b"),
        ev.Usage(1, 1, 8192, 8192),
        ev.Content("c"),
        ev.Content("d"),
        ev.ToolProposed("1", "t", {}),
        ev.Content("e"),
    ]
    merged = list(coalesce(iter(stream), every=60.0))
    # the first piece goes out at once (nothing shown yet), later ones wait for the frame
    assert merged == [
        ev.Content("a"),
        ev.Content("b"),
        ev.Usage(1, 1, 8192, 8192),
        ev.Content("cd"),
        ev.ToolProposed("1", "t", {}),
        ev.Content("e"),
    ]


def test_without_a_frame_nothing_is_merged() -> None:
    stream = [ev.Content("a"), ev.Content("b"), ev.Thinking("x")]
    assert list(coalesce(iter(stream), every=0.0)) == stream
