"""StoryBatch with a model trained on unwrapped text: sentence lines, paragraph breaks, and a
story text that is rebuilt exactly from its lines, so resuming, batching and chunking change nothing."""

import re

import pytest
import torch

from colab_worker.checkpoint import LoadedModel, load_model, save_model
from colab_worker.cli import main
from colab_worker.generation import START, SamplingParams, StoryBatch
from colab_worker.model import LSTMModel, ModelConfig
from colab_worker.tokenizer import BPETokenizer
from colab_worker.vocab import Vocab
from stories.story_text import story_text

CORPUS = ("The fox ran into the wood. The bear sat by the river!\n\n"
          "\"Who is there?\" asked the old woman. Mr. Fox answered her.\n")


def char_model() -> LoadedModel:
    vocab = Vocab.from_text(CORPUS + "\t")
    torch.manual_seed(7)
    config = ModelConfig(vocab_size=len(vocab), embedding_dim=8, hidden_size=24, num_layers=2, tie_embeddings=False)
    model = LSTMModel(config).eval()
    with torch.no_grad():  # words, sentence ends and a paragraph break now and then
        model.head.weight.mul_(6.0)
        for ch, boost in ((" ", 2.5), (".", 1.5), ("T", 1.0), ("\n", 0.3), ("\t", 3.0)):
            model.head.bias[vocab.encode(ch)[0]] += boost
    return LoadedModel(model=model, vocab=vocab, config=config, metadata={"text_format": "paragraphs"})


def subword_model() -> LoadedModel:
    """Random weights over a small byte-level BPE vocabulary: it draws words, bytes of
    multi-byte characters, quotation marks and whitespace tokens the rules must refuse, and
    token sequences that are not the tokenizer's encoding of their text (so lines often end
    with the text re-encoded)."""
    odd = "Un café, déjà vu — “quoted” ‘single’ 🦊 \t  x\n"
    vocab = BPETokenizer.train([CORPUS * 4 + odd], vocab_size=320)
    torch.manual_seed(7)
    config = ModelConfig(vocab_size=len(vocab), hidden_size=24, num_layers=2, tie_embeddings=True)
    model = LSTMModel(config).eval()
    with torch.no_grad():
        model.embedding.weight.mul_(0.5)  # the output layer is tied: the biases below decide most draws
        boost = {b".": 3.0, b"\n": 2.5, b" The": 3.0, b"!": 1.5}
        model.head.bias.copy_(torch.tensor([
            boost.get(data, 2.0 if data.strip().isalpha() and data.isascii() else 0.0) for data in vocab.token_bytes]))
    return LoadedModel(model=model, vocab=vocab, config=config, metadata={"text_format": "paragraphs"})


@pytest.fixture(scope="module", params=["chars", "subwords"])
def loaded(request) -> LoadedModel:
    return char_model() if request.param == "chars" else subword_model()


def decode(batch: StoryBatch, story_id, n: int) -> list:
    """Step until the story has at least ``n`` new lines; all of them (a chunk may end several)."""
    got = []
    while len(got) < n:
        got += [line for line in batch.step() if line.story == story_id]
    return got


def rebuilt(seed: str, lines: list) -> str:
    ends = [i for i, line in enumerate(lines) if line.paragraph_end]
    return story_text(seed, [line.text for line in lines], ends, lines[0].follows if lines else None)


def test_lines_are_sentences_and_the_text_is_rebuilt_exactly(loaded):
    batch = StoryBatch(loaded, max_batch=2, chunk=16)
    assert batch.sentences
    batch.add("s", "The fox ran", SamplingParams(random_seed=3, max_line_chars=60))
    lines = decode(batch, "s", 30)
    text = batch.text("s")
    assert text == rebuilt("The fox ran", lines)
    assert "  " not in text and " \n" not in text and "\n " not in text and "\t" not in text
    assert re.fullmatch(r"(?:[^\n]|\n\n)*", text)  # newlines only come as paragraph breaks
    assert lines[0].follows in ("mid-sentence", "sentence", "paragraph")
    assert any(line.paragraph_end for line in lines) and any(not line.paragraph_end for line in lines)
    for line, after in zip(lines[1:], lines[2:]):
        assert line.text and line.text == line.text.strip() and len(line.text) <= 60
        # a line that ends no sentence was cut because the next word would take it past 60
        cut_at_the_cap = len(line.text) + 1 + len(after.text.split(" ")[0]) > 60
        assert line.paragraph_end or cut_at_the_cap or re.search(r"[.!?][\"')]*$", line.text), line


