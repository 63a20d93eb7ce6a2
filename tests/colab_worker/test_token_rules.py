"""The decoder's token rules: whatever sequence of allowed tokens is drawn, the text is valid
UTF-8, its whitespace canonical, its quotation marks of one style and paired, its words no
longer than the cap allows; and the tables agree with reading the text itself."""

import codecs
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colab_worker.checkpoint import shipped_tokenizer
from colab_worker.generation import token_bytes
from colab_worker.token_rules import (BLANK, CODES, CURLY, NO_QUOTES, START, STRAIGHT, code, quotes, sentence_run,
                                      token_rules)
from colab_worker.tokenizer import BPETokenizer

TEXT = ('The fox ran. "Who is there?" she said.\n\nUn café, déjà vu \u2014 \u201cquoted\u201d '
        '\u2018single\u2019 \U0001f98a \u00a0\t  x\x07\n')
CAP = 12


@pytest.fixture(scope="module", params=["small", "shipped"])
def vocab(request):
    return BPETokenizer.train([TEXT * 4], vocab_size=330) if request.param == "small" else shipped_tokenizer()


def walk(vocab, data, start_state, steps) -> str:
    """Draw ``steps`` tokens, each picked by ``data`` among those the rules allow; their text
    (strict UTF-8, a character still incomplete at the end left out)."""
    rules = token_rules(tuple(token_bytes(vocab)))
    size = len(vocab)
    state, run, out = code(start_state), 0, b""
    for _ in range(steps):
        row = rules.bias[state + CODES * (run >= CAP)]
        allowed = (row == 0).nonzero().flatten().tolist()
        assert allowed, "every reachable state allows some token"
        token = data.draw(st.sampled_from(allowed))
        move = state * size + token
        gained = int(rules.tail[move])
        run = gained if rules.resets[move] else run + gained
        state = int(rules.next_code[move])
        out += token_bytes(vocab)[token]
    return codecs.getincrementaldecoder("utf-8")("strict").decode(out, final=False)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_sentence_lines_stay_canonical_whatever_is_drawn(vocab, data):
    text = walk(vocab, data, START, 60)
    assert not re.search(r"[^\S \n]", text)                      # no whitespace but spaces and newlines
    assert "  " not in text and " \n" not in text and "\n " not in text
    assert re.fullmatch(r"(?:[^\n]|\n\n(?=[^\n]|$)|\n$)*", text)  # newlines come in pairs, as paragraph breaks
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)  # no control characters
    assert not (set(text) & set("\"'") and set(text) & set("\u201c\u201d\u2018\u2019"))  # one quotation style
    for paragraph in text.split("\n\n")[:-1]:
        assert paragraph.count('"') % 2 == 0 and paragraph.count("\u201c") == paragraph.count("\u201d")
    longest = max(len(t.decode("utf-8", errors="ignore")) for t in token_bytes(vocab))
    assert all(len(word) <= CAP + longest for word in re.split(r"\s", text))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_newline_lines_never_draw_a_blank_line(vocab, data):
    text = walk(vocab, data, BLANK, 60)
    assert "\n\n" not in text and not text.startswith("\n")
    longest = max(len(t.decode("utf-8", errors="ignore")) for t in token_bytes(vocab))
    assert all(len(line) < CAP + longest for line in text.split("\n")[:-1])  # the cap forces the newline


def test_what_a_text_says_about_its_quotes_and_sentence():
    assert quotes("He said \"Go") == (STRAIGHT, True)
    assert quotes("He said \"Go.\" Then") == (STRAIGHT, False)
    assert quotes("\u201cGo,\u201d he said. \u201cNow") == (CURLY, True)
    assert quotes("\u201cGo\n\nThen") == (CURLY, False)  # a new paragraph opens nothing
    assert quotes("No quotes here.") == (NO_QUOTES, False)
    assert sentence_run("It ended. Then it") == 8 and sentence_run("No stop") == 7 and sentence_run("A.\n") == 0


def test_a_curly_mark_or_an_odd_space_is_never_split_across_tokens():
    split = (b"a", b"\xe2\x80", b"\x9c", b"\xe2", b"\x80\x9c", b"\xe2\x80\x9c", b"\xf0\x9f", b"\x98\x80", b"\xed")
    rules = token_rules(split)
    allowed = [t for t in range(len(split)) if rules.bias[code(0), t] == 0]  # from WORD
    assert allowed == [0, 5, 6]  # whole marks, and an emoji's start; never e2, e2 80 or a lone ed
    after_start = int(rules.next_code[code(0) * len(split) + 6])
    # only continuation bytes may follow (the character must be finished first)
    assert [t for t in range(len(split)) if rules.bias[after_start, t] == 0] == [2, 4, 7]
