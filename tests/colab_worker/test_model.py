"""The model, its vocabulary, checkpoints and the reference corpus split."""

import pickle

import pytest
import torch

from colab_worker.checkpoint import CheckpointError, load_model, model_payload, resolve, save_model
from colab_worker.corpus import read_corpus, reference_split, strip_gutenberg
from colab_worker.model import LSTMModel, ModelConfig
from colab_worker.tokenizer import BPETokenizer
from colab_worker.vocab import UNK_ID, Vocab

TEXT = "Once upon a time, a king said: \"Go!\"\nThe queen went away.\n"


def tiny(vocab: Vocab, seed: int = 0) -> LSTMModel:
    torch.manual_seed(seed)
    config = ModelConfig(vocab_size=len(vocab), embedding_dim=8, hidden_size=16, num_layers=2, tie_embeddings=False)
    return LSTMModel(config).eval()


def test_step_by_step_equals_sequence_forward():
    vocab = Vocab.from_text(TEXT)
    model = tiny(vocab)
    ids = torch.tensor([vocab.encode(TEXT), vocab.encode(TEXT[::-1])])
    with torch.no_grad():
        logits, (h, c) = model(ids)
        hs, cs = [torch.zeros(2, 16)] * 2, [torch.zeros(2, 16)] * 2
        for t in range(ids.shape[1]):
            step_logits, hs, cs = model.step(ids[:, t], hs, cs)
            torch.testing.assert_close(step_logits, logits[:, t])
        torch.testing.assert_close(torch.stack(hs), h)
        torch.testing.assert_close(torch.stack(cs), c)
        torch.testing.assert_close(torch.stack(model.advance(ids, chunk=7)), torch.stack((h, c)))


def test_vocab_round_trip_and_unseen_characters():
    vocab = Vocab.from_text(TEXT)
    assert vocab.decode(vocab.encode(TEXT)) == TEXT
    assert len(vocab) == len(set(TEXT)) + 1
    assert vocab.encode("\u00e9") == vocab.encode("e")          # accent dropped
    assert vocab.encode("\u201cGo\u201d") == vocab.encode('"Go"')  # typographic quotes
    assert vocab.encode("\u2014") == [UNK_ID]                    # no "-" in TEXT to stand in
    assert Vocab.from_text(TEXT + "-").encode("\u2014") == Vocab.from_text(TEXT + "-").encode("--")
    assert vocab.encode("\U0001F600z") == [UNK_ID, UNK_ID]       # nothing to fall back on
    assert vocab.encode("a\r\nb\rc") == vocab.encode("a\nb\nc")
    assert vocab.decode([UNK_ID]) == "\ufffd"


def test_vocab_always_holds_newline():
    assert "\n" in Vocab.from_text("abc").chars


def test_save_and_load_round_trip(tmp_path):
    vocab = Vocab.from_text(TEXT)
    model = tiny(vocab, seed=3)
    path = tmp_path / "m.pt"
    save_model(path, model, vocab, {"corpus": "test", "steps": 5, "best_val_loss": 2.5})
    loaded = load_model(path)
    assert loaded.vocab == vocab
    assert loaded.config == model.config
    assert loaded.metadata["steps"] == 5
    assert not loaded.model.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value)


def test_default_name_resolves_to_shipped_model():
    assert resolve("default").name == "default.pt"
    assert resolve("default").parent.name == "models"
    assert resolve("./x.pt").name == "x.pt"


def test_shipped_default_model_loads_and_meets_the_bar():
    loaded = load_model("default")
    assert isinstance(loaded.vocab, BPETokenizer) and loaded.config.tie_embeddings
    assert loaded.metadata["best_val_loss"] <= 1.10  # nats/char on the reference split (40 blocks)
    assert loaded.text_format == "paragraphs"
    text = "Once upon a time \u2014 «déjà vu» 🦊\n\nThe end."
    assert loaded.vocab.decode(loaded.vocab.encode(text)) == text
    assert resolve("default").stat().st_size <= 25 * 1024 * 1024


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="no model file"):
        load_model(tmp_path / "nope.pt")
    with pytest.raises(CheckpointError, match="no model file"):
        load_model("no-such-model")


def test_corrupt_file_is_a_checkpoint_error(tmp_path):
    vocab = Vocab.from_text(TEXT)
    path = tmp_path / "m.pt"
    save_model(path, tiny(vocab), vocab, {})
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="not a readable model file"):
        load_model(path)
    path.write_bytes(b"hello")
    with pytest.raises(CheckpointError, match="not a readable model file"):
        load_model(path)


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"

    class Boom:
        def __reduce__(self):
            return (print, ("pickled code ran",))

    path.write_bytes(pickle.dumps({"format": "charlstm", "x": Boom()}, protocol=2))
    with pytest.raises(CheckpointError):
        load_model(path)


