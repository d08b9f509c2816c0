"""Clip layouts: the one adapter between cvattn's video modules and other video code.

cvattn's video modules (``cvattn.video``, the catalogue's "Temporal and spatio-temporal attention") take and
return clips ``(N, C, T, H, W)``: batch, channels, frames, height, width, the layout of ``nn.Conv3d``, PyTorchVideo
and SlowFast. Two other layouts are common:

- **frames** ``(N*T, C, H, W)``: the frames of each clip stacked along the batch, clip-major (row ``n*T + t`` is
  frame ``t`` of clip ``n``), as in TSN, TSM and TIN, where a 2-D backbone sees every frame;
- **time-major** ``(N, T, C, H, W)``: what video data loaders usually yield.

The functions here convert between the three, :class:`ClipAdapter` lets code that keeps one of the other two layouts
call a video module, and :class:`FrameAdapter` applies any 2-D cvattn module to every frame of a clip::

    >>> import torch, cvattn
    >>> from cvattn.clips import ClipAdapter, FrameAdapter, from_frames, to_frames
    >>> clip = torch.randn(2, 16, 4, 7, 9)           # (N, C, T, H, W)
    >>> frames = to_frames(clip)                       # (N*T, C, H, W)
    >>> frames.shape
    torch.Size([8, 16, 7, 9])
    >>> torch.equal(from_frames(frames, 4), clip)
    True
    >>> FrameAdapter(cvattn.create("se", channels=16))(clip).shape
    torch.Size([2, 16, 4, 7, 9])

Tokens of a clip, where a module needs them, are ``(N, T*H*W, C)`` in time-major, then row-major order (token
``(t*H + i)*W + j`` is frame ``t``, row ``i``, column ``j``), written by :func:`to_clip_tokens`.
"""

from __future__ import annotations

import torch
from torch import fx, nn

LAYOUTS = ("ncthw", "ntchw", "frames")


def check_clip(x: torch.Tensor, channels: int | None, name: str) -> None:
    """Raise ``ValueError`` unless ``x`` is a clip ``(N, C, T, H, W)`` with ``channels`` channels."""
    if isinstance(x, fx.Proxy):  # while torch.fx traces, shapes are symbolic
        return
    if x.dim() != 5:
        raise ValueError(
            f"{name}: expected a clip (N, C, T, H, W), got a {x.dim()}-D tensor {tuple(x.shape)}"
        )
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name}: expected {channels} channels, got {x.shape[1]} (input {tuple(x.shape)})")


def to_frames(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, T, H, W)`` clips to ``(N*T, C, H, W)`` frames, clip-major."""
    n, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(n * t, c, h, w)


def from_frames(x: torch.Tensor, frames: int) -> torch.Tensor:
    """``(N*T, C, H, W)`` frames (clip-major) back to ``(N, C, T, H, W)`` clips of ``frames`` frames."""
    nt, c, h, w = x.shape
    if not isinstance(x, fx.Proxy) and nt % frames:
        raise ValueError(f"{nt} frames do not split into clips of {frames} frames")
    return x.reshape(nt // frames, frames, c, h, w).transpose(1, 2).contiguous()


def to_clip_tokens(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, T, H, W)`` clips to ``(N, T*H*W, C)`` tokens (time-major, then row-major)."""
    return x.flatten(2).transpose(1, 2)


def from_clip_tokens(t: torch.Tensor, size: tuple[int, int, int]) -> torch.Tensor:
    """``(N, T*H*W, C)`` tokens back to an ``(N, C, T, H, W)`` clip; ``size`` is ``(T, H, W)``."""
    frames, h, w = size
    if not isinstance(t, fx.Proxy) and t.shape[1] != frames * h * w:
        raise ValueError(f"{t.shape[1]} tokens do not make a {frames}x{h}x{w} clip")
    return t.transpose(1, 2).reshape(t.shape[0], t.shape[2], frames, h, w)


class ClipAdapter(nn.Module):
    """Call a video module ``(N, C, T, H, W) -> (N, C', T', H', W')`` from code that keeps another layout.

    Args:
        module: a cvattn video module (or any module on ``(N, C, T, H, W)`` clips).
        layout: ``"ntchw"`` (time-major clips) or ``"frames"`` (``(N*T, C, H, W)``, as in TSM; needs ``frames``).
        frames: frames per clip, for ``layout="frames"``.

    Shape:
        - input and output: ``(N, T, C, H, W)`` for ``"ntchw"``, ``(N*T, C, H, W)`` for ``"frames"``.

    Examples:
        >>> import torch, cvattn
        >>> from cvattn.clips import ClipAdapter
        >>> inner = nn.Conv3d(8, 8, 1)
        >>> ClipAdapter(inner, "frames", frames=4)(torch.randn(12, 8, 5, 5)).shape
        torch.Size([12, 8, 5, 5])
    """

    def __init__(self, module: nn.Module, layout: str = "frames", frames: int | None = None) -> None:
        super().__init__()
        if layout not in LAYOUTS[1:]:
            raise ValueError(f"layout must be one of {LAYOUTS[1:]}, got {layout!r}")
        if layout == "frames" and not (isinstance(frames, int) and frames > 0):
            raise ValueError(f"layout 'frames' needs the number of frames per clip, got frames={frames!r}")
        self.module = module
        self.layout = layout
        self.frames = frames

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.layout == "ntchw":
            return self.module(x.transpose(1, 2)).transpose(1, 2).contiguous()
        y = self.module(from_frames(x, self.frames))
        return to_frames(y)


class FrameAdapter(nn.Module):
    """Apply a 2-D module ``(N, C, H, W) -> (N, C', H', W')`` to every frame of a clip ``(N, C, T, H, W)``.

    Args:
        module: any cvattn module (or other module) on feature maps; it sees the ``N*T`` frames as one batch.

    Shape:
        - input: ``(N, C, T, H, W)``; output: ``(N, C', T, H', W')``.

    Examples:
        >>> import torch, cvattn
        >>> from cvattn.clips import FrameAdapter
        >>> FrameAdapter(cvattn.create("eca", channels=32))(torch.randn(1, 32, 3, 8, 8)).shape
        torch.Size([1, 32, 3, 8, 8])
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_clip(x, None, type(self).__name__)
        return from_frames(self.module(to_frames(x)), x.shape[2])
