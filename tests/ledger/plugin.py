"""The decline ledger as a pytest plugin.

Tests run a backend inside :func:`declines` (the ``compare`` fixture does): a
``BackendDeclined`` raised there is recorded for the running test and the test is skipped with
the backend's reason. At the end of the session the outcomes of the cases that ran are compared
with the committed ledger, one file per compiled backend (``<backend>.txt``: sorted lines
``node id :: reason``; ``--ledger-dir DIR`` reads and writes them in ``DIR``):

- a case declined now but not in the ledger fails the run (a backend declines more);
- a ledger entry whose case ran and was not declined fails the run too (coverage grew: the
  ledger must say so);
- a case declined with another reason than the ledger's is reported, not a failure.

Only cases that ran conclusively count (passed, declined, or failed as a strict xfail expects):
a case that failed, errored, was skipped for another reason or did not run (``-k``, one file,
``-x``) keeps its ledger entry unchanged. ``pytest --update-ledger`` rewrites the entries of the
cases that ran. Declines in generated (hypothesis) programs do not go through :func:`declines`
and are not part of the ledger: their inputs are random.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from litsdf_compiler.engine import BackendDeclined

#: backend -> node id -> reason
Ledger = dict[str, dict[str, str]]
#: (backend, node id) -> the reason it was declined, or None when it ran without declining
Outcomes = dict[tuple[str, str], "str | None"]

SEPARATOR = " :: "
OPTION = "--update-ledger"
DIR_OPTION = "--ledger-dir"
_HEX = re.compile(r"0x[0-9a-fA-F]{4,}")
_SHOWN = 40  # cases listed per kind in the terminal summary


def normalize_reason(why: BaseException | str) -> str:
    """The ledger form of a decline reason: one line, no object addresses.

    Parameters
    ----------
    why : BaseException or str
        The ``BackendDeclined`` (or its text).

    Returns
    -------
    str
        The text with whitespace runs (newlines included) collapsed to one space and
        hexadecimal addresses replaced by ``0x?``, so that a ledger line is stable across runs.
    """
    text = " ".join(str(why).split())
    return _HEX.sub("0x?", text) or type(why).__name__


def parse_ledger_file(path: Path) -> dict[str, str]:
    """Read one backend's ledger file.

    Parameters
    ----------
    path : Path
        A ``<backend>.txt`` file: ``#`` comment lines, blank lines, and lines
        ``node id :: reason``.

    Returns
    -------
    dict of str to str
        node id -> reason; empty when the file does not exist.

    Raises
    ------
    ValueError
        A line without the `` :: `` separator or a node id listed twice (names file and line).
    """
    entries: dict[str, str] = {}
    if not path.exists():
        return entries
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        node, sep, reason = line.partition(SEPARATOR)
        if not sep or not node.strip():
            raise ValueError(
                f"{path}:{number}: expected a line 'node id{SEPARATOR}reason', got {line!r}"
            )
        if node in entries:
            raise ValueError(f"{path}:{number}: node id {node!r} is listed twice")
        entries[node] = reason
    return entries


def read_ledger(directory: Path, backends: Iterable[str]) -> Ledger:
    """Read the ledger files of ``backends`` under ``directory`` (a missing file is empty)."""
    return {b: parse_ledger_file(directory / f"{b}.txt") for b in backends}


def format_ledger_file(backend: str, entries: Mapping[str, str]) -> str:
    """The text of ``<backend>.txt``: a summary header, then the sorted entries."""
    lines = [
        f"# Decline ledger of the {backend} backend: {len(entries)} cases declined.",
        f"# Written by `pytest {OPTION}`; one line per case: `node id{SEPARATOR}reason`.",
    ]
    lines += [f"{node}{SEPARATOR}{entries[node]}" for node in sorted(entries)]
    return "\n".join(lines) + "\n"


def write_ledger(directory: Path, ledger: Ledger) -> list[Path]:
    """Write one file per backend of ``ledger``; return the files whose text changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for backend, entries in sorted(ledger.items()):
        path = directory / f"{backend}.txt"
        text = format_ledger_file(backend, entries)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


@dataclass(frozen=True)
class LedgerDiff:
    """How the outcomes of the cases that ran differ from the ledger.

    Each item is ``(backend, node id, reason)``; ``changed`` items are
    ``(backend, node id, ledger reason, reason now)``.
    """

    new: list[tuple[str, str, str]]
    vanished: list[tuple[str, str, str]]
    changed: list[tuple[str, str, str, str]]

    @property
    def failed(self) -> bool:
        """A new decline or a vanished one: the ledger no longer describes the backends."""
        return bool(self.new or self.vanished)


