"""Where lines end: sentence ends with lookahead, abbreviations, paragraph breaks, runaway sentences."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from colab_worker.sentences import LineSplitter, ends_sentence
from stories.story_text import story_text


def split(text: str, before: str = "", max_chars: int = 400) -> tuple[list[str], list[int], str | None, str]:
    """Lines, paragraph ends, how the first line follows ``before``, and what is left pending."""
    splitter = LineSplitter(True, max_chars, before)
    lines, ends, follows = [], [], None
    for ch in text:
        cut = splitter.push(ch)
        if cut is not None and cut.line is not None:
            follows = follows or cut.follows
            if cut.paragraph_end:
                ends.append(len(lines))
            lines.append(cut.line)
    return lines, ends, follows, splitter.pending


@pytest.mark.parametrize("text, ends", [
    ("He ran.", True), ("He ran!", True), ("Who?", True), ('"Run!"', True), ("(he ran.)", True),
    ("\u201cStop.\u201d", True), ("Wait...", True), ("said I.", True),
    ("Mr.", False), ("Mrs.", False), ("Dr.", False), ("St.", False), ("(Mr.", False), ("J.", False),
    ("e.g.", False), ("U.S.", False), ("He ran", False), ("he said,", False), ("", False),
])
def test_what_may_end_a_sentence(text, ends):
    assert ends_sentence(text) is ends


def test_the_character_after_the_space_decides():
    lines, ends, _, pending = split('"Hello!" said Peter. "Hello!" He left. Mr. Smith met J. R. Brown. Then')
    assert lines == ['"Hello!" said Peter.', '"Hello!"', "He left.", "Mr. Smith met J. R. Brown."]
    assert ends == [] and pending == "Then"


def test_paragraph_breaks_end_lines_and_are_reported():
    lines, ends, _, pending = split("One. Two\n\nCHAPTER II\n\nThree. F")
    assert lines == ["One.", "Two", "CHAPTER II", "Three."]
    assert ends == [1, 2] and pending == "F"


def test_the_first_line_completes_the_seed_or_starts_after_it():
    assert split(" there was a king. He", before="Once upon a time")[::2] == ([" there was a king."], "mid-sentence")
    assert split("me there was. A", before="Once upon a ti")[::2] == (["me there was."], "mid-sentence")
    assert split(" said she. And", before='"Hello!"')[::2] == ([" said she."], "mid-sentence")
    assert split(" She left. So", before="The king died.")[::2] == (["She left."], "sentence")
    assert split("\n\nShe left. So", before="The king died.")[::2] == (["She left."], "paragraph")
    assert split("She left. So", before="The king died. ")[::2] == (["She left."], "sentence")
    assert split("She left. So", before="")[::2] == (["She left."], "paragraph")


def test_a_runaway_sentence_is_cut_at_a_word_boundary():
    lines, _, _, pending = split("aaa bbb ccc ddd eee fff", max_chars=10)
    assert lines == ["aaa bbb", "ccc ddd"] and pending == "eee fff"
    assert all(len(line) <= 10 for line in lines)
    lines, _, _, _ = split(" aaaaaaaaa bb cc dd", before="x", max_chars=10)
    assert lines == [" aaaaaaaaa"]  # the space after the seed is not part of the length


def test_newline_lines_end_at_newlines():
    splitter = LineSplitter(False, 400, "seed")
    cuts = [splitter.push(ch) for ch in "One. Two\nthree\n"]
    made = [(c.line, c.follows) for c in cuts if c is not None]
    assert made == [("One. Two", "newline"), ("three", "newline")]


words = st.text(alphabet="abcXY.!?\"'", min_size=1, max_size=12)
separators = st.sampled_from([" ", " ", " ", "\n\n"])


@given(st.lists(st.tuples(words, separators), min_size=1, max_size=30),
       st.sampled_from(["", "Once upon", "It was.", '"Hi!"']), st.integers(12, 60))
def test_the_story_text_is_rebuilt_exactly_from_its_lines(pieces, seed, max_chars):
    """Whatever canonical text is written, seed + lines + paragraph ends give it back, and
    every line is within the cap and never starts or ends with a space (but a seed's completion)."""
    written = "".join(w + s for w, s in pieces)
    if seed and not written.startswith("\n"):
        written = " " + written
    splitter = LineSplitter(True, max_chars, seed)
    lines, ends, seed_end, consumed = [], [], None, 0
    for ch in written:
        cut = splitter.push(ch)
        if cut is None:
            continue
        consumed += cut.length
        if cut.line is None:
            seed_end = splitter.follows
            continue
        seed_end = seed_end or cut.follows
        if cut.paragraph_end:
            ends.append(len(lines))
        lines.append(cut.line)
    if lines:
        assert story_text(seed, lines, ends, seed_end) == seed + written[:consumed]
    for i, line in enumerate(lines):
        body = line[1:] if i == 0 and seed_end == "mid-sentence" and line.startswith(" ") else line
        assert body and not body.startswith(" ") and not body.endswith(" ") and "\n" not in line
        assert len(body) <= max_chars
