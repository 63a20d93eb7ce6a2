"""colab-worker evaluate: whole files scored in nats per character, and the reference split."""

import json
import math

import pytest
import torch

from colab_worker.checkpoint import LoadedModel, save_model
from colab_worker.cli import main
from colab_worker.corpus import prepare_text, read_corpus, reference_split
from colab_worker.generation import START
from colab_worker.model import LSTMModel, ModelConfig
from colab_worker.scoring import score_text
from colab_worker.tokenizer import BPETokenizer
from colab_worker.vocab import Vocab

BOOK = ("The Project Gutenberg eBook of Tales\n\n*** START OF THE PROJECT GUTENBERG EBOOK TALES ***\n\n"
        "Once upon a time there was a king who had\nthree sons, and the youngest was called\nSimpleton.\n\n"
        "He went out \u2026 into the wide world.\n\n*** END OF THE PROJECT GUTENBERG EBOOK TALES ***\nLicence text.\n")


@pytest.fixture(scope="module")
def loaded() -> LoadedModel:
    vocab = Vocab.from_text("Once upon a time there was a king. He went into the wide world.\n" * 3)
    torch.manual_seed(2)
    model = LSTMModel(ModelConfig(vocab_size=len(vocab), embedding_dim=8, hidden_size=16, tie_embeddings=False)).eval()
    return LoadedModel(model=model, vocab=vocab, config=model.config, metadata={"text_format": "paragraphs"})


def nll_step_by_step(loaded: LoadedModel, text: str) -> float:
    """Every id of the text predicted one step at a time from the start context."""
    ids = loaded.vocab.encode(START + text)
    layers = loaded.config.num_layers
    hs = [torch.zeros(1, loaded.config.hidden_size) for _ in range(layers)]
    cs = [torch.zeros(1, loaded.config.hidden_size) for _ in range(layers)]
    total = 0.0
    with torch.no_grad():
        for i in range(len(ids) - 1):
            logits, hs, cs = loaded.model.step(torch.tensor([ids[i]]), hs, cs)
            if i + 1 >= len(loaded.vocab.encode(START)):
                total -= torch.log_softmax(logits[0], 0)[ids[i + 1]].item()
    return total


def test_every_character_is_scored_with_the_state_carried(loaded):
    text = "Once upon a time\u2026 \u00e9t\u00e9 \u2603 the king."  # a 3-id fallback, decompositions, UNK
    assert len(loaded.vocab.encode(text)) > len(text)
    score = score_text(loaded, text, chunk=5)
    assert score.chars == len(text)
    assert math.isclose(score.nll, nll_step_by_step(loaded, text), rel_tol=1e-4)
    assert math.isclose(score.nats_per_char, score.nll / len(text))
    assert math.isclose(score_text(loaded, text, chunk=4096).nll, score.nll, rel_tol=1e-5)


def test_a_subword_model_is_scored_per_character_of_the_text():
    """Every token is scored, from the start context on, and the total is divided by characters:
    a subword model's figure is on the same scale as a character model's."""
    tokenizer = BPETokenizer.train(["Once upon a time there was a king. He went into the wide world.\n" * 20],
                                   vocab_size=300)
    torch.manual_seed(3)
    model = LSTMModel(ModelConfig(vocab_size=len(tokenizer), hidden_size=16)).eval()
    subword = LoadedModel(model=model, vocab=tokenizer, config=model.config, metadata={"text_format": "paragraphs"})
    text = "Once upon a time there was a king \u2603 who went into the world."
    assert len(tokenizer.encode(START + text)) < len(text)
    score = score_text(subword, text, chunk=3)
    assert score.chars == len(text)
    assert math.isclose(score.nll, nll_step_by_step(subword, text), rel_tol=1e-4)
    assert math.isclose(score_text(subword, text, chunk=4096).nll, score.nll, rel_tol=1e-5)


def test_evaluate_scores_the_prepared_text_of_each_whole_file(loaded, tmp_path, capsys):
    model = tmp_path / "m.pt"
    save_model(model, loaded.model, loaded.vocab, {"text_format": "paragraphs"})
    first, second = tmp_path / "tales.txt", tmp_path / "more.txt"
    first.write_text(BOOK, encoding="utf-8")
    second.write_bytes(("\ufeff" + "The king went home.\r\nAnd he slept.\r\n").encode("utf-8"))
    assert main(["evaluate", str(first), str(second), "--model", str(model), "--json"]) == 0
    printed = capsys.readouterr()
    rows = [json.loads(line) for line in printed.out.splitlines()]
    # before each file's score: what is being scored, so a long run is not silent
    assert printed.err.splitlines() == [f"scoring {first} ({rows[0]['chars']:,} characters) with the model {model} on cpu",
                                        f"scoring {second} ({rows[1]['chars']:,} characters) with the model {model} "
                                        "on cpu"]
    assert [row["file"] for row in rows] == [str(first), str(second)]
    for row, path in zip(rows, (first, second)):
        text = prepare_text(path.read_text(encoding="utf-8-sig"))
        assert row["chars"] == len(text)
        assert math.isclose(row["nats_per_char"], nll_step_by_step(loaded, text) / len(text), rel_tol=1e-4)
    assert rows[1]["chars"] == len("The king went home. And he slept.\n")
    assert main(["evaluate", str(first), "--model", str(model)]) == 0
    assert f"{rows[0]['nats_per_char']:.4f} nats/char over {rows[0]['chars']:,} characters  tales.txt" \
        in capsys.readouterr().out


def test_split_reference_gives_the_validation_figure_of_the_corpus(loaded, tmp_path, capsys):
    model = tmp_path / "m.pt"
    save_model(model, loaded.model, loaded.vocab, {})
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"book{i}.txt")
        paths[-1].write_text(f"Book {i}. " + "The king went into the wide world and came home again.\n" * 900)
    assert main(["evaluate", *map(str, paths), "--model", str(model), "--split", "reference", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    blocks = reference_split(read_corpus(paths)).validation
    expected = score_text(loaded, blocks[0]).nats_per_char  # a block is scored as a book is
    assert row["split"] == "reference" and row["blocks"] == len(blocks) == 1
    assert math.isclose(row["nats_per_char"], expected, rel_tol=1e-6)
    assert main(["evaluate", *map(str, paths), "--model", str(model), "--split", "reference"]) == 0
    assert capsys.readouterr().out.endswith(" characters in 1 held-out block\n")  # one block, not "blocks"


def test_a_file_without_text_is_a_clear_error(loaded, tmp_path, capsys):
    model = tmp_path / "m.pt"
    save_model(model, loaded.model, loaded.vocab, {})
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  \n")
    assert main(["evaluate", str(empty), "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert "holds no text" in err and "Traceback" not in err
    assert main(["evaluate", str(tmp_path / "missing.txt"), "--model", str(model)]) == 2
    assert "missing.txt" in capsys.readouterr().err
