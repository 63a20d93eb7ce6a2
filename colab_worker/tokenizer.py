"""Byte-level BPE: any text to subword ids and back, exactly, learned from a corpus.

The ``tokenizers`` library does the work: a GPT-2 style pre-tokenizer (words with their
leading space, runs of digits, runs of punctuation with their leading space, runs of
whitespace) over the text's UTF-8 bytes, then BPE merges inside each piece. Every byte is
in the vocabulary, so every string encodes with no unknown token and ``decode(encode(s))
== s``. A token may hold part of a UTF-8 character; :meth:`BPETokenizer.token_bytes` gives
each token's bytes so a decoder can hold such a part back until its character is whole.

Because merges never cross a piece boundary, the encoding of a text is the encodings of its
pieces one after another; in particular the encoding of a text that ends where a piece ends
(after a word or a punctuation run, before a space or a newline) is a prefix of the encoding
of any text that continues it. Story generation relies on this (see ``generation.py``).

The tokenizer is stored inside each model file (its JSON), so a model file is
self-contained.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cached_property

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from stories.training import BPE  # the type name stored in a model file

_PARAGRAPH_BATCH = 2048
_BEFORE_NEWLINE = re.compile(r"(?<=\S)(?=\n)")


class BPETokenizer:
    """A trained byte-level BPE tokenizer (wraps :class:`tokenizers.Tokenizer`)."""

    def __init__(self, tokenizer: Tokenizer):
        self._tok = tokenizer

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 4096) -> "BPETokenizer":
        """Learn ``vocab_size`` tokens (the 256 bytes included) from ``texts``."""
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      show_progress=False, special_tokens=[])
        tok.train_from_iterator(texts, trainer=trainer)
        return cls(tok)

    @classmethod
    def from_json(cls, text: str) -> "BPETokenizer":
        """The tokenizer serialised by :meth:`to_json`; ``ValueError`` when it is not one."""
        try:
            spec = json.loads(text)
            if spec.get("model", {}).get("type") != "BPE":
                raise ValueError("not a BPE tokenizer")
            return cls(Tokenizer.from_str(text))
        except Exception as exc:  # the library raises bare Exception for a malformed spec
            raise ValueError(f"not a byte-level BPE tokenizer: {exc}") from exc

    def to_json(self) -> str:
        return self._tok.to_str()

    def __len__(self) -> int:
        return self._tok.get_vocab_size()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BPETokenizer) and other.to_json() == self.to_json()

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text).ids

    def encode_long(self, text: str) -> list[int]:
        """``encode(text)`` for a text of any length (a corpus), a batch of paragraphs at a time.

        The text is cut before each newline that follows a visible character, a piece
        boundary whatever comes next, so the result equals encoding the whole at once."""
        ids: list[int] = []
        for batch in _batches(_paragraph_pieces(text), _PARAGRAPH_BATCH):
            for encoding in self._tok.encode_batch(batch):
                ids.extend(encoding.ids)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Ids back to text; bytes that do not make a whole character become U+FFFD."""
        return b"".join(self.token_bytes[i] for i in ids).decode("utf-8", errors="replace")

    @cached_property
    def token_bytes(self) -> list[bytes]:
        """Each token's bytes, by id."""
        byte_of = {ch: b for b, ch in _bytes_to_unicode().items()}
        by_id = [b""] * len(self)
        for token, i in self._tok.get_vocab().items():
            by_id[i] = bytes(byte_of[ch] for ch in token)
        return by_id


def _paragraph_pieces(text: str) -> Iterator[str]:
    return (piece for piece in _BEFORE_NEWLINE.split(text) if piece)


def _batches(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in for each byte, which byte-level BPE tokens are spelled in."""
    kept = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = dict(zip(kept, kept))
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = 256 + extra
            extra += 1
    return {b: chr(c) for b, c in chars.items()}
