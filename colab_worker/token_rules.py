r"""Which token may come next: the decoder's rules on whitespace, line length and UTF-8,
as lookup tables over token ids (so a decode step has no branch and fits a CUDA graph).

A story's decoding state is a *code*: a quotation style, a whitespace state and the number
of UTF-8 continuation bytes still owed (a byte-level token may end inside a character; the
next token must finish it, so no reader ever gets a broken character).

The quotation style is ``NO_QUOTES`` until the story's first quotation mark or apostrophe,
then ``STRAIGHT`` (``"`` and ``'``) or ``CURLY`` (``“ ” ‘ ’``) for good: the books mix both,
a story does not. In sentence lines double quotation marks pair up within a paragraph: while one is open the
paragraph cannot end, a curly one cannot open twice or close unopened. (A character the
rules must see, a curly mark or a space other than U+0020, is drawn within one token.) The
whitespace states:

* sentence lines: ``WORD`` (after a visible character), ``SPACE`` (after a space: a visible
  character must follow), ``NEWLINE`` (after a first newline: a second must follow, making a
  paragraph break), ``START`` (at a paragraph's start: a visible character must follow);
  ``FORCE_SPACE`` and ``FORCE_PARAGRAPH`` make the next token begin with the given separator
  (``generation.py`` uses them after a line end whose separator is already written);
* newline lines (character models trained on hard-wrapped text): ``BLANK`` (the line has no
  visible character yet: no newline) and ``TEXT``.

No other whitespace character is ever drawn in sentence lines, so the text stays canonical:
one space between words, ``"\n\n"`` between paragraphs; no control character is ever drawn.
A word (sentence lines) or a line (newline lines) of ``max_line_chars`` characters is
*full*: the next token must begin with whitespace (a newline, for newline lines). Tokens are
checked byte by byte, so the same tables serve a character vocabulary (one character a
token) and byte-level BPE.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

import codecs
import unicodedata

import numpy as np
import torch

NEG_INF = float("-inf")
WORD, SPACE, NEWLINE, START, FORCE_SPACE, FORCE_PARAGRAPH, BLANK, TEXT = range(8)
STATES = 8
OWED = 4  # continuation bytes still owed: 0 to 3
NO_QUOTES, STRAIGHT, CURLY = range(3)
STYLES = 3
QUOTES = STYLES * 2  # a style, and whether a double quotation mark is open
CODES = QUOTES * STATES * OWED
_PARTIAL = ""  # stands for a character whose bytes are not all there yet (a visible one)
_STRAIGHT_MARKS, _CURLY_MARKS = "\"'", "\u201c\u201d\u2018\u2019"
_OPEN, _CLOSE = "\u201c", "\u201d"
# A token may end inside a character, the next one finishing it, unless the bytes so far are
# one of these: lead bytes whose next byte has a narrower range (e0, ed, f0, f4), or the
# beginning of a character the rules must see whole (C1 controls and no-break space after
# c2; the Ogham, typographic and ideographic spaces and the curly quotation marks after e1 9a,
# e2 80, e2 81, e3 80).
_UNSAFE_PARTS = frozenset({b"\xc2", b"\xe0", b"\xed", b"\xf0", b"\xf4", b"\xe1", b"\xe1\x9a", b"\xe2",
                           b"\xe2\x80", b"\xe2\x81", b"\xe3", b"\xe3\x80"})


def code(state: int, owed: int = 0, style: int = NO_QUOTES, open_quote: bool = False) -> int:
    return ((style * 2 + open_quote) * STATES + state) * OWED + owed


def quotes(text: str) -> tuple[int, bool]:
    """The quotation style of a text (that of its last quotation mark or apostrophe) and
    whether its last paragraph leaves a double quotation mark open."""
    style = NO_QUOTES
    for ch in reversed(text):
        if ch in _STRAIGHT_MARKS:
            style = STRAIGHT
            break
        if ch in _CURLY_MARKS:
            style = CURLY
            break
    paragraph = text[text.rfind("\n") + 1:]
    if style == STRAIGHT:
        return style, paragraph.count('"') % 2 == 1
    return style, paragraph.rfind(_OPEN) > paragraph.rfind(_CLOSE)


@dataclass(frozen=True)
class TokenRules:
    """``bias[code + CODES * full]`` [2 * CODES, vocab]: 0 or -inf; ``next_code``, ``resets``
    and ``tail`` [CODES * vocab], indexed by ``code * vocab + token``: the code after the
    token, whether it restarts the run (word or line) and how many characters it adds to it.

    Sentence length, per token [vocab]: ``ends`` (1.0 when it holds ``.``, ``!`` or ``?``),
    ``stops`` (it holds one of those or a newline: the sentence restarts) and ``stop_tail``
    (the characters after the last of them, or all of the token's)."""

    bias: torch.Tensor
    next_code: torch.Tensor
    resets: torch.Tensor
    tail: torch.Tensor
    ends: torch.Tensor
    stops: torch.Tensor
    stop_tail: torch.Tensor

    def to(self, device: torch.device) -> "TokenRules":
        return TokenRules(*(getattr(self, f.name).to(device) for f in fields(self)))


@lru_cache(maxsize=8)
def token_rules(token_bytes: tuple[bytes, ...]) -> TokenRules:
    """The tables for a vocabulary whose token ``i`` is ``token_bytes[i]``; a token without
    bytes (a character vocabulary's ``UNK``) is never drawn."""
    vocab_size = len(token_bytes)
    # axes: full, quotes (style * 2 + open), state, owed, token; flattened in that order into codes
    allowed = np.zeros((2, QUOTES, STATES, OWED, vocab_size), dtype=bool)
    next_code = np.zeros((QUOTES, STATES, OWED, vocab_size), dtype=np.int64)
    resets = np.zeros((QUOTES, STATES, OWED, vocab_size), dtype=bool)
    tail = np.zeros((QUOTES, STATES, OWED, vocab_size), dtype=np.int64)
    for token, data in enumerate(token_bytes):
        if not data:
            continue
        text = data.decode("utf-8", errors="ignore")
        quoted = {}
        for pairs in (False, True):
            moves = [(q, _quotes_after(text, q // 2, bool(q % 2), pairs)) for q in range(QUOTES)]
            quoted[pairs] = (np.array([q for q, after in moves if after is not None], dtype=np.int64),
                             np.array([(after[0] * 2 + after[1]) * STATES * OWED for _, after in moves
                                       if after is not None], dtype=np.int64))
        for state in range(STATES):
            sources, shifts = quoted[state not in (BLANK, TEXT)]
            if not len(sources):
                continue
            for owed in range(OWED):
                for full in (False, True):
                    walked = _walk(state, owed, data, full)
                    if walked is None:
                        continue
                    new_code, restarts, gained = walked
                    allowed[int(full), sources, state, owed, token] = True
                    if not full:  # the same move either way; full only forbids more
                        next_code[sources, state, owed, token] = new_code + shifts
                        resets[sources, state, owed, token] = restarts
                        tail[sources, state, owed, token] = gained
    bias = torch.from_numpy(np.where(allowed, 0.0, NEG_INF).astype(np.float32)).reshape(2 * CODES, vocab_size)
    ends, stops, stop_tail = _sentence_tables(token_bytes)
    return TokenRules(bias, *(torch.from_numpy(t).reshape(-1) for t in (next_code, resets, tail)),
                      ends, stops, stop_tail)


def sentence_run(text: str) -> int:
    """Characters after the last sentence stop (``.``, ``!``, ``?``, newline) of ``text``."""
    last = max(text.rfind(ch) for ch in _STOPS)
    return len(text) - last - 1


_ENDS, _STOPS = ".!?", ".!?\n"


def _sentence_tables(token_bytes: tuple[bytes, ...]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ends = torch.zeros(len(token_bytes))
    stops = torch.zeros(len(token_bytes), dtype=torch.bool)
    stop_tail = torch.zeros(len(token_bytes), dtype=torch.long)
    for token, data in enumerate(token_bytes):
        ends[token] = float(any(b in _ENDS.encode() for b in data))
        last = max(data.rfind(b) for b in _STOPS.encode())
        stops[token] = last >= 0
        stop_tail[token] = sum(b & 0xC0 != 0x80 for b in data[last + 1:])  # characters begun after it
    return ends, stops, stop_tail


def _quotes_after(text: str, style: int, is_open: bool, pairs: bool) -> tuple[int, bool] | None:
    """The quotation style and open mark after a token with this text (None: it breaks a
    rule); without ``pairs`` (newline lines, whose quotations span lines) only the style counts."""
    for ch in text:
        if ch in _STRAIGHT_MARKS or ch in _CURLY_MARKS:
            mark = STRAIGHT if ch in _STRAIGHT_MARKS else CURLY
            if style not in (NO_QUOTES, mark):
                return None
            style = mark
        if not pairs:
            continue
        if ch == '"':
            is_open = not is_open
        elif ch == _OPEN:
            if is_open:
                return None
            is_open = True
        elif ch == _CLOSE:
            if not is_open:
                return None
            is_open = False
        elif ch == "\n" and is_open:
            return None
    return style, is_open


def _walk(state: int, owed: int, data: bytes, full: bool) -> tuple[int, bool, int] | None:
    """Read ``data`` from ``(state, owed)``: the new code, whether the run restarted and the
    characters the run gained since; None when a rule forbids the token."""
    i = 0
    while owed and i < len(data):  # finish the character the previous token began
        if data[i] & 0xC0 != 0x80:
            return None
        owed, i = owed - 1, i + 1
    if owed:
        return code(state, owed), False, 0
    lines = state in (BLANK, TEXT)
    resets, run, first = False, 0, True
    while i < len(data):
        size = _char_size(data[i])
        if size is None:
            return None
        piece = data[i:i + size]
        if len(piece) < size:
            if piece in _UNSAFE_PARTS or not _valid_start(piece):
                return None
            ch = _PARTIAL
        else:
            try:
                ch = piece.decode("utf-8")
            except UnicodeDecodeError:
                return None
        state = (_line_step if lines else _sentence_step)(state, ch, full and (first or lines))
        if state is None:
            return None
        if ch == "\n" or (not lines and ch.isspace()):
            resets, run = True, 0
        else:
            run += 1
        first, i = False, i + size
    owed = i - len(data)
    return code(state, owed), resets, run


def _valid_start(piece: bytes) -> bool:
    """Whether ``piece`` can begin a UTF-8 character (the decoder checks each byte's range)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(piece, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _char_size(lead: int) -> int | None:
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return None  # a continuation byte out of place, or a byte UTF-8 never uses


def _control(ch: str) -> bool:
    return ch != _PARTIAL and unicodedata.category(ch) == "Cc" and ch not in "\n\t"


def _sentence_step(state: int, ch: str, full: bool) -> int | None:
    space, newline = ch == " ", ch == "\n"
    white = ch != _PARTIAL and ch.isspace()
    if (white and not (space or newline)) or _control(ch):
        return None
    if state == WORD:
        if full and not white:
            return None
        return SPACE if space else NEWLINE if newline else WORD
    if state in (SPACE, START):
        return None if white else WORD
    if state == NEWLINE:
        return START if newline else None
    if state == FORCE_SPACE:
        return SPACE if space else None
    if state == FORCE_PARAGRAPH:
        return NEWLINE if newline else None
    return None


def _line_step(state: int, ch: str, full: bool) -> int | None:
    newline = ch == "\n"
    if _control(ch):
        return None
    if full:
        return BLANK if newline else None
    if newline:
        return BLANK if state == TEXT else None
    return TEXT if (ch == _PARTIAL or not ch.isspace()) else state
