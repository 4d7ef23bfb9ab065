"""TUI speed: `gemloom chat` start-up, and key-press-to-screen latency while an answer streams.

Start-up: wall time from `tmux new-session` until the prompt placeholder is on a real terminal
(tmux, 100x30, polled every 10 ms), beside `python -c "import textual"` and beside a minimal
Textual app that shows one TextArea in the same tmux setup (the ratio isolates what gemloom adds).
As soon as the prompt shows, "hello there" and Enter are typed, as a person would: the figures
then say when that message was taken (queued or sent), when the model was probed (ready) and
when the answer began. One warm-up of each is run first and not counted, so every counted run
has a warm file cache. Each stage also gives the CPU time (user + system) the pane's process
tree had used by then, read from /proc: on a machine other work loads, CPU moves less than wall.

Latency: in-process (`App.run_test`, 100x30). The fake Ollama server (tests/fake_ollama.py, run in
another process like the real Ollama) streams a --tokens answer at 50 tokens/s (4 characters a
token, one token every 20 ms). Every --interval seconds a key event with an uppercase letter (the
answer is all lowercase) goes into the app through its driver, as a terminal key would; the
clock stops at the first frame, after the prompt Input holds that letter, whose rendered terminal
text (the frame's `render_segments`, the escape codes a terminal driver would write) contains it.
The headless driver renders no frames, so this benchmark renders every frame (and discards it),
as the terminal driver would. The same measurement with no stream running is the baseline.
CPU per wall second of the app process and of its UI thread is printed for both phases.

With `--against PYTHON` (the interpreter of another checkout's venv, say main's) the same
start-up runs are interleaved with that checkout's `gemloom chat`, and its latency is measured in
the same run right after ours (each in a child process), so before/after share the machine load.

    .venv/bin/python bench/tui.py [--runs 5] [--tokens 5000] [--interval 0.25] [--against PY]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent / "tests"
PLACEHOLDER = "Message (Enter sends"
TYPED = "hello there"
TAKEN = ("queued: sent when", "the model reads")  # queued, or already answering
READY = "262,144 context"
ANSWER = "the model reads"
END = "zzendofanswer"
KEYS = "QXZJKVWY"
SOCKET = f"gemloom-bench-{os.getpid()}"
PROSE = (
    "the model reads each line of code and writes a short note about what it found in "
    "every module so that a person can follow the reasoning without opening the files"
)
MINIMAL_APP = """
from textual.app import App
from textual.widgets import TextArea

class Minimal(App):
    def compose(self):
        yield TextArea(placeholder="Message (Enter sends, ctrl+j new line), or /help")

Minimal().run()
"""


def answer_text(tokens: int) -> str:
    """A lowercase Markdown answer of exactly `tokens` * 4 characters: paragraphs and lists."""
    words, parts, size, index = PROSE.split(), [], 0, 0
    while size < tokens * 4:
        word = words[index % len(words)]
        index += 1
        if index % 240 == 0:
            word = "\n\n- " + word  # a list item now and then
        elif index % 60 == 0:
            word = "\n\n" + word
        parts.append(word)
        size += len(word) + 1
    body = " ".join(parts)[: tokens * 4 - len(END) - 1].rstrip()
    return body.ljust(tokens * 4 - len(END) - 1) + " " + END


# -- the fake server, in its own process ---------------------------------------------------


def serve(tokens: int) -> None:
    """Serve the fake Ollama, answering every chat with the long answer, until stdin closes."""
    # only here: tests/gemloom would otherwise shadow the gemloom package as a namespace
    sys.path.insert(0, str(TESTS))
    from fake_ollama import FakeOllama, Turn

    server = FakeOllama().start()
    server.default = Turn(answer_text(tokens), chunk_chars=4, delay=0.02)
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


def start_server(tokens: int) -> tuple[subprocess.Popen, str]:
    """Start `serve` in a child process; return it and its URL."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--tokens", str(tokens)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return server, server.stdout.readline().strip()


# -- start-up in tmux ------------------------------------------------------------------------