def test_incompatible_checkpoints_are_checkpoint_errors(tmp_path):
    vocab = Vocab.from_text(TEXT)
    model = tiny(vocab)
    good = {"format": "charlstm", "version": 1, "config": model.config.to_dict(), "vocab": vocab.chars,
            "state_dict": model.state_dict(), "metadata": {}}
    cases = {
        "not a model file": {**good, "format": "gpt"},
        "format version": {**good, "version": 99},
        "lacks 'vocab'": {k: v for k, v in good.items() if k != "vocab"},
        "does not know": {**good, "config": {**good["config"], "attention": True}},
        "vocabulary of": {**good, "vocab": vocab.chars[:-1]},
        "do not fit": {**good, "config": {**good["config"], "hidden_size": 32}},
    }
    current = model_payload(model, vocab, {})
    cases |= {
        "format version 3": {**current, "version": 3},
        "lacks 'tokenizer'": {k: v for k, v in current.items() if k != "tokenizer"},
        "unknown tokenizer": {**current, "tokenizer": {"type": "wordpiece"}},
        "not a byte-level BPE": {**current, "tokenizer": {"type": "bpe", "json": "{}"}},
    }
    for message, payload in cases.items():
        path = tmp_path / "m.pt"
        torch.save(payload, path)
        with pytest.raises(CheckpointError, match=message):
            load_model(path)


def test_strip_gutenberg_keeps_only_the_book():
    raw = ("\ufeffThe Project Gutenberg EBook of Tales\r\n\r\n*** START OF THIS PROJECT GUTENBERG EBOOK TALES ***\r\n"
           "\r\nOnce there was a fox.\r\n\r\nEnd of the Project Gutenberg EBook of Tales\r\n"
           "*** END OF THIS PROJECT GUTENBERG EBOOK TALES ***\r\nlicence text\r\n")
    assert strip_gutenberg(raw) == "Once there was a fox.\n"
    assert strip_gutenberg("Just a story.\n\n") == "Just a story.\n"
    footer_only = "A fable.\n*** END OF THIS PROJECT GUTENBERG EBOOK FABLES ***\nlicence\n"
    assert strip_gutenberg(footer_only) == "A fable.\n"


def test_read_corpus_concatenates_in_name_order(tmp_path):
    (tmp_path / "b.txt").write_text("second\n")
    (tmp_path / "a.txt").write_text("first\n")
    assert read_corpus([tmp_path / "b.txt", tmp_path / "a.txt"]) == "first\n\nsecond\n"


def test_reference_split_holds_out_blocks_7_27_47():
    text = "".join(chr(65 + i % 26) * 10 for i in range(50))  # 50 blocks of 10 characters
    split = reference_split(text, block_chars=10)
    assert split.validation == [text[70:80], text[270:280], text[470:480]]
    assert len(split.train) == 470
    assert text[60:70] + text[80:90] in split.train


def test_tiny_text_still_gets_a_validation_block():
    split = reference_split("x" * 500)
    assert split.validation and split.train


def test_a_model_file_of_the_first_format_still_loads_and_writes(tmp_path):
    """Character models shipped before subword models (format ``charlstm`` 1) keep working."""
    vocab = Vocab.from_text(TEXT)
    model = tiny(vocab, seed=5)
    path = tmp_path / "old.pt"
    config = {k: v for k, v in model.config.to_dict().items() if k != "tie_embeddings"}  # a later field
    torch.save({"format": "charlstm", "version": 1, "config": config, "vocab": vocab.chars,
                "state_dict": model.state_dict(), "metadata": {"text_format": "wrapped"}}, path)
    loaded = load_model(path)
    assert loaded.vocab == vocab and not loaded.config.tie_embeddings
    from colab_worker.generation import SamplingParams, StoryBatch

    batch = StoryBatch(loaded, max_batch=1)
    batch.add("s", "Once upon", SamplingParams(random_seed=1, max_line_chars=30))
    lines = []
    while len(lines) < 3:
        lines += batch.step()
    assert all(line.follows == "newline" and "\n" not in line.text for line in lines)


def test_an_exported_model_is_half_the_size_and_writes_the_same(tmp_path):
    from colab_worker.checkpoint import export_model

    tokenizer = BPETokenizer.train([TEXT * 20], vocab_size=280)
    torch.manual_seed(2)
    model = LSTMModel(ModelConfig(vocab_size=len(tokenizer), hidden_size=32)).eval()
    full = tmp_path / "full.pt"
    save_model(full, model, tokenizer, {"text_format": "paragraphs"})
    size = export_model(full, tmp_path / "half.pt", half=True, sentence_end_bias={"after": 90, "per_char": 0.02})
    assert size < 0.7 * full.stat().st_size
    half = load_model(tmp_path / "half.pt")
    assert half.metadata["sentence_end_bias"] == {"after": 90, "per_char": 0.02}
    assert half.model.embedding.weight.dtype == torch.float32  # read back as 32-bit weights
    assert half.model.head.weight.data_ptr() == half.model.embedding.weight.data_ptr()  # still tied
    ids = torch.tensor([tokenizer.encode(TEXT)])
    with torch.no_grad():
        torch.testing.assert_close(half.model(ids)[0], model(ids)[0], atol=2e-2, rtol=0)
