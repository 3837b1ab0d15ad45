"""What a build shows while it runs: each phase (load, find, read, index, render, write
or check, save) with its count, rate and time left.

On a terminal, rich draws one row per phase, redrawn in place and cleared at the end (the
summary that follows is the only thing left on the screen). Anywhere else (a CI log, a pipe),
a plain line every few seconds, and nothing at all for a build over sooner: the environment
variable FEEDSMITH_PROGRESS_INTERVAL sets the seconds between lines (default 5).
The stages only report counts (model.Progress); drawing happens on a thread of its own, so a
step that reports nothing for a while still shows its time going on.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as RichProgress
    from rich.progress import ProgressColumn, TaskID

INTERVAL_VARIABLE = "FEEDSMITH_PROGRESS_INTERVAL"
INTERVAL = 5.0  # seconds between plain lines
DELAY = 0.5  # a build over sooner draws nothing on a terminal either
REDRAW = 0.1  # seconds between redraws on a terminal
LABEL = 8  # the width of a phase's name

# What each stage counts, and what it says when it has no count: while the post files are
# found, during a step that has none, or when there is nothing to count (all in the cache).
STAGES: Mapping[str, tuple[str, str]] = {
    "load": ("", "reading the build cache…"),
    "find": ("", "finding the post files…"),
    "read": ("posts", "every post from the cache"),
    "index": ("", "laying out the feeds…"),
    "render": ("posts", "every post from the cache"),
    "write": ("files", "no file to write"),
    "check": ("files", "no file to compare"),
    "save": ("", "saving the cache…"),
}


def interval() -> float:
    """The seconds between plain progress lines: FEEDSMITH_PROGRESS_INTERVAL, else INTERVAL."""
    try:
        seconds = float(os.environ.get(INTERVAL_VARIABLE, ""))
    except ValueError:
        return INTERVAL
    return seconds if seconds > 0 else INTERVAL


@dataclass(frozen=True, slots=True)
class Phase:
    """One stage as last reported. `started`: when its count (or its step) began, for its
    rate; `ended`: when a later stage began, None while it runs."""

    stage: str
    done: int
    total: int
    started: float
    began: float  # when the stage was first reported (its count may start later)
    ended: float | None = None

    @property
    def unit(self) -> str:
        return STAGES.get(self.stage, ("", ""))[0]

    @property
    def note(self) -> str:
        return STAGES.get(self.stage, ("", self.stage))[1]


BRIEF = 0.1  # seconds: a step without a count that took less is not worth a row once over


def worth_a_row(phase: Phase) -> bool:
    """Whether a terminal shows `phase`: always, but for a step without a count over in an
    instant (reading an empty cache, laying out a small site)."""
    return phase.total > 0 or phase.ended is None or phase.ended - phase.began >= BRIEF


class Phases:
    """A Progress sink that keeps the phases reported so far, in the order they began; read
    from another thread by `snapshot`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._phases: dict[str, Phase] = {}
        self._current: str | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            known = self._phases.get(stage)
            if known is not None and known.total == total and stage == self._current:
                self._phases[stage] = replace(known, done=done)
                return
            now = self.clock()
            if self._current is not None and self._current != stage:
                self._phases[self._current] = replace(self._phases[self._current], ended=now)
            began = known.began if known is not None else now
            self._phases[stage] = Phase(stage, done, total, started=now, began=began)
            self._current = stage

    def snapshot(self) -> tuple[Phase, ...]:
        with self._lock:
            return tuple(self._phases.values())


def _seconds(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    return f"{whole // 60} min {whole % 60:02d} s"


def plain_line(phase: Phase, now: float) -> str:
    """`render 2,432/4,894 posts, 498/s, about 5 s left`: one phase as a line of text."""
    spent = max(now - phase.started, 1e-9)
    if phase.total <= 0:
        return f"{phase.stage}: {phase.note} ({_seconds(spent)})"
    line = f"{phase.stage} {phase.done:,}/{phase.total:,} {phase.unit}".rstrip()
    rate = phase.done / spent
    if 0 < phase.done < phase.total:
        line += f", {rate:,.0f}/s, about {_seconds((phase.total - phase.done) / rate)} left"
    return line


class _Ticker:
    """Calls `tick` every `every` seconds from a thread of its own, from `first` on."""

    def __init__(self, tick: Callable[[], None], *, first: float, every: float) -> None:
        self._tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(first, every), name="progress", daemon=True
        )

    def _run(self, first: float, every: float) -> None:
        if self._stop.wait(first):
            return
        while True:
            self._tick()
            if self._stop.wait(every):
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


class PlainLines:
    """Progress for a log: every `every` seconds, the phase running then, through `say`."""

    def __init__(self, phases: Phases, say: Callable[[str], None], every: float) -> None:
        self.phases = phases
        self.say = say
        self._ticker = _Ticker(self.tick, first=every, every=every)

    def tick(self) -> None:
        running = [phase for phase in self.phases.snapshot() if phase.ended is None]
        if running:
            self.say(plain_line(running[-1], self.phases.clock()))

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()


