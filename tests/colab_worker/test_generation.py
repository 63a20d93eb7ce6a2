"""StoryBatch: carried state, edits, batching, lines, reproducibility (eager CPU path)."""

import pytest
import torch

from colab_worker.checkpoint import LoadedModel, save_model
from colab_worker.cli import main
from colab_worker.generation import BatchFull, SamplingParams, StoryBatch
from colab_worker.model import LSTMModel, ModelConfig
from colab_worker.vocab import Vocab

CORPUS = ("The fox ran into the wood, and the bear sat by the river.\n"
          "\"Who is there?\" asked the old woman; nobody answered her.\n")


@pytest.fixture(scope="module")
def loaded() -> LoadedModel:
    vocab = Vocab.from_text(CORPUS)
    torch.manual_seed(7)
    config = ModelConfig(vocab_size=len(vocab), embedding_dim=8, hidden_size=24, num_layers=2, tie_embeddings=False)
    model = LSTMModel(config).eval()
    with torch.no_grad():  # sharper than at initialisation, and lines a few dozen characters long
        model.head.weight.mul_(8.0)
        model.head.bias[vocab.encode("\n")[0]] += 1.5
    return LoadedModel(model=model, vocab=vocab, config=config, metadata={})


def lines_of(batch: StoryBatch, story_id, n: int) -> list[str]:
    """Step until the story has at least ``n`` new lines; all of them (a chunk may end several)."""
    got: list[str] = []
    while len(got) < n:
        got += [line.text for line in batch.step() if line.story == story_id]
    return got


def reference_probs(loaded: LoadedModel, text: str) -> torch.Tensor:
    ids = torch.tensor([loaded.vocab.encode(text + "\n")])
    with torch.no_grad():
        logits, _ = loaded.model(ids)
    return torch.softmax(logits[0, -1], dim=0)


def test_carried_state_equals_refeeding_the_whole_story(loaded):
    batch = StoryBatch(loaded, max_batch=4, chunk=16)
    batch.add("s", "The fox ran", SamplingParams(random_seed=3))
    lines = lines_of(batch, "s", 4)
    text = "\n".join(["The fox ran", *lines])
    assert batch.text("s") == text
    torch.testing.assert_close(batch.next_token_probs("s"), reference_probs(loaded, text), rtol=1e-4, atol=1e-6)


def test_edit_of_the_last_line_refeeds_only_the_suffix_and_matches(loaded):
    batch = StoryBatch(loaded, max_batch=4, chunk=16)
    batch.add("s", "Who is there?", SamplingParams(random_seed=5))
    lines = lines_of(batch, "s", 3)
    edited = "\n".join(["Who is there?", *lines[:2], "the bear sat there"])
    batch.edit("s", edited)
    assert batch.text("s") == edited
    torch.testing.assert_close(batch.next_token_probs("s"), reference_probs(loaded, edited), rtol=1e-4, atol=1e-6)
    # An edit inside the seed starts again from the beginning and still matches.
    batch.edit("s", "Who was there?")
    torch.testing.assert_close(batch.next_token_probs("s"), reference_probs(loaded, "Who was there?"),
                               rtol=1e-4, atol=1e-6)


def test_edit_feeds_only_the_changed_suffix(loaded, monkeypatch):
    batch = StoryBatch(loaded, max_batch=2, chunk=16)
    seed = "The fox ran into the wood. " * 40
    batch.add("s", seed, SamplingParams(random_seed=1))
    lines = lines_of(batch, "s", 2)
    fed: list[int] = []
    advance = loaded.model.advance
    monkeypatch.setattr(loaded.model, "advance", lambda ids, state: fed.append(ids.shape[1]) or advance(ids, state))
    batch.edit("s", "\n".join([seed, lines[0], "and away"]))
    assert fed == [len("\nand away")]  # from the state at the end of line 1


def test_continuing_a_story_in_a_fresh_batch_gives_the_same_lines(loaded):
    params = SamplingParams(temperature=1.0, random_seed=11)
    first = StoryBatch(loaded, max_batch=2, chunk=8)
    first.add("s", "The bear", params)
    lines = lines_of(first, "s", 6)
    fresh = StoryBatch(loaded, max_batch=2, chunk=32)
    fresh.add("s", "\n".join(["The bear", *lines[:3]]), params)
    assert lines_of(fresh, "s", 3)[:3] == lines[3:6]


def test_batched_decoding_equals_decoding_alone_and_stories_join_and_leave(loaded):
    stories = {
        "a": ("The fox", SamplingParams(random_seed=1)),
        "b": ("", SamplingParams(temperature=1.2, random_seed=2, top_k=5)),
        "c": ("\"Who", SamplingParams(temperature=0.5, random_seed=3, top_p=0.9, max_line_chars=30)),
        "d": ("nobody", SamplingParams(temperature=0.0, random_seed=4)),
    }
    alone = {}
    for sid, (text, params) in stories.items():
        batch = StoryBatch(loaded, max_batch=1, chunk=16)
        batch.add(sid, text, params)
        alone[sid] = lines_of(batch, sid, 4)[:4]

    batch = StoryBatch(loaded, max_batch=3, chunk=16)
    got = {sid: [] for sid in stories}

    def run_until(sid, n):
        while len(got[sid]) < n:
            for line in batch.step():
                got[line.story].append(line.text)

    batch.add("a", *stories["a"])
    batch.add("b", *stories["b"])
    run_until("a", 2)
    batch.add("c", *stories["c"])            # joins a running batch
    run_until("b", 4)
    batch.remove("b")                         # leaves; "c" moves into its row
    assert len(batch) == 2 and "b" not in batch
    batch.add("d", *stories["d"])
    for sid in "acd":
        run_until(sid, 4)
    for sid in stories:
        assert got[sid][:4] == alone[sid], sid