def diff_ledger(
    ledger: Mapping[str, Mapping[str, str]], outcomes: Mapping[tuple[str, str], str | None]
) -> LedgerDiff:
    """Compare the outcomes of the cases that ran with the ledger.

    Parameters
    ----------
    ledger : Ledger
        backend -> node id -> reason, as committed.
    outcomes : Outcomes
        (backend, node id) -> reason declined now, or None: only cases that ran.

    Returns
    -------
    LedgerDiff
        New declines, ledger entries whose case ran without declining, and reason changes;
        ledger entries of cases not in ``outcomes`` are not looked at.
    """
    new, vanished, changed = [], [], []
    for (backend, node), reason in sorted(outcomes.items()):
        old = ledger.get(backend, {}).get(node)
        if reason is not None and old is None:
            new.append((backend, node, reason))
        elif reason is None and old is not None:
            vanished.append((backend, node, old))
        elif reason is not None and old is not None and reason != old:
            changed.append((backend, node, old, reason))
    return LedgerDiff(new, vanished, changed)


def updated_ledger(
    ledger: Mapping[str, Mapping[str, str]], outcomes: Mapping[tuple[str, str], str | None]
) -> Ledger:
    """``ledger`` with the entries of the cases in ``outcomes`` replaced by what they did now
    (others kept)."""
    result = {backend: dict(entries) for backend, entries in ledger.items()}
    for (backend, node), reason in outcomes.items():
        entries = result.setdefault(backend, {})
        if reason is None:
            entries.pop(node, None)
        else:
            entries[node] = reason
    return result


def failure_lines(diff: LedgerDiff, directory: Path, command: str) -> list[str]:
    """The terminal report of a diff: the cases, and the command that accepts them."""

    def capped(out: list[str]) -> list[str]:
        return out if len(out) <= _SHOWN else [*out[:_SHOWN], f"  ... and {len(out) - _SHOWN} more"]

    def listed(items: list[tuple[str, str, str]]) -> list[str]:
        return capped(
            [f"  {backend}: {node}{SEPARATOR}{reason}" for backend, node, reason in items]
        )

    lines = []
    if diff.new:
        lines.append(
            f"decline ledger: {len(diff.new)} case(s) newly declined (not in {directory}):"
        )
        lines += listed(diff.new)
    if diff.vanished:
        lines.append(
            f"decline ledger: {len(diff.vanished)} case(s) in {directory} no longer declined "
            "(coverage grew):"
        )
        lines += listed(diff.vanished)
    if diff.changed:
        lines.append(f"decline ledger: {len(diff.changed)} case(s) declined with a new reason:")
        lines += capped(
            [
                f"  {backend}: {node}{SEPARATOR}{old}  ->  {now}"
                for backend, node, old, now in diff.changed
            ]
        )
    if diff.failed:
        lines.append(f"decline ledger: if this is intended, record it with: {command}")
    elif diff.changed:
        lines.append(f"decline ledger: (not a failure) to record the new reasons: {command}")
    return lines


