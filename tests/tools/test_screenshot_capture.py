"""Real captures with mss under Xvfb of a Tk window with known colours, and the two tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gemloom.tools.registry import ToolContext, ToolError
from gemloom.tools.screen import tools as screen
from gemloom.tools.screen.image import Box, load

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 160, 0)
WINDOW = Box(100, 50, 300, 200)  # the Tk window's place on the screen
PANEL = Box(20, 20, 100, 80)  # a blue panel inside it, in window coordinates
TK_SCRIPT = textwrap.dedent(
    """
    import sys, tkinter as tk
    root = tk.Tk()
    root.title("gemloom-probe")
    root.geometry("300x200+100+50")
    root.configure(bg="#ff0000")
    tk.Frame(root, bg="#0000ff", width=100, height=80).place(x=20, y=20)
    tk.Frame(root, bg="#00a000", width=40, height=40).place(x=240, y=140)
    root.update()
    print("ready", flush=True)
    sys.stdin.read()
    """
)


@pytest.fixture(scope="module")
def xvfb() -> Iterator[str]:
    """A private Xvfb server on a display number it picks itself; yields ':N'."""
    # Only the tests that take this fixture need a display; parsing and errors run everywhere.
    if not shutil.which("Xvfb"):
        pytest.skip("needs Xvfb (Debian xvfb)")
    read, write = os.pipe()
    # -noreset: without the Tk window, each test's client is the last to leave, and a reset
    # between two of them drops the next connection
    options = ["-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset"]
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), *options],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not report its display number"
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def window(xvfb: str) -> Iterator[str]:
    """The probe window shown on the Xvfb display; yields its title."""
    if subprocess.run([sys.executable, "-c", "import tkinter"], capture_output=True).returncode:
        pytest.skip("needs tkinter (Debian python3-tk)")
    env = {**os.environ, "DISPLAY": xvfb}
    app = subprocess.Popen(
        [sys.executable, "-c", TK_SCRIPT],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert app.stdout.readline().strip() == "ready"
    yield "gemloom-probe"
    app.stdin.close()
    app.wait(timeout=10)


@pytest.fixture
def display(xvfb: str, window: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DISPLAY pointing at the Xvfb server with the probe window on it."""
    monkeypatch.setenv("DISPLAY", xvfb)
    return xvfb


