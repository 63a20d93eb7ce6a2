"""Sampling knobs and the counter-based noise."""

import math

import pytest
import torch

from colab_worker.sampling import (SamplingParams, filter_top_k_top_p, gumbel_noise, hash32, hash32_wrapping,
                                   seed32, uniform_noise)


def lowbias32(x: int) -> int:
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    return x ^ (x >> 16)


def test_tensor_hash_matches_the_integer_definition():
    values = [0, 1, 2, 12345, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 987654321]
    assert hash32(torch.tensor(values)).tolist() == [lowbias32(v) for v in values]


def test_int32_hash_has_the_same_bits_as_the_integer_definition():
    values = [0, 1, 2, 12345, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 987654321]
    values += torch.randint(0, 2**32, (1001,), generator=torch.Generator().manual_seed(3)).tolist()
    as_int32 = torch.tensor([v - 2**32 if v >= 2**31 else v for v in values], dtype=torch.int32)
    hashed = hash32_wrapping(as_int32).to(torch.int64) & 0xFFFFFFFF
    assert hashed.tolist() == [lowbias32(v) for v in values]


def test_noise_is_uniform_deterministic_and_seed_dependent():
    positions = torch.arange(4000).view(1, -1)
    u = uniform_noise(torch.tensor([seed32(1)]), positions, 50)
    assert u.shape == (1, 4000, 50)
    assert 0.0 < u.min() and u.max() < 1.0
    assert abs(u.mean().item() - 0.5) < 0.01
    assert abs(u.var().item() - 1 / 12) < 0.005
    assert torch.equal(u, uniform_noise(torch.tensor([seed32(1)]), positions, 50))
    other = uniform_noise(torch.tensor([seed32(2)]), positions, 50)
    assert (u != other).float().mean() > 0.99
    assert abs(torch.corrcoef(torch.stack([u.flatten(), other.flatten()]))[0, 1].item()) < 0.02


def test_seed32_uses_all_63_bits():
    assert len({seed32(s) for s in (1, 1 + 2**32, 1 + 2**40, 2**62)}) == 4


def test_gumbel_max_draws_from_the_softmax():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    n = 20_000
    noise = gumbel_noise(torch.tensor([seed32(5)]), torch.arange(n).view(1, -1), 4)[0]
    freq = torch.bincount((logits + noise).argmax(dim=1), minlength=4).float() / n
    expected = torch.softmax(logits, dim=0)
    assert torch.allclose(freq, expected, atol=0.015)
    # Lower temperature sharpens: the likeliest character is drawn more often.
    cold = torch.bincount((logits / 0.5 + noise).argmax(dim=1), minlength=4).float() / n
    assert cold[0] > freq[0] + 0.1
    assert torch.allclose(cold, torch.softmax(logits / 0.5, dim=0), atol=0.015)


def kept(scores, top_k=0, top_p=1.0):
    out = filter_top_k_top_p(scores.view(1, -1), torch.tensor([top_k]), torch.tensor([top_p]))[0]
    return [i for i, v in enumerate(out.tolist()) if v != -math.inf]


def test_top_k_keeps_the_k_likeliest():
    scores = torch.tensor([0.1, 3.0, 2.0, -1.0, 1.0])
    assert kept(scores, top_k=1) == [1]
    assert kept(scores, top_k=3) == [1, 2, 4]
    assert kept(scores, top_k=0) == [0, 1, 2, 3, 4]
    assert kept(scores, top_k=99) == [0, 1, 2, 3, 4]


def test_top_p_keeps_the_smallest_set_reaching_p():
    scores = torch.log(torch.tensor([0.15, 0.5, 0.05, 0.3]))
    assert kept(scores, top_p=0.5) == [1]
    assert kept(scores, top_p=0.79) == [1, 3]
    assert kept(scores, top_p=0.81) == [0, 1, 3]
    assert kept(scores, top_p=1.0) == [0, 1, 2, 3]
    assert kept(scores, top_k=2, top_p=0.9) == [1, 3]  # top-p applies to the renormalised top-k


def test_filters_are_per_row_and_respect_excluded_entries():
    scores = torch.tensor([[1.0, 2.0, 3.0], [3.0, -math.inf, 1.0]])
    out = filter_top_k_top_p(scores, torch.tensor([1, 0]), torch.tensor([1.0, 0.5]))
    assert out[0].tolist() == [-math.inf, -math.inf, 3.0]
    assert out[1].tolist() == [3.0, -math.inf, -math.inf]


@pytest.mark.parametrize("kwargs", [
    {"temperature": -0.1}, {"temperature": 11}, {"top_k": -1}, {"top_k": 2.5}, {"top_p": 0.0},
    {"top_p": 1.5}, {"random_seed": -1}, {"random_seed": 2**63}, {"random_seed": "7"},
    {"max_line_chars": 0}, {"max_line_chars": 10_001},
])
def test_bad_sampling_params_are_refused_with_a_clear_message(kwargs):
    flag = "--" + next(iter(kwargs)).replace("_", "-")  # named as colab-worker generate's flag
    with pytest.raises(ValueError, match=flag):
        SamplingParams(**kwargs)


def test_with_seed_fills_in_a_seed_once():
    params = SamplingParams().with_seed()
    assert isinstance(params.random_seed, int)
    assert params.with_seed() is params
    assert SamplingParams(random_seed=3).with_seed().random_seed == 3