def _columns(clock: Callable[[], float]) -> tuple[ProgressColumn, ...]:
    from rich.progress import BarColumn, ProgressColumn, Task  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    class Label(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.fields['stage']:<{LABEL}}", style="bold")

    class Count(ProgressColumn):
        def render(self, task: Task) -> Text:
            phase: Phase = task.fields["phase"]
            if phase.total <= 0:
                return Text(phase.note)
            return Text(f"{phase.done:,}/{phase.total:,} {phase.unit}")

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            phase: Phase = task.fields["phase"]
            if phase.total <= 0:
                return Text("")
            if phase.ended is not None:
                speed: float | None = phase.done / max(phase.ended - phase.started, 1e-9)
            else:
                speed = task.speed
            return Text(f"{speed:,.0f}/s" if speed else "", style="cyan")

    class Time(ProgressColumn):
        def render(self, task: Task) -> Text:
            phase: Phase = task.fields["phase"]
            if phase.ended is not None:
                return Text(f"in {_seconds(phase.ended - phase.began)}", style="green")
            left = task.time_remaining if phase.total > 0 else None
            if left is not None:
                return Text(f"{_seconds(left)} left", style="yellow")
            return Text(_seconds(clock() - phase.began), style="dim")

    return (Label(), BarColumn(bar_width=24), Count(), Rate(), Time())


class TerminalRows:
    """Progress on a terminal: one row per phase, drawn by rich (its Live display erases and
    redraws every row, so no digit of a longer earlier line is ever left behind)."""

    def __init__(self, phases: Phases, console: Console) -> None:
        from rich.progress import Progress as RichProgress  # noqa: PLC0415 - terminals only

        self.phases = phases
        self.rich: RichProgress = RichProgress(
            *_columns(phases.clock),
            console=console,
            transient=True,
            auto_refresh=False,  # our thread redraws: one writer to the terminal
            redirect_stdout=False,
            redirect_stderr=False,
            get_time=phases.clock,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started = False
        self._lock = threading.Lock()
        self._ticker = _Ticker(self.draw, first=DELAY, every=REDRAW)

    def show(self, phases: Sequence[Phase]) -> None:
        """The rows for `phases`, drawn now."""
        for phase in phases:
            task = self._tasks.get(phase.stage)
            if not worth_a_row(phase):
                if task is not None:
                    self.rich.update(task, visible=False)
                continue
            if task is None:
                task = self.rich.add_task(phase.stage, total=None, stage=phase.stage, phase=phase)
                self._tasks[phase.stage] = task
            counted = phase.total > 0
            if phase.ended is not None:  # over: rich notes the time it took
                size = max(phase.total, phase.done, 1) if counted else 1
                self.rich.update(task, total=size, completed=size, phase=phase)
            else:
                self.rich.update(
                    task,
                    total=phase.total if counted else None,
                    completed=phase.done,
                    phase=phase,
                )
        if not self._started:
            self.rich.start()
            self._started = True
        self.rich.refresh()

    def draw(self) -> None:
        with self._lock:
            phases = self.phases.snapshot()
            if phases:
                self.show(phases)

    def say(self, text: str) -> None:
        """A message above the rows (they are drawn again below it)."""
        with self._lock:
            self.rich.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        """Stop drawing and clear every row."""
        self._ticker.stop()
        with self._lock:
            if self._started:
                self.rich.stop()
                self._started = False


@dataclass(frozen=True, slots=True)
class Shown:
    """What the command line hands a build: the Progress sink and a way to say a message."""

    progress: Callable[[str, int, int], None]
    say: Callable[[str], None]


def _console(stream: TextIO) -> Console | None:
    """A rich console on `stream` when it is a terminal that can redraw a line, else None."""
    if not stream.isatty() or os.environ.get("TERM") == "dumb":
        return None
    from rich.console import Console  # noqa: PLC0415 - rich loads only for a terminal

    return Console(file=stream, highlight=False)


@contextlib.contextmanager
def shown(stream: TextIO) -> Iterator[Shown]:
    """Progress on `stream` while the block runs (see the module's docstring); cleared after."""
    phases = Phases()
    console = _console(stream)

    def write(text: str) -> None:
        stream.write(f"{text}\n")
        stream.flush()

    display: TerminalRows | PlainLines
    if console is not None:
        display = TerminalRows(phases, console)
        emit = display.say
    else:
        display = PlainLines(phases, lambda line: write(f"feedsmith: {line}"), interval())
        emit = write
    display.start()
    try:
        yield Shown(phases, lambda text: emit(f"feedsmith: {text}"))
    finally:
        display.stop()


@contextlib.contextmanager
def logged(say: Callable[[str], None], every: float | None = None) -> Iterator[Phases]:
    """A Progress sink whose phase running is said, through `say`, every `every` seconds
    (default: `interval()`): for a server's log."""
    phases = Phases()
    lines = PlainLines(phases, say, every or interval())
    lines.start()
    try:
        yield phases
    finally:
        lines.stop()