@pytest.fixture
def bare_display(xvfb: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DISPLAY pointing at the Xvfb server, for tests that need a screen but not the Tk window."""
    monkeypatch.setenv("DISPLAY", xvfb)
    return xvfb


def colours(image: Image.Image) -> set[tuple[int, ...]]:
    """Every distinct RGB colour in an image."""
    return {tuple(int(v) for v in c) for c in np.unique(np.asarray(image).reshape(-1, 3), axis=0)}


def at(box: Box, dx: int, dy: int) -> tuple[int, int]:
    return (box.x + dx, box.y + dy)


def test_whole_screen_capture_shows_the_window(display):
    shot = screen.capture()
    assert shot.size == (1024, 768)
    assert shot.image.getpixel(at(WINDOW, PANEL.x + 50, PANEL.y + 40)) == BLUE
    assert shot.image.getpixel(at(WINDOW, 200, 100)) == RED
    assert shot.image.getpixel(at(WINDOW, 260, 160)) == GREEN
    assert shot.image.getpixel((700, 600)) == (0, 0, 0)  # Xvfb's empty root window
    assert len(shot.sha256) == 64


def test_region_capture_is_exactly_that_region(display):
    panel = Box(WINDOW.x + PANEL.x, WINDOW.y + PANEL.y, PANEL.width, PANEL.height)
    shot = screen.capture(region=panel)
    assert shot.size == (100, 80)
    assert colours(shot.image) == {BLUE}


def test_window_capture_by_name_and_by_id(display, window):
    by_name = screen.capture(window=window)
    assert by_name.size == (WINDOW.width, WINDOW.height)
    assert by_name.image.getpixel((PANEL.x + 1, PANEL.y + 1)) == BLUE
    assert by_name.image.getpixel((5, 5)) == RED
    if shutil.which("xdotool"):
        found = subprocess.run(
            ["xdotool", "search", "--name", window], capture_output=True, text=True
        ).stdout.split()
        assert screen.capture(window=found[0]).sha256 == by_name.sha256


def test_monitor_one_is_the_xvfb_screen(bare_display):
    assert screen.capture(monitor=1).size == (1024, 768)
    with pytest.raises(screen.ScreenError, match="Monitor 5 does not exist"):
        screen.capture(monitor=5)


def test_unknown_window_and_off_screen_region_are_clear_errors(bare_display):
    with pytest.raises(screen.ScreenError, match=r"No visible window is named|Cannot find window"):
        screen.capture(window="no-such-window-title")
    with pytest.raises(screen.ScreenError, match="Cannot find window"):
        screen.capture(window="0x7ffffff")
    with pytest.raises(screen.ScreenError, match="off the screen"):
        screen.capture(region=Box(5000, 5000, 10, 10))


def test_no_display_names_xvfb(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(screen.ScreenError) as caught:
        screen.capture()
    assert str(caught.value) == "no display: run under Xvfb (xvfb-run) or set DISPLAY"


def test_a_display_nobody_serves_names_xvfb(monkeypatch):
    unused = next(n for n in range(900, 1000) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    monkeypatch.setenv("DISPLAY", f":{unused}")
    with pytest.raises(screen.ScreenError, match=r"^no display: run under Xvfb \(xvfb-run\)"):
        screen.capture()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1,2,3", "is not X,Y,WIDTH,HEIGHT"),
        ("a,b,c,d", "is not X,Y"),
        ("0,0,0,10", "zero or negative"),
    ],
)
def test_bad_regions(text, problem):
    with pytest.raises(screen.ScreenError, match=problem):
        screen.parse_region(text)


def test_parse_region():
    assert screen.parse_region(" 10, 20,300 ,40") == Box(10, 20, 300, 40)


def test_the_screenshot_tool_saves_the_image_and_hands_it_to_the_agent(display, tmp_path):
    ctx = ToolContext(workspace=tmp_path)
    panel = f"{WINDOW.x + PANEL.x},{WINDOW.y + PANEL.y},{PANEL.width},{PANEL.height}"
    shot = screen.screenshot.run(screen.screenshot.validate({"region": panel}), ctx)
    result = json.loads(shot.text)
    assert (result["width"], result["height"]) == (100, 80)
    saved = load(screen.screens_dir() / result["image"])
    assert saved.sha256 == result["sha256"]
    assert colours(saved.image) == {BLUE}
    assert load(shot.images[0]).sha256 == result["sha256"]


def test_the_screenshot_tool_turns_screen_errors_into_tool_errors(monkeypatch, tmp_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(ToolError, match="no display"):
        screen.screenshot.run({"region": ""}, ToolContext(workspace=tmp_path))


def test_the_zoom_tool_crops_a_workspace_image(tmp_path):
    image = Image.new("RGB", (400, 300), RED)
    image.paste(BLUE, (300, 200, 400, 300))
    image.save(tmp_path / "ui.png")
    ctx = ToolContext(workspace=tmp_path)
    args = screen.zoom_tool.validate(
        {"image": "ui.png", "x": "300", "y": 200, "width": 50, "height": 50}
    )
    crop = screen.zoom_tool.run(args, ctx)
    result = json.loads(crop.text)
    assert result["box"] == [300, 200, 50, 50] and (result["width"], result["height"]) == (50, 50)
    assert result["of"] == load(tmp_path / "ui.png").sha256
    assert colours(load(crop.images[0]).image) == {BLUE}
    whole = {"image": result["image"], "x": 0, "y": 0, "width": 50, "height": 50}
    again = json.loads(screen.zoom_tool.run(whole, ctx).text)
    assert again["sha256"] == result["sha256"]  # a saved crop can be zoomed by its name


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("../etc/passwd", "uses '..'"),
        ("missing.png", "Cannot read"),
        ("notes.txt", "is not an image"),
    ],
)
def test_the_zoom_tool_reports_bad_images(tmp_path, image, problem):
    (tmp_path / "notes.txt").write_text("hello")
    ctx = ToolContext(workspace=tmp_path)
    with pytest.raises(ToolError, match=problem):
        screen.zoom_tool.run({"image": image, "x": 0, "y": 0, "width": 5, "height": 5}, ctx)


def test_tool_schemas_stay_flat():
    assert screen.zoom_tool.schema["function"] == {
        "name": "zoom",
        "description": (
            "Crop a region of an image at full resolution, to read small text or check details."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "image": {
                    "type": "string",
                    "description": (
                        "An image name returned by screenshot or zoom, "
                        "or an image path in the workspace."
                    ),
                },
                "x": {
                    "type": "integer",
                    "description": "Left edge of the region, in image pixels.",
                },
                "y": {"type": "integer", "description": "Top edge of the region, in image pixels."},
                "width": {"type": "integer", "description": "Region width in pixels."},
                "height": {"type": "integer", "description": "Region height in pixels."},
            },
            "required": ["image", "x", "y", "width", "height"],
        },
    }
    params = screen.screenshot.schema["function"]["parameters"]
    assert params["properties"] == {
        "region": {
            "type": "string",
            "description": (
                'Optional "X,Y,WIDTH,HEIGHT" in screen pixels; empty for the whole screen.'
            ),
        }
    }
    assert params["required"] == [] and screen.screenshot.risk.value == "read"


def test_the_screenshot_command_writes_a_png(display, tmp_path):
    import typer
    from typer.testing import CliRunner

    from gemloom.cli.review import screenshot_command

    cli = typer.Typer(pretty_exceptions_enable=False)
    cli.command()(screenshot_command)
    out = tmp_path / "shots" / "panel.png"
    region = f"{WINDOW.x + PANEL.x},{WINDOW.y + PANEL.y},{PANEL.width},{PANEL.height}"
    result = CliRunner().invoke(cli, ["-o", str(out), "--region", region], catch_exceptions=False)
    assert result.exit_code == 0
    shot = load(out)
    assert colours(shot.image) == {BLUE}
    assert f"100x80  sha256:{shot.sha256}" in result.output
