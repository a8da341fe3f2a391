"""A small pinyin input method, Qt-free: letters in, 汉字 candidates out.

The dictionary (``data/pinyin.tsv.gz``, built by ``tools/build_pinyin_dict.py`` from pypinyin's
readings, jieba's word frequencies and the hall's place names) maps a syllable sequence to its
words, most frequent first. Typing ``zhangsan`` is split into syllables (``zhang san``; the
last one may be unfinished, ``zhangs`` -> ``zhang s…``); the candidates are the words of the
whole sequence, then of shorter prefixes, then the characters of the first syllable. Picking a
candidate consumes the letters it covers and leaves the rest for the next pick, as in any phone
keyboard. An apostrophe separates ambiguous syllables (``xi'an``).
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

MAX_CANDIDATES = 240
MAX_INPUT = 36  # letters: the longest sensible phrase to type at once


@dataclass(frozen=True)
class Candidate:
    word: str
    consumed: int  # letters of the input (apostrophes included) the word stands for


class PinyinDictionary:
    """Syllable sequence (``"zhang san"``) -> words, most frequent first."""

    def __init__(self, table: dict[str, tuple[str, ...]]) -> None:
        self.table = table
        self.syllables = frozenset(k for k in table if " " not in k)
        self._prefixes: dict[str, tuple[str, ...]] = {}
        for s in sorted(self.syllables):
            for i in range(1, len(s) + 1):
                self._prefixes.setdefault(s[:i], ())
                self._prefixes[s[:i]] += (s,)
        self.longest = max(map(len, self.syllables), default=0)

    @classmethod
    def from_lines(cls, lines: list[str]) -> PinyinDictionary:
        table: dict[str, tuple[str, ...]] = {}
        for line in lines:
            key, _, words = line.rstrip("\n").partition("\t")
            if key and words:
                table[key] = tuple(words.split(" "))
        return cls(table)

    def completions(self, prefix: str) -> tuple[str, ...]:
        """The syllables that start with ``prefix`` (``"zh"`` -> zha, zhai, ...)."""
        return self._prefixes.get(prefix, ())

    # -- segmentation -----------------------------------------------------------------------

    def segment(self, letters: str) -> list[tuple[str, int]]:
        """Split into (piece, letters consumed incl. separators); the last piece may be an
        unfinished syllable. Fewest pieces win, then longer first pieces."""
        text = letters.lower()
        chunks = [c for c in text.split("'")]
        result: list[tuple[str, int]] = []
        for n, chunk in enumerate(chunks):
            pieces = self._segment_chunk(chunk, last=n == len(chunks) - 1)
            for i, piece in enumerate(pieces):
                extra = 1 if (i == len(pieces) - 1 and n < len(chunks) - 1) else 0
                result.append((piece, len(piece) + extra))
            if not pieces and n < len(chunks) - 1 and result:
                piece, used = result[-1]
                result[-1] = (piece, used + 1)
        return result

    def _segment_chunk(self, chunk: str, *, last: bool) -> list[str]:
        if not chunk:
            return []
        best = _best_split(chunk, self.syllables, frozenset(self._prefixes), self.longest)
        if best is None:  # letters that start no syllable: take them one by one
            return list(chunk)
        return list(best)

    # -- candidates -------------------------------------------------------------------------

    def candidates(self, letters: str) -> list[Candidate]:
        pieces = self.segment(letters[:MAX_INPUT])
        if not pieces:
            return []
        seen: set[str] = set()
        out: list[Candidate] = []
        for k in range(len(pieces), 0, -1):
            head = pieces[:k]
            consumed = sum(used for _, used in head)
            for key in self._keys([p for p, _ in head]):
                for word in self.table.get(key, ()):
                    if len(word) == k and word not in seen:
                        seen.add(word)
                        out.append(Candidate(word, consumed))
                        if len(out) >= MAX_CANDIDATES:
                            return out
        return out

    def _keys(self, pieces: list[str]) -> list[str]:
        """Keys for the pieces; an unfinished last piece expands to its syllables."""
        *done, last = pieces
        lasts = [last] if last in self.syllables else list(self.completions(last))[:24]
        if last in self.syllables:  # "zhan" is a syllable, but "zhang…" words come after
            lasts += [s for s in self.completions(last) if s != last][:12]
        return [" ".join([*done, s]) for s in lasts]


@lru_cache(maxsize=4096)
def _best_split(chunk: str, syllables: frozenset[str], prefixes: frozenset[str],
                longest: int) -> tuple[str, ...] | None:
    """Fewest pieces: full syllables, the last may be a prefix of one."""
    if chunk in syllables or chunk in prefixes:
        return (chunk,)
    best: tuple[str, ...] | None = None
    for i in range(min(longest, len(chunk) - 1), 0, -1):
        head = chunk[:i]
        if head not in syllables:
            continue
        rest = _best_split(chunk[i:], syllables, prefixes, longest)
        if rest is not None and (best is None or 1 + len(rest) < len(best)):
            best = (head, *rest)
    return best


_lock = threading.Lock()
_loaded: PinyinDictionary | None = None


def dictionary() -> PinyinDictionary:
    """The shipped dictionary, loaded once per process (~40 ms; call it off the GUI thread)."""
    global _loaded
    with _lock:
        if _loaded is None:
            data = resources.files(__package__).joinpath("data", "pinyin.tsv.gz").read_bytes()
            text = gzip.decompress(data).decode("utf-8")
            _loaded = PinyinDictionary.from_lines(text.splitlines())
        return _loaded


class PinyinComposer:
    """The state of one composition: letters typed, candidates shown a page at a time."""

    def __init__(self, source: PinyinDictionary, page_size: int = 8) -> None:
        self.source = source
        self.page_size = page_size
        self.letters = ""
        self.page = 0
        self._candidates: list[Candidate] = []

    def _refresh(self) -> None:
        self.page = 0
        self._candidates = self.source.candidates(self.letters) if self.letters else []

    def type(self, letter: str) -> None:
        if letter.isascii() and (letter.isalpha() or letter == "'") and \
                len(self.letters) < MAX_INPUT:
            self.letters += letter.lower()
            self._refresh()

    def backspace(self) -> bool:
        """Drop the last letter; False when there was none (the field's text is next)."""
        if not self.letters:
            return False
        self.letters = self.letters[:-1]
        self._refresh()
        return True

    def clear(self) -> None:
        self.letters = ""
        self._refresh()

    @property
    def candidates(self) -> list[Candidate]:
        return self._candidates

    @property
    def pages(self) -> int:
        return max(1, -(-len(self._candidates) // self.page_size))

    def visible(self) -> list[Candidate]:
        start = self.page * self.page_size
        return self._candidates[start:start + self.page_size]

    def next_page(self) -> None:
        if self.page + 1 < self.pages:
            self.page += 1

    def previous_page(self) -> None:
        if self.page > 0:
            self.page -= 1

    def pick(self, index: int) -> str:
        """Choose the ``index``-th visible candidate: its word, the rest stays composing."""
        shown = self.visible()
        if not 0 <= index < len(shown):
            return ""
        chosen = shown[index]
        self.letters = self.letters[chosen.consumed:].lstrip("'")
        self._refresh()
        return chosen.word

    def display(self) -> str:
        """The letters split into syllables, as the keyboard shows them (``zhang s``)."""
        return " ".join(p for p, _ in self.source.segment(self.letters)) if self.letters else ""
