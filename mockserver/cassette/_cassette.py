"""A cassette in use: its interactions, its record mode, what has been played.

| mode           | file missing                 | file there                                    |
|----------------|------------------------------|-----------------------------------------------|
| ``none``       | every request fails          | replays; an unmatched request fails           |
| ``once``       | records everything           | replays; an unmatched request fails           |
| ``new_episodes`` | records everything         | replays matches, records and appends the rest |
| ``all``        | records everything           | never replays; re-records, overwriting        |

As in vcrpy, each recorded interaction plays once (``allow_playback_repeats=True`` lets one
play again), and identical requests get their answers in recorded order.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from hookwire.mockserver.cassette._format import (
    Interaction,
    RecordedRequest,
    read_file,
    write_file,
)
from hookwire.mockserver.cassette._match import (
    DEFAULT_IGNORE_FIELDS,
    DEFAULT_MATCH_ON,
    MatchRule,
    check_rules,
    differences,
)
from hookwire.mockserver.cassette._scrub import Scrubber

RECORD_MODES = ("none", "once", "new_episodes", "all")
_WEIGHT = {"method": 3, "path": 3, "host": 1, "port": 1, "scheme": 1, "query": 2, "body": 2}


def _describe(request: RecordedRequest) -> str:
    split = urlsplit(request.uri)
    where = f"{split.scheme}://{split.netloc}{split.path}" if split.scheme else request.uri
    return f"{request.method} {where}" + (f"?{split.query}" if split.query else "")


class CassetteMismatch(LookupError):
    """No recorded interaction answers ``request``, and the mode does not allow recording.

    ``closest`` is the recorded interaction most like it (or None), ``differences`` how the two
    differ, one sentence per rule that failed.
    """

    def __init__(
        self,
        message: str,
        *,
        request: RecordedRequest,
        closest: Interaction | None = None,
        differences: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.closest = closest
        self.differences = list(differences)

    def __str__(self) -> str:
        return self.message


class Cassette:
    """Recorded interactions bound to a file (or to none: ``path=None`` keeps them in memory).

    ``match_on`` names the rules (:mod:`._match`), ``ignore_fields`` the JSON body fields they
    leave out, ``scrubber`` what never reaches the file. ``record_timing`` keeps each streamed
    chunk's time offset. The file is written after every recorded interaction, atomically.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        mode: str = "once",
        match_on: Sequence[MatchRule] = DEFAULT_MATCH_ON,
        ignore_fields: Sequence[str] = DEFAULT_IGNORE_FIELDS,
        scrubber: Scrubber | None = None,
        allow_playback_repeats: bool = False,
        record_timing: bool = False,
        interactions: Sequence[Interaction] | None = None,
    ) -> None:
        if mode not in RECORD_MODES:
            raise ValueError(f"record mode must be one of {', '.join(RECORD_MODES)}, not {mode!r}")
        if isinstance(ignore_fields, str):
            raise ValueError(f"ignore_fields takes a list of names, not {ignore_fields!r}")
        self.path = Path(path) if path is not None else None
        self.mode = mode
        self.match_on = check_rules(match_on)
        self.ignore_fields = tuple(ignore_fields)
        self.scrubber = scrubber if scrubber is not None else Scrubber()
        self.allow_playback_repeats = allow_playback_repeats
        self.record_timing = record_timing
        self._lock = threading.Lock()
        if interactions is not None:
            self.loaded = True
            old = list(interactions)
        else:
            self.loaded = self.path is not None and self.path.exists()
            old = read_file(self.path) if self.loaded and self.path is not None else []
        self.interactions: list[Interaction] = [] if mode == "all" else old
        self._played = [False] * len(self.interactions)
        self.play_count = 0
        self.dirty = False

    def __repr__(self) -> str:
        return (
            f"<Cassette {str(self.path) if self.path else '(memory)'} mode={self.mode} "
            f"interactions={len(self.interactions)} played={self.play_count}>"
        )

    @property
    def can_replay(self) -> bool:
        return self.mode != "all"

    @property
    def can_record(self) -> bool:
        return self.mode in ("all", "new_episodes") or (self.mode == "once" and not self.loaded)

    @property
    def all_played(self) -> bool:
        return all(self._played)

    # -- replaying ------------------------------------------------------------------------
    def _find(self, live: RecordedRequest) -> int | None:
        repeat = None
        for i, item in enumerate(self.interactions):
            if differences(self.match_on, item.request, live, self.ignore_fields):
                continue
            if not self._played[i]:
                return i
            repeat = i if self.allow_playback_repeats else repeat
        return repeat

    def lookup(self, request: RecordedRequest) -> Interaction | None:
        """The recorded interaction that answers ``request`` (marked played); None when it is
        to be recorded; ``CassetteMismatch`` when neither."""
        live = self.scrubber.request(request)
        with self._lock:
            if self.can_replay:
                index = self._find(live)
                if index is not None:
                    self._played[index] = True
                    self.play_count += 1
                    return self.interactions[index]
            if self.can_record:
                return None
            raise self._mismatch(live)

    def _mismatch(self, live: RecordedRequest) -> CassetteMismatch:
        name = str(self.path) if self.path else "the in-memory cassette"
        head = f"no recorded interaction matches {_describe(live)} in {name} (mode {self.mode!r}"
        head += f", matching on {', '.join(map(_rule_name, self.match_on))})"
        if not self.interactions:
            why = "it has no interactions"
            if self.path is not None and not self.path.exists():
                why = "the file does not exist"
            hint = " (record it with mode 'once')" if self.mode == "none" else ""
            return CassetteMismatch(f"{head}: {why}{hint}", request=live)
        best: tuple[int, int, list[str]] | None = None
        for i, item in enumerate(self.interactions):
            diffs = differences(self.match_on, item.request, live, self.ignore_fields)
            failed = {d.split(":", 1)[0].split(".", 1)[0].split(" ", 1)[0] for d in diffs}
            score = -sum(_WEIGHT.get(name, 1) for name in failed)
            if not diffs:
                score = 1  # matches, but was played already
            if best is None or score > best[0]:
                best = (score, i, diffs)
        assert best is not None
        _, index, diffs = best
        closest = self.interactions[index]
        if diffs:
            how = "; ".join(diffs)
        else:
            how = "it matches but was already played (allow_playback_repeats=True replays it)"
        hint = ""
        if self.mode == "once":
            hint = " The file exists, so mode 'once' replays only: use 'new_episodes' to add."
        return CassetteMismatch(
            f"{head}. Closest: interaction #{index}, {_describe(closest.request)}: {how}.{hint}",
            request=live,
            closest=closest,
            differences=diffs,
        )

    # -- recording ------------------------------------------------------------------------
    def record(self, interaction: Interaction) -> Interaction:
        """Scrub ``interaction``, append it and write the file; returns what was stored."""
        clean = self.scrubber.interaction(interaction)
        if not self.record_timing:
            clean.response.offsets = None
        with self._lock:
            self.interactions.append(clean)
            self._played.append(True)  # recorded now: answered live, not replayed again
            self.dirty = True
            self._save_locked()
        return clean

    def save(self) -> None:
        with self._lock:
            self._save_locked()

    def _save_locked(self) -> None:
        if self.path is not None and self.dirty:
            write_file(self.path, self.interactions)
            self.dirty = False


def _rule_name(rule: MatchRule) -> str:
    if isinstance(rule, str):
        return rule
    if isinstance(rule, tuple):
        return f"header {rule[1]}"
    return getattr(rule, "__name__", "custom rule")


# -- the active cassette: what a client without a transport of its own records into -----------

_active: list[Cassette] = []
_active_lock = threading.Lock()


def active() -> Cassette | None:
    """The innermost cassette made active by :func:`use`, or None."""
    return _active[-1] if _active else None


@contextmanager
def use(cassette: Cassette) -> Iterator[Cassette]:
    """Make ``cassette`` the active one for the block (process-wide, so worker threads see it).

    hookwire's cassette transport plugin routes every client created without an explicit
    transport through the active cassette; the pytest marker uses this.
    """
    with _active_lock:
        _active.append(cassette)
    try:
        yield cassette
    finally:
        with _active_lock:
            for i in range(len(_active) - 1, -1, -1):
                if _active[i] is cassette:
                    del _active[i]
                    break
        cassette.save()
