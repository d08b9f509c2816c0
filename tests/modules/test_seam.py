import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c, d in [(195, 192), (32, 16)]:
        m = cvattn.create("seam", channels=c, embed_channels=d)
        assert sum(p.numel() for p in m.parameters()) == c * d


def test_matches_pixel_loop_reference():
    m = cvattn.create("seam", channels=5, embed_channels=4).double()
    x = torch.randn(2, 5, 3, 4, dtype=torch.float64)
    cam = torch.rand(2, 3, 3, 4, dtype=torch.float64)  # same size: no resizing
    emb = torch.einsum("dc,nchw->ndhw", m.theta.weight.flatten(1), x).reshape(2, 4, 12)
    out = torch.zeros(2, 3, 12, dtype=torch.float64)
    for b in range(2):
        f = [emb[b, :, i] / (emb[b, :, i].norm() + 1e-5) for i in range(12)]
        for j in range(12):
            a = torch.stack([torch.clamp(f[i] @ f[j], min=0) for i in range(12)])  # a_ij over sources i
            out[b, :, j] = (cam[b].reshape(3, 12) * (a / (a.sum() + 1e-5))).sum(1)
    torch.testing.assert_close(m(x, cam), out.reshape(2, 3, 3, 4))


def test_cam_is_resized_to_the_features():
    m = cvattn.create("seam", channels=6, embed_channels=4).double()
    x = torch.randn(1, 6, 8, 10, dtype=torch.float64)
    small = torch.rand(1, 2, 4, 5, dtype=torch.float64)
    big = F.interpolate(small, (8, 10), mode="bilinear", align_corners=True)
    torch.testing.assert_close(m(x, small), m(x, big))


def test_uniform_cam_stays_uniform():
    # the affinities of every target pixel are normalised to (almost) one, so a constant map is kept
    m = cvattn.create("seam", channels=8, embed_channels=8).double()
    x = torch.randn(2, 8, 5, 6, dtype=torch.float64)
    cam = torch.full((2, 4, 5, 6), 0.7, dtype=torch.float64)
    torch.testing.assert_close(m(x, cam), cam, atol=1e-4, rtol=0)
