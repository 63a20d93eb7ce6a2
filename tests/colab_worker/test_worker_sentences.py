"""A worker serving a model trained on unwrapped text: stories in sentence lines, their
paragraph breaks reported beside the lines, and a continued story that goes on exactly."""

import torch

from colab_worker.checkpoint import save_model
from colab_worker.model import LSTMModel, ModelConfig
from colab_worker.vocab import Vocab
from drivequeue import Queue, Timing, open_store
from stories.story_text import story_text
from tests.colab_worker.worker_support import run_worker

CORPUS = "The fox ran into the wood. The bear sat by the river!\n\nWho is there? Mr. Fox answered her.\n"


def paragraphs_model(path):
    vocab = Vocab.from_text(CORPUS)
    torch.manual_seed(3)
    model = LSTMModel(ModelConfig(vocab_size=len(vocab), embedding_dim=8, hidden_size=24, tie_embeddings=False)).eval()
    with torch.no_grad():
        model.head.weight.mul_(6.0)
        for ch, boost in ((" ", 2.5), (".", 1.5), ("T", 1.0), ("\n", 0.5)):
            model.head.bias[vocab.encode(ch)[0]] += boost
    save_model(path, model, vocab, {"corpus": "test", "text_format": "paragraphs"})


def test_sentence_stories_resume_exactly_and_report_paragraph_breaks(tmp_path, monkeypatch):
    paragraphs_model(tmp_path / "paragraphs.pt")
    monkeypatch.setenv("COLAB_WORKER_MODEL", str(tmp_path / "paragraphs.pt"))
    queue = Queue(open_store(str(tmp_path / "queue")), Timing(lease=3.0, heartbeat=0.2, poll=0.1, check=0.1))
    knobs = {"seed": "The king had three sons", "random_seed": 1234, "max_line_chars": 40}
    whole = queue.submit("story", {**knobs, "lines": 12})
    halves = queue.submit("story", {**knobs, "lines": 5})
    run_worker(queue, tmp_path, max_jobs=2)
    queue.continue_job(halves, {"lines": 7})  # a fresh batch reads the seed and the 5 lines written
    run_worker(queue, tmp_path, max_jobs=1)

    done, resumed = queue.status(whole), queue.status(halves)
    assert resumed["lines"] == done["lines"] and len(done["lines"]) == 12
    assert resumed["paragraph_ends"] == done["paragraph_ends"] != []
    assert resumed["seed_end"] == done["seed_end"] != "newline"
    assert all(0 <= i < 12 for i in done["paragraph_ends"]) and done["paragraph_ends"] == sorted(done["paragraph_ends"])
    later = queue.status(whole, after=6)
    assert later["lines"] == done["lines"][6:]
    assert later["paragraph_ends"] == [i for i in done["paragraph_ends"] if i >= 6]
    text = story_text(knobs["seed"], done["lines"], done["paragraph_ends"], done["seed_end"])
    assert "\n\n" in text and "\n\n\n" not in text and "  " not in text
