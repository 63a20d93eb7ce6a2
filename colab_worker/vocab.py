"""Character vocabulary: text <-> integer ids, with a defined fate for every character.

Id 0 is ``UNK``. Encoding first normalises line ends (CRLF and CR become LF). A character
that the training text never contained is then replaced, in this order, by:

1. a typographic equivalent that is in the vocabulary (curly quotes, dashes, ellipsis,
   tabs and unusual spaces: see ``_EQUIVALENTS``);
2. its Unicode NFKD decomposition with the characters that are not in the vocabulary
   dropped (``é`` -> ``e``, ``ﬁ`` -> ``fi``);
3. ``UNK``. Training shows the model ``UNK`` in place of a few input characters, so it
   reads ``UNK`` as "some character"; sampling never produces it.

So any string encodes without error; its length in ids may differ from its length in
characters when step 1 or 2 expands a character.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

UNK_ID = 0

_EQUIVALENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "'": "\u2019", '"': "\u201d",
    "\u2013": "-", "\u2014": "--", "\u2015": "--", "\u2212": "-",
    "\u2026": "...", "\t": " ", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u00ab": '"', "\u00bb": '"',
}


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF, and a leading byte-order mark goes."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


class Vocab:
    """Maps characters to ids 1..n (0 is ``UNK``) and back."""

    def __init__(self, chars: Iterable[str]):
        self.chars = "".join(sorted(set(chars)))
        if any(len(c) != 1 for c in self.chars):
            raise ValueError("a vocabulary holds single characters")
        self._index = {c: i + 1 for i, c in enumerate(self.chars)}
        self._fallback: dict[str, list[int]] = {}

    @classmethod
    def from_text(cls, text: str, min_count: int = 1) -> "Vocab":
        """The characters that occur at least ``min_count`` times in ``text``, plus newline
        (paragraphs are what a story is made of); rarer ones take the fallback path above."""
        text = normalize_newlines(text)
        if min_count > 1:
            counts = Counter(text)
            text = "".join(c for c, n in counts.items() if n >= min_count)
        return cls(text + "\n")

    def __len__(self) -> int:
        return len(self.chars) + 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and other.chars == self.chars

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        index = self._index
        for ch in normalize_newlines(text):
            i = index.get(ch)
            if i is not None:
                ids.append(i)
            else:
                ids.extend(self._unknown(ch))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Ids back to text; ``UNK`` becomes U+FFFD."""
        chars = self.chars
        return "".join(chars[i - 1] if i > 0 else "\ufffd" for i in ids)

    def _unknown(self, ch: str) -> list[int]:
        ids = self._fallback.get(ch)
        if ids is None:
            ids = self._substitute(ch)
            self._fallback[ch] = ids
        return ids

    def _substitute(self, ch: str) -> list[int]:
        equivalent = _EQUIVALENTS.get(ch)
        if equivalent is not None and all(c in self._index for c in equivalent):
            return [self._index[c] for c in equivalent]
        decomposed = [self._index[c] for c in unicodedata.normalize("NFKD", ch) if c in self._index]
        return decomposed or [UNK_ID]