def tmux(*args: str) -> str:
    """Run tmux on this benchmark's own server socket."""
    done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True)
    return done.stdout


Clock = tuple[float, float]  # wall seconds, CPU seconds (user + system)


def time_to_screen(command: str, cwd: Path, texts: list[str]) -> list[Clock]:
    """Seconds from starting `command` in a fresh tmux window until each text is on screen."""
    return watch_screen(command, cwd, {text: (text,) for text in texts}, type_at=None)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live descendants."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(tree_cpu(child) for child in children)


def watch_screen(
    command: str, cwd: Path, marks: dict[str, tuple[str, ...]], type_at: str | None
) -> list[Clock]:
    """Wall and CPU seconds until each mark (any of its texts) is first on screen.

    TYPED and Enter are typed when `type_at` shows. CPU is the pane's process tree's, read
    from /proc when the mark is seen.
    """
    name = f"run{time.monotonic_ns()}"
    start = time.perf_counter()
    tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", "-c", str(cwd), command)
    pid = int(tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())
    seen: dict[str, Clock] = {}
    try:
        while len(seen) < len(marks):
            screen = tmux("capture-pane", "-p", "-t", name)
            if time.perf_counter() - start > 60:
                missing = [m for m in marks if m not in seen]
                raise RuntimeError(f"{missing} never appeared:\n{screen}")
            now = time.perf_counter() - start
            for mark, texts in marks.items():
                if mark not in seen and any(t in screen for t in texts):
                    seen[mark] = (now, tree_cpu(pid))
                    if mark == type_at:
                        tmux("send-keys", "-t", name, "-l", TYPED)
                        tmux("send-keys", "-t", name, "Enter")
            time.sleep(0.01)
    finally:
        tmux("kill-session", "-t", name)
    return [seen[mark] for mark in marks]


def gemloom_startup(command: str, cwd: Path) -> list[Clock]:
    """Prompt shown, typed message taken, model probed, answer begun (seconds from launch)."""
    marks = {"prompt": (PLACEHOLDER,), "taken": TAKEN, "ready": (READY,), "answer": (ANSWER,)}
    return watch_screen(command, cwd, marks, type_at="prompt")


def wall(argv: list[str]) -> Clock:
    """Wall and CPU time of a subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


STAGES = ("prompt", "taken", "ready", "answer")


def startup(
    env: dict[str, str], cwd: Path, runs: int, against: str | None
) -> dict[str, list[Clock]]:
    """Interleaved runs of the start-ups (after one uncounted warm-up of each)."""
    prefix = "env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    python = shlex.quote(sys.executable)
    gemlooms = {"": f"{prefix} {python} -m gemloom chat"}
    if against:
        gemlooms["before "] = f"{prefix} {shlex.quote(against)} -m gemloom chat"
    minimal = f"{prefix} {python} -c {shlex.quote(MINIMAL_APP)}"
    tmux("new-session", "-d", "-s", "keep", "sleep 100000")  # the tmux server stays up
    times: dict[str, list[Clock]] = {"python": [], "import": [], "minimal": []}
    for label in gemlooms:
        times.update({label + stage: [] for stage in STAGES})
    for run in range(runs + 1):
        figures = {
            "python": wall([sys.executable, "-c", "pass"]),
            "import": wall([sys.executable, "-c", "import textual"]),
            "minimal": time_to_screen(minimal, cwd, [PLACEHOLDER])[0],
        }
        for label, command in gemlooms.items():
            stages = gemloom_startup(command, cwd)
            figures.update({label + stage: t for stage, t in zip(STAGES, stages, strict=True)})
        if run:
            for key, value in figures.items():
                times[key].append(value)
    tmux("kill-server")
    return times


# -- key-press-to-screen latency ---------------------------------------------------------------


class Frames:
    """Renders every frame the app produces, as a terminal driver would, and spots a key's echo."""

    def __init__(self, app: Any, prompt: Any):
        self.app, self.prompt = app, prompt
        self.original = app._display
        self.wanted = ""
        self.shown: asyncio.Future[float] | None = None
        app._display = self.display

    def display(self, screen: Any, renderable: Any) -> None:
        """Render the frame to terminal text; resolve the pending probe when it shows the key."""
        self.original(screen, renderable)
        if renderable is None or self.app._batch_count:
            return
        text = renderable.render_segments(self.app.console)
        pending = self.shown is not None and not self.shown.done()
        if pending and self.prompt.value == self.wanted and self.wanted in text:
            self.shown.set_result(time.perf_counter())

    def press_enter(self) -> None:
        """Submit the prompt with an enter key from the driver, as a terminal would."""
        from textual import events

        event = events.Key("enter", "\r")
        event.set_sender(self.app)
        self.app._driver.send_message(event)

    async def press(self, key: str) -> float | None:
        """Seconds from a key event entering the app to a frame showing it (None: 5 s timeout)."""
        from textual import events

        self.prompt.value = ""
        await asyncio.sleep(0.05)  # let the cleared Input be painted first
        self.wanted, self.shown = key, asyncio.get_running_loop().create_future()
        event = events.Key(key, key)
        event.set_sender(self.app)
        start = time.perf_counter()
        self.app._driver.send_message(event)
        try:
            return await asyncio.wait_for(self.shown, 5) - start
        except TimeoutError:
            return None


