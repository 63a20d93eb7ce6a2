"""The byte-level BPE tokenizer: any text round-trips exactly, long texts encode as a whole,
and the shipped model carries its tokenizer inside its file."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colab_worker.checkpoint import load_model, shipped_tokenizer
from colab_worker.tokenizer import BPETokenizer

TEXT = ("The fox ran into the wood. \"Who is there?\" asked the old woman.\n\n"
        "Un café, déjà vu \u2014 \u201cquoted\u201d \u2018single\u2019 \U0001f98a and 12,345 coins.\n")


@pytest.fixture(scope="module")
def shipped() -> BPETokenizer:
    tokenizer = shipped_tokenizer()
    assert isinstance(tokenizer, BPETokenizer)
    return tokenizer


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(codec="utf-8"), max_size=200))
def test_any_text_round_trips_exactly_with_no_unknown_token(shipped, text):
    ids = shipped.encode(text)
    assert shipped.decode(ids) == text
    assert all(0 <= i < len(shipped) for i in ids)
    assert b"".join(shipped.token_bytes[i] for i in ids) == text.encode("utf-8")


@settings(max_examples=100, deadline=None)
@given(paragraphs=st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=60),
                           max_size=8))
def test_a_long_text_encodes_as_one_piece_would(shipped, paragraphs):
    text = "\n\n".join(paragraphs) + "\n"
    assert shipped.encode_long(text) == shipped.encode(text)


def test_the_tokenizer_travels_inside_the_model_file():
    loaded = load_model("default")
    assert loaded.vocab == shipped_tokenizer()
    assert len(loaded.vocab) == loaded.config.vocab_size
    assert BPETokenizer.from_json(loaded.vocab.to_json()) == loaded.vocab


def test_a_learned_tokenizer_covers_text_it_never_saw():
    tokenizer = BPETokenizer.train([TEXT * 3], vocab_size=300)
    assert 256 < len(tokenizer) <= 300
    unseen = "Ça va? 漢字 \U0001f600\t\r\n"
    assert tokenizer.decode(tokenizer.encode(unseen)) == unseen
    assert len(tokenizer.encode("the wood")) < len("the wood")  # merges learned from the text


def test_a_malformed_tokenizer_is_a_value_error():
    for bad in ("", "{}", '{"model": {"type": "WordPiece"}}', "not json"):
        with pytest.raises(ValueError, match="BPE"):
            BPETokenizer.from_json(bad)