def test_chunk_size_does_not_change_the_story(loaded):
    results = []
    for chunk in (1, 7, 64):
        batch = StoryBatch(loaded, max_batch=1, chunk=chunk)
        batch.add("s", "The", SamplingParams(random_seed=9))
        results.append(lines_of(batch, "s", 3)[:3])
    assert results[0] == results[1] == results[2]


def test_seed_makes_output_reproducible_and_different_seeds_differ(loaded):
    def story(seed):
        batch = StoryBatch(loaded, max_batch=1, chunk=32)
        batch.add("s", "The fox", SamplingParams(temperature=1.0, random_seed=seed))
        return lines_of(batch, "s", 3)[:3]

    assert story(42) == story(42)
    assert story(42) != story(43)


def test_no_seed_draws_one_and_reports_it(loaded):
    batch = StoryBatch(loaded, max_batch=2)
    batch.add("s", "The fox")
    seed = batch.params("s").random_seed
    assert isinstance(seed, int)
    again = StoryBatch(loaded, max_batch=2)
    again.add("s", "The fox", SamplingParams(random_seed=seed))
    assert lines_of(batch, "s", 2)[:2] == lines_of(again, "s", 2)[:2]


def test_greedy_equals_top_k_one(loaded):
    outs = []
    for params in (SamplingParams(temperature=0.0, random_seed=1), SamplingParams(top_k=1, random_seed=2)):
        batch = StoryBatch(loaded, max_batch=1)
        batch.add("s", "The bear", params)
        outs.append(lines_of(batch, "s", 3)[:3])
    assert outs[0] == outs[1]


def test_lines_respect_max_length_and_are_never_blank(loaded):
    batch = StoryBatch(loaded, max_batch=2, chunk=32)
    batch.add("short", "The", SamplingParams(temperature=1.5, random_seed=1, max_line_chars=12))
    batch.add("long", "", SamplingParams(temperature=1.5, random_seed=2))
    got = []
    while len(got) < 20:
        got += [(line.story, line.text) for line in batch.step()]
    assert all(len(line) <= 12 for sid, line in got if sid == "short")
    assert any(len(line) == 12 for sid, line in got if sid == "short")
    assert all(len(line) <= SamplingParams().max_line_chars for sid, line in got)
    assert all(line.strip() for sid, line in got)
    assert all("\n" not in line for sid, line in got)


def test_unseen_characters_empty_and_huge_seeds(loaded):
    batch = StoryBatch(loaded, max_batch=4, chunk=32)
    batch.add("unseen", "Ünïcödé ✨ 漢字 — “quoted”\r\n\t", SamplingParams(random_seed=1))
    batch.add("empty", "", SamplingParams(random_seed=2))
    # longer than a story's seed may be, and fed to the model in several pieces (``advance`` reads
    # 4,096 characters at a time)
    huge = ("The fox ran into the wood, and the bear sat by the river.\n" * 200)[:10_000]
    batch.add("huge", huge, SamplingParams(random_seed=3))
    assert batch.text("huge") == huge
    torch.testing.assert_close(batch.next_token_probs("huge"), reference_probs(loaded, huge), rtol=1e-3, atol=1e-5)
    got = {}
    while len(got) < 3:
        got.update((line.story, line.text) for line in batch.step())
    assert all(isinstance(line, str) and "\ufffd" not in line for line in got.values())


def test_batch_limits_and_unknown_ids(loaded):
    batch = StoryBatch(loaded, max_batch=1)
    assert batch.step() == []
    batch.add("a", "x")
    with pytest.raises(BatchFull):
        batch.add("b", "y")
    with pytest.raises(KeyError):
        batch.add("a", "again")
    with pytest.raises(KeyError):
        batch.remove("nope")
    batch.remove("a")
    assert len(batch) == 0
    with pytest.raises(ValueError, match="CUDA"):
        StoryBatch(loaded, use_cuda_graph=True)


def test_generate_command_prints_a_reproducible_story(loaded, tmp_path, capsys):
    path = tmp_path / "tiny.pt"
    save_model(path, loaded.model, loaded.vocab, {"corpus": "test"})
    command = ["generate", "--model", str(path), "--seed", "The fox", "--lines", "4", "--random-seed", "5",
               "--max-line-chars", "40"]
    assert main(command) == 0
    first = capsys.readouterr().out
    printed = first.split("\n")
    assert printed[0] == "The fox" and len(printed) == 6 and printed[-1] == ""
    assert all(0 < len(line) <= 40 for line in printed[1:5])
    assert main(command) == 0
    assert capsys.readouterr().out == first


def test_generate_command_reports_a_missing_model(tmp_path, capsys):
    assert main(["generate", "--model", str(tmp_path / "no.pt")]) == 2
    err = capsys.readouterr().err
    assert "no model file" in err and "Traceback" not in err
