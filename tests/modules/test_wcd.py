import torch

import cvattn


def test_parameter_free_and_identity_in_eval():
    for c in (16, 64):
        m = cvattn.create("wcd", channels=c)
        assert sum(p.numel() for p in m.parameters()) == 0
        x = torch.randn(3, c, 5, 7).relu()
        assert torch.equal(m.eval()(x), x)


def test_number_of_selected_channels():
    assert cvattn.create("wcd", channels=64).num_selected == int(0.9 * 64)
    assert cvattn.create("wcd", channels=10, wrs_ratio=0.05).num_selected == 1


def test_only_active_channels_survive_and_are_not_rescaled():
    torch.manual_seed(0)
    m = cvattn.create("wcd", channels=8, wrs_ratio=0.5, q=1.0).train()
    x = torch.zeros(4, 8, 3, 5)
    active = torch.tensor([1, 4, 6, 7])
    x[:, active] = torch.rand(4, 4, 3, 5) + 0.1
    y = m(x)
    # WRS picks exactly the M = 4 channels with positive score; they carry all the score, so alpha = 1
    torch.testing.assert_close(y, x)


def test_weighted_random_selection_frequencies():
    torch.manual_seed(0)
    m = cvattn.create("wcd", channels=3, wrs_ratio=1 / 3, q=1.0).train()  # M = 1: one channel per sample
    scores = torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64)
    n = 40000
    x = scores.view(1, 3, 1, 1).expand(n, 3, 2, 2).contiguous()  # every sample has these channel means
    kept = m(x).mean((2, 3)) != 0  # (N, 3), one True per row
    assert torch.equal(kept.sum(1), torch.ones(n, dtype=torch.long))
    freq = kept.double().mean(0)
    torch.testing.assert_close(freq, scores / scores.sum(), atol=0.01, rtol=0)  # P(i) = score_i / sum


def test_random_number_generator_and_rescaling_keep_the_expected_pooled_activation():
    torch.manual_seed(0)
    c, q = 32, 0.5
    m = cvattn.create("wcd", channels=c, wrs_ratio=1.0, q=q).train()  # channel-wise dropout with keep q
    x = torch.rand(2000, c, 3, 3, dtype=torch.float64)
    y = m(x)
    mask = y.flatten(2).abs().sum(-1) != 0  # (N, C)
    assert abs(mask.double().mean().item() - q) < 0.01
    # alpha = sum_j score_j / sum_j mask_j score_j, recomputed in float64 from the surviving channels
    score = x.mean((2, 3))
    alpha = score.sum(1) / (mask * score).sum(1)
    torch.testing.assert_close(y, x * (alpha[:, None] * mask)[:, :, None, None])
    # so the total pooled activation of every sample is kept exactly
    torch.testing.assert_close(y.mean((2, 3)).sum(1), score.sum(1))