class DeclineLedger:
    """The pytest plugin: records declines, compares with (or rewrites) the ledger at the end.

    Parameters
    ----------
    config : pytest.Config
        The session's config (reads ``--update-ledger`` and the invocation arguments).
    directory : Path
        Where the ``<backend>.txt`` files live.
    backends : iterable of str
        The compiled backends that have a ledger file (the reference backend never declines).
    """

    def __init__(self, config: pytest.Config, directory: Path, backends: Iterable[str]) -> None:
        self.config = config
        self.directory = directory
        self.backends = list(backends)
        self.update = bool(config.getoption(OPTION))
        self.outcomes: Outcomes = {}
        self.diff: LedgerDiff | None = None
        self.written: list[Path] = []
        self._node: str | None = None
        self._tracked: dict[str, dict[str, list[str]]] = {}  # node -> backend -> reasons
        self._islands: dict[str, dict[str, bool]] = {}  # node -> backend -> used pandas
        self.islands: dict[tuple[str, str], bool] = {}
        """(backend, node id) -> whether a case the backend ran used pandas islands."""

    @contextlib.contextmanager
    def declines(self, backend: str) -> Iterator[None]:
        """Run ``backend`` for the current test: a decline is recorded, then skips the test."""
        if backend not in self.backends:
            raise ValueError(
                f"declines(): backend {backend!r} has no decline ledger; "
                f"expected one of {self.backends}"
            )
        if self._node is None:
            raise RuntimeError("declines() used outside a running test")
        reasons = self._tracked.setdefault(self._node, {}).setdefault(backend, [])
        try:
            yield
        except BackendDeclined as why:
            reason = normalize_reason(why)
            if reason not in reasons:
                reasons.append(reason)
            pytest.skip(f"{backend} declined: {why}")

    def note_islands(self, backend: str, used: bool) -> None:
        """Record whether the current test's run on ``backend`` used pandas islands."""
        if self._node is not None:
            seen = self._islands.setdefault(self._node, {})
            seen[backend] = seen.get(backend, False) or used

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self._node = nodeid

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self._node = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        islands = self._islands.pop(report.nodeid, {})
        for backend, reasons in self._tracked.pop(report.nodeid, {}).items():
            if report.failed:
                continue  # inconclusive: pytest reports the failure
            if reasons:
                self.outcomes[(backend, report.nodeid)] = " | ".join(reasons)
            elif report.passed or hasattr(report, "wasxfail"):
                self.outcomes[(backend, report.nodeid)] = None
                if backend in islands:
                    self.islands[(backend, report.nodeid)] = islands[backend]
            # skipped for another reason: inconclusive

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        ledger = read_ledger(self.directory, self.backends)
        self.diff = diff_ledger(ledger, self.outcomes)
        if self.update:
            self.written = write_ledger(self.directory, updated_ledger(ledger, self.outcomes))
        elif self.diff.failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.outcomes and not self.written:
            return
        tr = terminalreporter
        tr.section("decline ledger")
        for backend in self.backends:
            ran = [r for (b, _), r in self.outcomes.items() if b == backend]
            if ran:
                declined = sum(r is not None for r in ran)
                used = sum(u for (b, _), u in self.islands.items() if b == backend)
                tr.write_line(
                    f"{backend}: {len(ran)} cases run, {declined} declined "
                    f"({100 * declined / len(ran):.0f}%); of the {len(ran) - declined} it ran, "
                    f"{used} used pandas islands (PandasCall or pandas' kernels on its arrays)"
                )
        if self.update:
            for path in self.written:
                tr.write_line(f"decline ledger: wrote {path}")
            if not self.written:
                tr.write_line("decline ledger: up to date")
            return
        assert self.diff is not None
        args = shlex.join(self.config.invocation_params.args)
        command = f"pytest {OPTION} {args}".rstrip()
        shown = self.directory
        with contextlib.suppress(ValueError):
            shown = self.directory.relative_to(self.config.rootpath)
        for line in failure_lines(self.diff, shown, command):
            tr.write_line(line, red=self.diff.failed)


_PLUGIN = "decline-ledger"


def add_option(parser: pytest.Parser) -> None:
    """Add ``--update-ledger`` and ``--ledger-dir`` (call from ``pytest_addoption``)."""
    parser.addoption(
        OPTION,
        action="store_true",
        default=False,
        help="rewrite the decline ledger entries of the cases that ran (tests/ledger/)",
    )
    parser.addoption(
        DIR_OPTION,
        default=None,
        metavar="DIR",
        help="read and write the decline ledger files in DIR instead of tests/ledger/ (e.g. "
        "for a backend outside the source tree, which has no committed ledger)",
    )


def install(config: pytest.Config, directory: Path, backends: Iterable[str]) -> None:
    """Register the ledger plugin (call from ``pytest_configure``); ``--ledger-dir`` replaces
    ``directory``."""
    chosen = config.getoption(DIR_OPTION)
    if chosen is not None:
        directory = Path(chosen)
    if not config.pluginmanager.has_plugin(_PLUGIN):
        config.pluginmanager.register(DeclineLedger(config, directory, backends), _PLUGIN)


@contextlib.contextmanager
def declines(config: pytest.Config, backend: str) -> Iterator[None]:
    """Run ``backend`` for the current test: a ``BackendDeclined`` raised inside is recorded in
    the ledger of ``backend`` and skips the test with the backend's reason.

    Parameters
    ----------
    config : pytest.Config
        The session's config (``request.config``, ``pytestconfig``).
    backend : str
        The compiled backend the block runs.
    """
    plugin = config.pluginmanager.get_plugin(_PLUGIN)
    if not isinstance(plugin, DeclineLedger):
        raise RuntimeError("the decline ledger plugin is not installed (tests.ledger.install)")
    with plugin.declines(backend):
        yield


def islands(config: pytest.Config, backend: str, used: bool) -> None:
    """Record whether the current test's run on ``backend`` used pandas islands (part of
    the work done by pandas' kernels): reported next to the declines."""
    plugin = config.pluginmanager.get_plugin(_PLUGIN)
    if isinstance(plugin, DeclineLedger):
        plugin.note_islands(backend, used)
