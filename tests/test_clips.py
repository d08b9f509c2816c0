"""The clip layout (N, C, T, H, W): the adapter in cvattn.clips and the contract every video module keeps."""

from __future__ import annotations

import doctest

import pytest
import torch
from torch import fx, nn

import cvattn
import cvattn.clips as clips
from cvattn.clips import ClipAdapter, FrameAdapter, from_clip_tokens, from_frames, to_clip_tokens, to_frames

VIDEO = sorted(
    i for i in cvattn.list_modules() if cvattn.get_spec(i).cls.__module__.startswith("cvattn.video.")
)


def test_module_examples_run():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(clips) if t.examples]
    assert len(tests) >= 3
    for t in tests:
        runner.run(t)
    assert runner.failures == 0


def test_frames_are_clip_major_and_round_trip():
    x = torch.randn(2, 3, 4, 5, 6)
    f = to_frames(x)
    assert f.shape == (8, 3, 5, 6)
    for n in range(2):
        for t in range(4):
            assert torch.equal(f[n * 4 + t], x[n, :, t])  # row n*T + t is frame t of clip n
    assert torch.equal(from_frames(f, 4), x)
    assert from_frames(f, 4).is_contiguous()
    with pytest.raises(ValueError, match="do not split"):
        from_frames(f, 3)


def test_clip_tokens_are_time_major_then_row_major():
    x = torch.randn(2, 3, 4, 5, 6)
    tok = to_clip_tokens(x)
    assert tok.shape == (2, 4 * 5 * 6, 3)
    t, i, j = 2, 3, 4
    assert torch.equal(tok[:, (t * 5 + i) * 6 + j], x[:, :, t, i, j])
    assert torch.equal(from_clip_tokens(tok, (4, 5, 6)), x)
    with pytest.raises(ValueError, match="do not make"):
        from_clip_tokens(tok, (4, 5, 5))


def test_check_clip_names_the_problem():
    with pytest.raises(ValueError, match=r"expected a clip \(N, C, T, H, W\), got a 4-D"):
        clips.check_clip(torch.randn(2, 3, 4, 5), 3, "X")
    with pytest.raises(ValueError, match="expected 8 channels, got 3"):
        clips.check_clip(torch.randn(2, 3, 4, 5, 5), 8, "X")
    clips.check_clip(torch.randn(2, 3, 4, 5, 5), 3, "X")


class _MixFrames(nn.Module):
    """A stand-in video module: each frame plus twice the next one (so frame order matters)."""

    def forward(self, x):
        return x + 2 * torch.roll(x, -1, dims=2)


@pytest.mark.parametrize("layout", ["frames", "ntchw"])
def test_clip_adapter_matches_the_native_call(layout):
    x = torch.randn(2, 3, 4, 5, 6)
    ref = _MixFrames()(x)
    if layout == "frames":
        out = ClipAdapter(_MixFrames(), "frames", frames=4)(to_frames(x))
        assert torch.equal(from_frames(out, 4), ref)
    else:
        out = ClipAdapter(_MixFrames(), "ntchw")(x.transpose(1, 2).contiguous())
        assert torch.equal(out.transpose(1, 2), ref)


def test_clip_adapter_refuses_bad_settings():
    with pytest.raises(ValueError, match="layout must be"):
        ClipAdapter(nn.Identity(), "nchw")
    with pytest.raises(ValueError, match="number of frames"):
        ClipAdapter(nn.Identity(), "frames")


def test_frame_adapter_is_per_frame_and_traces():
    se = cvattn.create("se", channels=16).eval()
    x = torch.randn(2, 16, 3, 6, 6)
    adapter = FrameAdapter(se).eval()
    with torch.no_grad():
        out = adapter(x)
        for t in range(3):
            torch.testing.assert_close(out[:, :, t], se(x[:, :, t]))
        torch.testing.assert_close(fx.symbolic_trace(adapter)(x), out)
    with pytest.raises(ValueError, match="expected a clip"):
        adapter(x[:, :, 0])


# ------------------------------------------------------------------------- the video modules' contract


def test_video_modules_are_the_temporal_category(catalog):
    """A module takes clips exactly when it lives in cvattn.video, and its entry is in the temporal category."""
    by_module = {m: p for p in catalog.papers for m in p.modules}
    clip_inputs = sorted(i for i in cvattn.list_modules() if len(cvattn.get_spec(i).inputs[0]) == 4)
    assert clip_inputs == VIDEO
    for module_id in VIDEO:
        assert by_module[module_id].category == "temporal", module_id


@pytest.mark.parametrize("id", VIDEO)
def test_video_module_relates_frames(id):
    """Changing one frame changes the output of another: the module works across time, not frame by frame."""
    module = cvattn.create(id).eval()
    x = cvattn.example_input(id, generator=torch.Generator().manual_seed(0))
    assert x.dim() == 5 and x.shape[2] >= 2
    y = x.clone()
    y[:, :, 0] += torch.randn_like(y[:, :, 0])
    with torch.no_grad():
        a, b = module(x), module(y)
    if cvattn.get_spec(id).kind == "attention":
        assert a.shape == x.shape
        assert not torch.allclose(a[:, :, 1:], b[:, :, 1:]), "frames 1.. ignore frame 0"
    else:
        assert not torch.allclose(a, b)


@pytest.mark.parametrize("id", VIDEO)
def test_video_module_takes_another_clip_length(id):
    """The frame count is not fixed by the default configuration (clips of 3 frames, batch 1)."""
    spec = cvattn.get_spec(id)
    module = cvattn.create(id).eval()
    c, _, h, w = spec.inputs[0]
    x = torch.randn(1, c, 3, h, w)
    with torch.no_grad():
        out = module(x)
    if spec.kind == "attention":
        assert out.shape == x.shape
