import math

import torch

import cvattn


def _spp(frame, levels):
    """Spatial pyramid max pooling of one frame (C, H, W), adaptive windows written out."""
    c, h, w = frame.shape
    parts = []
    for level in levels:
        cells = torch.empty(c, level, level, dtype=frame.dtype)
        for i in range(level):
            for j in range(level):
                rows = slice(math.floor(i * h / level), math.ceil((i + 1) * h / level))
                cols = slice(math.floor(j * w / level), math.ceil((j + 1) * w / level))
                cells[:, i, j] = frame[:, rows, cols].amax((1, 2))
        parts.append(cells.flatten())
    return torch.cat(parts)


def _reference_pair(m, probe, gallery):
    """One pair (C, T, H, W) each, eval mode: SPP + FC per frame, the recurrence, then attentive pooling."""

    def sequence(clip):
        rows, r = [], None
        for t in range(clip.shape[1]):
            o = m.embed.weight @ _spp(clip[:, t], m.levels) + m.embed.bias
            r = o + m.start if r is None else o + m.feedback.weight @ torch.tanh(r) + m.feedback.bias
            rows.append(r)
        return torch.stack(rows)  # (T, D)

    p, g = sequence(probe), sequence(gallery)
    a = torch.tanh(p @ m.U @ g.T)
    a_p = torch.softmax(a.max(1).values, 0)
    a_g = torch.softmax(a.max(0).values, 0)
    return torch.stack((a_p @ p, a_g @ g))


def test_parameter_count_closed_form():
    for c, d, levels in [(32, 128, (8, 4, 2, 1)), (16, 64, (4, 2, 1)), (8, 32, (1,))]:
        m = cvattn.create("jstpn", channels=c, embed_dim=d, levels=levels)
        s = sum(level * level for level in levels)
        # frame embedding, recurrent feedback, first-step bias, alignment matrix U
        assert sum(p.numel() for p in m.parameters()) == (c * s * d + d) + (d * d + d) + d + d * d


def test_matches_written_out_reference():
    torch.manual_seed(0)
    m = cvattn.create("jstpn", channels=8, embed_dim=16).double().eval()
    probe = torch.randn(2, 8, 5, 11, 9, dtype=torch.float64)
    gallery = torch.randn(2, 8, 3, 11, 9, dtype=torch.float64)
    out = m(probe, gallery)
    assert out.shape == (2, 2, 16)
    for n in range(2):
        torch.testing.assert_close(out[n], _reference_pair(m, probe[n], gallery[n]))


def test_each_pooling_is_guided_by_the_other_sequence():
    torch.manual_seed(1)
    m = cvattn.create("jstpn", channels=8, embed_dim=16).double().eval()
    with torch.no_grad():
        m.U.mul_(50)  # a sharper alignment, so the temporal weights move visibly
    probe = torch.randn(1, 8, 6, 8, 8, dtype=torch.float64)
    g1, g2 = torch.randn(2, 1, 8, 6, 8, 8, dtype=torch.float64)
    v1, v2 = m(probe, g1), m(probe, g2)
    assert not torch.allclose(v1[:, 0], v2[:, 0]), "the probe's vector ignores the gallery"


def test_probe_alone_is_matched_with_itself():
    m = cvattn.create("jstpn", channels=8, embed_dim=16).eval()
    x = torch.randn(2, 8, 4, 8, 6)
    torch.testing.assert_close(m(x), m(x, x))