async def sample(
    frames: Frames, interval: float, more: Callable[[list], bool]
) -> list[float | None]:
    """Press a key every `interval` seconds while `more(samples so far)` holds."""
    samples: list[float | None] = []
    while more(samples):
        tick = time.perf_counter()
        samples.append(await frames.press(KEYS[len(samples) % len(KEYS)]))
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))
    return samples


def make_app(workspace: Path) -> Any:
    """The app as the pilot tests wire it (settings from the environment)."""
    from gemloom.agents.sessions import Sessions
    from gemloom.settings import load_settings
    from gemloom.workflows.tui.app import GemloomApp
    from gemloom.workflows.tui.stopping import StoppableLLM

    settings = load_settings()

    def factory() -> Sessions:
        return Sessions(settings, llm=StoppableLLM(settings, retries=0), workspace=workspace)

    return GemloomApp(settings, workspace, sessions_factory=factory)


async def wait_for(predicate: Callable[[], object], timeout: float) -> None:
    """Let the app run until `predicate()` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not get there in time")
        await asyncio.sleep(0.02)


async def latency(workspace: Path, idle_samples: int, interval: float, tokens: int) -> dict:
    """Key latency idle, then while the long answer streams; and what reached the screen."""
    from gemloom.workflows.tui.chat import AssistantMessage

    app = make_app(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: app.model_ok, 30)
        frames = Frames(app, app.query_one("#prompt"))
        idle_clock = clocks()
        idle = await sample(frames, interval, lambda got: len(got) < idle_samples)
        idle_clock = clocks(idle_clock)
        frames.prompt.value = "tell me everything"
        stream_clock = clocks()
        start = time.perf_counter()
        frames.press_enter()
        await wait_for(lambda: not frames.prompt.value, 5)  # submitted
        limit = start + tokens / 50 * 3 + 30  # never sample forever if the answer stalls

        def streaming_on(_: list) -> bool:
            return time.perf_counter() < limit and (app.busy or not app.query(AssistantMessage))

        streaming = await sample(frames, interval, streaming_on)
        streamed = time.perf_counter() - start
        stream_clock = clocks(stream_clock)
        await wait_for(lambda: not app.busy and not app.workers._workers, 30)
        await pilot.pause()
        answer = app.query_one(AssistantMessage)
        parts = _parts(answer)
        widgets = len(list(app.screen.walk_children()))
        frame = app.screen._compositor.render_update(full=True).render_segments(app.console)
        on_screen = END in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", frame)
    return {
        "idle": idle,
        "streaming": streaming,
        "seconds": streamed,
        "text": len(answer.text),
        "parts": len(parts),
        "source": sum(len(p.source) for p in parts),
        "widgets": widgets,
        "on_screen": on_screen,
        "clocks": {"idle": idle_clock, "streaming": stream_clock},
    }


def clocks(since: dict[str, float] | None = None) -> dict[str, float]:
    """Wall, process CPU and UI-thread CPU seconds (since `since`, when given)."""
    now = {"wall": time.perf_counter(), "cpu": time.process_time(), "ui": time.thread_time()}
    return {k: v - since[k] for k, v in now.items()} if since else now


def latency_child(python: str, args: argparse.Namespace) -> dict:
    """`latency` run by `python` (ours or another checkout's) in a child process."""
    argv = [python, __file__, "--latency-only", "--tokens", str(args.tokens)]
    argv += ["--interval", str(args.interval), "--idle-samples", str(args.idle_samples)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"latency run of {python} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report ------------------------------------------------------------------------------------


def row(name: str, ours: float, base: float | None = None, unit: str = "ms") -> str:
    """One line: figure, baseline and ratio."""
    line = f"  {name:<34} {ours * 1000:9.1f} {unit}"
    if base:
        line += f"   baseline {base * 1000:9.1f} {unit}   ratio {ours / base:6.2f}x"
    return line


def clock_row(name: str, ours: Clock, base: Clock | None = None) -> str:
    """One line: wall and CPU time, each beside its baseline and the ratio."""
    line = f"  {name:<34} wall {ours[0] * 1000:7.1f} ms"
    if base:
        line += f" ({ours[0] / base[0]:5.2f}x)"
    line += f"   CPU {ours[1] * 1000:7.1f} ms"
    if base:
        line += f" ({ours[1] / base[1]:5.2f}x)" if base[1] else ""
        line += f"   baseline wall {base[0] * 1000:7.1f}, CPU {base[1] * 1000:7.1f} ms"
    return line


def quantiles(samples: list[float | None]) -> tuple[float, float, float, int]:
    """p50, p95, max of the samples that arrived, and how many timed out."""
    got = sorted(s for s in samples if s is not None)
    if not got:
        return float("nan"), float("nan"), float("nan"), len(samples)
    p95 = got[min(len(got) - 1, round(0.95 * (len(got) - 1)))]
    return statistics.median(got), p95, got[-1], len(samples) - len(got)


WHAT = {
    "prompt": "prompt shown",
    "taken": f"'{TYPED}' taken",
    "ready": "model probed (ready)",
    "answer": "answer begins",
}


def report_startup(times: dict[str, list[Clock]], runs: int) -> None:
    """Print the start-up figures: wall and CPU medians, each beside its floor."""
    med = {
        k: (statistics.median(t for t, _ in v), statistics.median(c for _, c in v))
        for k, v in times.items()
    }
    print(f"Start-up, median of {runs} runs (tmux 100x30; '{TYPED}' + Enter typed at the prompt)")
    print("  (ratios in brackets: against the line's baseline; CPU = the process tree's user+sys)")
    print(clock_row('python -c "pass" (interpreter only)', med["python"]))
    print(clock_row('python -c "import textual"', med["import"], med["python"]))
    print(clock_row("minimal Textual app (one TextArea)", med["minimal"], med["import"]))
    for stage in STAGES:
        print(clock_row(f"gemloom chat: {WHAT[stage]}", med[stage], med["minimal"]))
    if "before prompt" in med:
        for stage in STAGES:
            print(clock_row(f"before: {WHAT[stage]}", med["before " + stage], med["minimal"]))
            print(clock_row(f"  after / before: {WHAT[stage]}", med[stage], med["before " + stage]))
    for label in ("", "before ") if "before prompt" in med else ("",):
        verdict = "met" if med[label + "prompt"][0] < 1.5 else "MISSED"
        runs_text = ", ".join(f"{t:.2f}" for t, _ in times[label + "prompt"])
        floor = ", ".join(f"{t:.2f}" for t, _ in times["minimal"])
        name = label or "after "
        print(
            f"  goal ({name.strip()}): ready to type under 1.5 s -> {verdict} ({runs_text} s; "
            f"the one-widget floor: {floor} s)"
        )


def report_latency(result: dict, tokens: int, interval: float, label: str = "") -> None:
    """Print the latency figures and whether the whole answer arrived."""
    idle, streaming = quantiles(result["idle"]), quantiles(result["streaming"])
    print(
        f"{label}Key-press-to-screen latency, one key every {interval} s "
        f"({len(result['streaming'])} while streaming, {len(result['idle'])} idle)"
    )
    for index, name in enumerate(("p50", "p95", "max")):
        print(row(f"while streaming: {name}", streaming[index], idle[index]))
    quarter = max(1, len(result["streaming"]) // 4)
    parts = [
        quantiles(result["streaming"][i : i + quarter])[0] for i in range(0, 4 * quarter, quarter)
    ]
    print("  p50 by quarter of the stream: " + ", ".join(f"{p * 1000:.1f}" for p in parts) + " ms")
    print(f"  timeouts (over 5 s): streaming {streaming[3]}, idle {idle[3]}")
    verdict = "met" if streaming[1] < 0.05 else "MISSED"
    print(f"  goal: under 50 ms while streaming (p95) -> {verdict}")
    if "clocks" in result:  # older checkouts' runs (with --against) do not time CPU
        report_cpu(result["clocks"])
    want = len(answer_text(tokens))
    print(
        f"Streamed {tokens:,} tokens in {result['seconds']:.1f} s "
        f"(nominal {tokens / 50:.0f} s at 50 tokens/s)"
    )
    print(
        f"  AssistantMessage text {result['text']:,} / {want:,} characters; "
        f"Markdown source {result['source']:,} in {result['parts']} part(s), "
        f"{result['widgets']} widgets on screen; last word on screen: {result['on_screen']}"
    )


def report_cpu(clock: dict[str, dict[str, float]]) -> None:
    """CPU per wall second of the app process and of its UI thread, streaming beside idle."""
    idle, busy = clock["idle"], clock["streaming"]
    for key, name in (("cpu", "app process"), ("ui", "UI thread")):
        ours, base = busy[key] / busy["wall"], idle[key] / idle["wall"]
        print(
            f"  CPU, {name:<11} {busy[key]:6.2f} s in {busy['wall']:.1f} s streaming "
            f"({ours:.0%} of a core)   idle {base:.0%} of a core   ratio {ours / base:5.2f}x"
        )


def _parts(answer: Any) -> list[Any]:
    """The widgets that hold the answer's Markdown (one, or fixed parts and a live one)."""
    return [answer] if hasattr(answer, "source") else list(answer.children)


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg()) + f" (on {os.cpu_count()} cores)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="start-up runs (median)")
    parser.add_argument("--tokens", type=int, default=5000, help="length of the streamed answer")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between key presses")
    parser.add_argument("--idle-samples", type=int, default=40, help="key presses with no stream")
    parser.add_argument("--against", help="python of another checkout to compare with")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--latency-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.tokens)
    if args.latency_only:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "ws").mkdir()
            os.environ["GEMLOOM_HOME"] = str(Path(tmp) / "home")
            work = latency(Path(tmp) / "ws", args.idle_samples, args.interval, args.tokens)
            print(json.dumps(asyncio.run(work)))
        return None
    print(f"load at start: {load()}")
    server, url = start_server(args.tokens)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "ws").mkdir()
        env = {
            "OLLAMA_HOST": url,
            "GEMLOOM_HOME": str(root / "home"),
            "GEMLOOM_CONFIG": str(root / "config.toml"),
            "TERM": "xterm-256color",
        }
        os.environ.update(env)
        times = startup(env, root / "ws", args.runs, args.against)
        result = latency_child(sys.executable, args)
        before = latency_child(args.against, args) if args.against else None
    server.communicate("")
    report_startup(times, args.runs)
    report_latency(result, args.tokens, args.interval)
    if before is not None:
        report_latency(before, args.tokens, args.interval, label="before: ")
        after_p95, before_p95 = quantiles(result["streaming"])[1], quantiles(before["streaming"])[1]
        print(row("after / before: p95 while streaming", after_p95, before_p95))
    print(f"load at end: {load()}")


if __name__ == "__main__":
    main()
