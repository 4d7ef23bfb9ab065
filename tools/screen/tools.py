"""The screen boundary: captures with mss (whole screen, a monitor, a region, an X11 window),
and the `screenshot` and `zoom` tools. No other module touches the screen.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

from PIL import Image

from gemloom.atomic import write_atomic
from gemloom.doctor import Check
from gemloom.errors import ExitCode, GemloomError
from gemloom.tools.files.tools import confine
from gemloom.tools.registry import ToolContext, ToolError, ToolResult, tool
from gemloom.tools.screen.image import (
    Box,
    Shot,
    content_hash,
    encode_png,
    from_image,
    load,
    zoom,
)

NO_DISPLAY = "no display: run under Xvfb (xvfb-run) or set DISPLAY"


class ScreenError(GemloomError):
    """The screen cannot be captured (no display, unknown window, bad region)."""

    exit_code = ExitCode.NO_DISPLAY


def parse_region(text: str) -> Box:
    """A Box from "X,Y,W,H"; ScreenError with the expected form otherwise."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not all(re.fullmatch(r"-?\d+", p) for p in parts):
        raise ScreenError(f"Region '{text}' is not X,Y,WIDTH,HEIGHT (for example 0,0,800,600).")
    box = Box(*(int(p) for p in parts))
    if box.width <= 0 or box.height <= 0:
        raise ScreenError(f"Region '{text}' has zero or negative size.")
    return box


def _mss(display: str | None):
    import mss

    if not (display or os.environ.get("DISPLAY")) and os.name == "posix":
        raise ScreenError(NO_DISPLAY)
    try:
        return mss.MSS(display=display) if display else mss.MSS()
    except mss.ScreenShotError as exc:
        raise ScreenError(f"{NO_DISPLAY} ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def capture(
    region: Box | None = None,
    monitor: int = 0,
    window: str | None = None,
    display: str | None = None,
) -> Shot:
    """Capture monitor `monitor` (0 = all screens together), a region of it, or a window."""
    import mss

    with _mss(display) as screen:
        monitors = screen.monitors
        if not 0 <= monitor < len(monitors):
            raise ScreenError(f"Monitor {monitor} does not exist: 0 to {len(monitors) - 1}.")
        area = _area(monitors[monitor], region, window, display)
        try:
            grabbed = screen.grab(area)
        except mss.ScreenShotError as exc:
            raise ScreenError(f"Cannot capture {area}: {_first_line(exc)}.") from None
    image = Image.frombytes("RGB", grabbed.size, grabbed.rgb)
    where = f"window {window}" if window else f"region {tuple(region)}" if region else "screen"
    return from_image(image, f"{where} @ {area['left']},{area['top']}")


def _area(bounds: dict, region: Box | None, window: str | None, display: str | None) -> dict:
    """The mss area to grab, clipped to the monitor; ScreenError if nothing of it is visible."""
    if window:
        region = window_box(window, display)
    left, top = bounds["left"], bounds["top"]
    box = Box(left, top, bounds["width"], bounds["height"])
    if region is not None:
        box = Box(left + region.x, top + region.y, region.width, region.height)
    x0, y0 = max(box.x, left), max(box.y, top)
    x1 = min(box.x + box.width, left + bounds["width"])
    y1 = min(box.y + box.height, top + bounds["height"])
    if x1 <= x0 or y1 <= y0:
        raise ScreenError(
            f"Region {tuple(box)} is off the screen ({bounds['width']}x{bounds['height']})."
        )
    return {"left": x0, "top": y0, "width": x1 - x0, "height": y1 - y0}