def test_carried_state_equals_reading_the_whole_text(loaded):
    """At a line end the state is that of reading the story without the separator after its
    last line (the separator is drawn next, as the start of the next line)."""
    batch = StoryBatch(loaded, max_batch=1, chunk=16)
    batch.add("s", "Who is there?", SamplingParams(random_seed=5))
    decode(batch, "s", 5)
    text = batch.text("s")
    assert text.endswith((" ", "\n\n"))
    with torch.no_grad():
        logits, _ = loaded.model(torch.tensor([loaded.vocab.encode(START + text.rstrip())]))
    torch.testing.assert_close(batch.next_token_probs("s"), torch.softmax(logits[0, -1], 0), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("seed", ["The bear", "The bear sat.", "", '"Who is there?"'])
def test_a_story_resumed_from_its_lines_goes_on_identically(loaded, seed):
    params = SamplingParams(temperature=1.0, random_seed=11, max_line_chars=40)
    first = StoryBatch(loaded, max_batch=2, chunk=8)
    first.add("s", seed, params)
    lines = decode(first, "s", 12)
    for k in (1, 5):
        fresh = StoryBatch(loaded, max_batch=2, chunk=32)
        fresh.add("s", rebuilt(seed, lines[:k]), params)
        again = decode(fresh, "s", 12 - k)[:12 - k]
        assert [(x.text, x.paragraph_end) for x in again] == [(x.text, x.paragraph_end) for x in lines[k:12]]
        assert all(x.follows in ("sentence", "paragraph") for x in again)


def test_batched_equals_alone_with_both_kinds_of_lines_and_any_chunk(loaded):
    stories = {
        "a": ("The fox", SamplingParams(random_seed=1), None),
        "b": ("The", SamplingParams(temperature=1.2, random_seed=2, top_k=5, max_line_chars=25), None),
        "c": ("Who", SamplingParams(temperature=0.5, random_seed=3, top_p=0.9, max_line_chars=30), False),  # newline lines
        "d": ("nobody", SamplingParams(temperature=0.0, random_seed=4, max_line_chars=30), None),
    }
    alone = {}
    for sid, (text, params, sentences) in stories.items():
        batch = StoryBatch(loaded, max_batch=1, chunk=5)
        batch.add(sid, text, params, sentences=sentences)
        alone[sid] = decode(batch, sid, 6)[:6]
    assert {line.follows for line in alone["c"]} == {"newline"}
    assert {line.follows for line in alone["a"][1:]} <= {"sentence", "paragraph"}

    batch = StoryBatch(loaded, max_batch=3, chunk=16)
    got = {sid: [] for sid in stories}

    def run_until(sid, n):
        while len(got[sid]) < n:
            for line in batch.step():
                got[line.story].append(line)

    batch.add("a", stories["a"][0], stories["a"][1])
    batch.add("b", stories["b"][0], stories["b"][1])
    run_until("a", 2)
    batch.add("c", *stories["c"])
    run_until("b", 6)
    batch.remove("b")
    batch.add("d", stories["d"][0], stories["d"][1])
    for sid in "acd":
        run_until(sid, 6)
    for sid in stories:
        assert got[sid][:6] == alone[sid], sid


def test_the_generate_command_prints_sentences_and_paragraph_breaks(loaded, tmp_path, capsys):
    path = tmp_path / "paragraphs.pt"
    save_model(path, loaded.model, loaded.vocab, {"corpus": "test", "text_format": "paragraphs"})
    code = main(["generate", "--model", str(path), "--seed", "The fox ran", "--lines", "12", "--random-seed", "3",
                 "--max-line-chars", "60"])
    first = capsys.readouterr()
    assert code == 0, first.err
    batch = StoryBatch(loaded, max_batch=1, chunk=32)
    batch.add("s", "The fox ran", SamplingParams(random_seed=3, max_line_chars=60))
    lines = decode(batch, "s", 12)[:12]
    expected = ["The fox ran" + lines[0].text if lines[0].follows == "mid-sentence" else "The fox ran"]
    for i, line in enumerate(lines):
        if i or lines[0].follows != "mid-sentence":
            expected.append(line.text)
        if line.paragraph_end and i < 11:
            expected.append("")
    assert first.out == "\n".join(expected) + "\n"
    assert "" in expected


@pytest.mark.parametrize("seed", ["Once upon a time there lived a poor miller who", "The king said: ", ""])
def test_the_shipped_model_resumed_from_its_lines_goes_on_identically(seed):
    """With a trained subword model some lines are drawn as tokens that are not the
    tokenizer's encoding of their text; the story still resumes exactly."""
    shipped = load_model("default")
    params = SamplingParams(temperature=1.0, top_p=0.95, random_seed=5)
    first = StoryBatch(shipped, max_batch=1, chunk=16)
    first.add("s", seed, params)
    lines = decode(first, "s", 10)[:10]
    fresh = StoryBatch(shipped, max_batch=1, chunk=32)
    fresh.add("s", rebuilt(seed, lines[:4]), params)
    assert [(x.text, x.paragraph_end) for x in decode(fresh, "s", 6)[:6]] == [(x.text, x.paragraph_end)
                                                                              for x in lines[4:10]]


def test_two_stories_with_the_same_random_seed_do_not_fall_into_step():
    """The noise depends on what a story has read: two beginnings, one random seed, two stories."""
    shipped = load_model("default")
    told = {}
    for seed in ("Once upon a time there lived a poor miller", "A wolf met a fox in the dark forest"):
        batch = StoryBatch(shipped, max_batch=1)
        batch.add("s", seed, SamplingParams(random_seed=1))
        told[seed] = [line.text for line in decode(batch, "s", 8)[:8]]
    first, second = told.values()
    assert not set(first[2:]) & set(second[2:])