def window_box(window: str, display: str | None = None) -> Box:
    """Screen box of an X11 window given by id (decimal or 0x hex) or by name."""
    if not shutil.which("xwininfo"):
        raise ScreenError("Window capture needs xwininfo (Debian package x11-utils).")
    env = {**os.environ, **({"DISPLAY": display} if display else {})}
    if re.fullmatch(r"0x[0-9a-fA-F]+|\d+", window):
        target = ["-id", window]
    elif shutil.which("xdotool"):
        found = _run(["xdotool", "search", "--onlyvisible", "--name", window], env).split()
        if not found:
            raise ScreenError(f"No visible window is named '{window}'.")
        target = ["-id", found[0]]
    else:
        target = ["-name", window]
    info = _run(["xwininfo", *target], env)
    fields = dict(re.findall(r"^\s*(Absolute upper-left [XY]|Width|Height):\s*(-?\d+)", info, re.M))
    if len(fields) < 4:
        raise ScreenError(f"Cannot read the geometry of window '{window}'.")
    return Box(
        int(fields["Absolute upper-left X"]),
        int(fields["Absolute upper-left Y"]),
        int(fields["Width"]),
        int(fields["Height"]),
    )


def _run(argv: list[str], env: dict[str, str]) -> str:
    """Output of an X11 helper; ScreenError with its first error line when it fails."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=10)
    if done.returncode != 0 and argv[0] == "xwininfo":
        problem = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise ScreenError(f"Cannot find window {argv[-1]}: {problem}.")
    return done.stdout


# -- tools ---------------------------------------------------------------------------------


def screens_dir() -> Path:
    """Where the tools keep the images they make: `screens/` in gemloom's data directory."""
    from gemloom.settings import load_settings

    folder = load_settings().data_dir / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _publish(image: Image.Image, note: dict) -> ToolResult:
    """Save the PNG; the result describes it in text and carries the PNG for the model to see."""
    sha256 = content_hash(image)
    png = encode_png(image)
    name = f"{sha256[:16]}.png"
    write_atomic(screens_dir() / name, png, durable=False)
    size = {"width": image.width, "height": image.height}
    return ToolResult(json.dumps({"image": name, "sha256": sha256, **size, **note}), [png])


def _open(image: str, ctx: ToolContext) -> Shot:
    """A saved screen by the name a tool returned, else an image file in the workspace."""
    if re.fullmatch(r"[0-9a-f]{16}\.png", image) and (screens_dir() / image).is_file():
        return load(screens_dir() / image, name=image)
    path = confine(ctx.workspace, image)
    st = path.stat() if path.exists() else None
    if st is not None and (not stat.S_ISREG(st.st_mode) or st.st_nlink > 1):
        raise ToolError(f"'{image}' is not a regular file of its own (a device, pipe or hard link)")
    return load(path, name=image)


@tool
def screenshot(region: str = "") -> ToolResult:
    """Capture the screen, or part of it, as an image for later inspection.

    Args:
        region: Optional "X,Y,WIDTH,HEIGHT" in screen pixels; empty for the whole screen.
    """
    try:
        shot = capture(parse_region(region) if region.strip() else None)
    except GemloomError as exc:
        raise ToolError(str(exc)) from None
    return _publish(shot.image, {"source": shot.source})


@tool(name="zoom")
def zoom_tool(
    image: str, x: int, y: int, width: int, height: int, *, ctx: ToolContext
) -> ToolResult:
    """Crop a region of an image at full resolution, to read small text or check details.

    Args:
        image: An image name returned by screenshot or zoom, or an image path in the workspace.
        x: Left edge of the region, in image pixels.
        y: Top edge of the region, in image pixels.
        width: Region width in pixels.
        height: Region height in pixels.
    """
    try:
        shot = _open(image, ctx)
        crop = zoom(shot, Box(x, y, width, height))
    except GemloomError as exc:
        raise ToolError(str(exc)) from None
    return _publish(crop, {"of": shot.sha256, "box": [x, y, width, height]})


TOOLS = [screenshot, zoom_tool]


def doctor_check(settings: Any, llm: Any) -> Check:
    """`gemloom doctor`'s line about the display that screenshots would use."""
    try:
        with _mss(None) as screen:
            whole = screen.monitors[0]
    except ScreenError as exc:
        return Check("display", False, str(exc), required=False)
    detail = f"{os.environ.get('DISPLAY', 'default')}: {whole['width']}x{whole['height']}"
    return Check("display", True, detail, required=False, data=dict(whole))
