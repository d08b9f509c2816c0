"""SEAM's pixel correlation module (PCM): class activation maps refined by feature affinities.

Paper: "Self-supervised Equivariant Attention Mechanism for Weakly Supervised Semantic Segmentation", Yude Wang,
Jie Zhang, Meina Kan, Shiguang Shan, Xilin Chen, CVPR 2020, https://arxiv.org/abs/2004.04581.
Official code: https://github.com/YudeWang/SEAM (``network/resnet38_SEAM.py``: ``Net.PCM`` and its ``f9``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input


@register(
    "seam",
    kind="fusion",
    inputs=((195, 14, 14), (21, 7, 7)),
    odd_inputs=((195, 13, 17), (21, 7, 9)),
    channels=195,
)
class PixelCorrelationModule(nn.Module):
    """SEAM PCM: every pixel's class scores re-estimated from the pixels whose features resemble its own.

    The features ``x`` (in SEAM: the image and two backbone stages, 3 + 64 + 128 channels at stride 8) are
    embedded by a 1x1 convolution ``theta`` without bias and L2-normalised per position,
    ``f_i = theta(x)_i / (||theta(x)_i|| + 1e-5)``. The affinities are the rectified cosine similarities
    ``a_ij = ReLU(f_i^T f_j)``, normalised over the source pixels ``i``, and the refined map is
    ``y_j = sum_i cam_i a_ij / (sum_i a_ij + 1e-5)`` — a self-attention whose query and key are the embedded
    features, whose values are the CAM and whose softmax is replaced by ReLU and a sum. The CAM is first
    resized to the features' size (bilinear, corners aligned).

    Args:
        channels: feature channels ``C`` (SEAM: 195).
        embed_channels: channels of the embedding ``theta`` (SEAM: 192).

    Shape:
        - Input: ``x``: ``(N, C, H, W)`` features; ``cam``: ``(N, K, h, w)`` class activation maps (any ``K``,
          any size; SEAM passes the max-normalised, detached CAM of the ``K = 21`` VOC classes)
        - Output: ``(N, K, H, W)``, the refined CAM at the features' resolution

    Examples:
        >>> import torch, cvattn
        >>> pcm = cvattn.create("seam", channels=195)
        >>> pcm(torch.randn(2, 195, 28, 28), torch.rand(2, 21, 28, 28)).shape
        torch.Size([2, 21, 28, 28])

    Deviations:
        Inputs are ``(features, cam)``, the official method's ``PCM(cam, f)`` swapped (fusion modules here
        take the feature map first). The normalisation over source pixels divides the product ``cam @ a``
        instead of the ``HW x HW`` affinity matrix (the same numbers, one ``HW x HW`` pass fewer). The
        embedding starts as the official one, Xavier-uniform with gain 4.

    Reference:
        Wang et al. Self-supervised Equivariant Attention Mechanism for Weakly Supervised Semantic
        Segmentation. CVPR 2020.
    """

    def __init__(self, channels: int, embed_channels: int = 192) -> None:
        super().__init__()
        self.channels = channels
        self.theta = nn.Conv2d(channels, embed_channels, 1, bias=False)  # official f9
        nn.init.xavier_uniform_(self.theta.weight, gain=4)

    def forward(self, x: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels, name="x")
        check_input(cam, name="cam")
        n, _, h, w = x.shape
        cam = F.interpolate(cam, (h, w), mode="bilinear", align_corners=True).flatten(2)  # (N, K, HW)
        f = self.theta(x).flatten(2)  # (N, D, HW)
        f = f / (torch.linalg.vector_norm(f, dim=1, keepdim=True) + 1e-5)
        aff = F.relu(f.transpose(1, 2) @ f, inplace=True)  # a_ij: (N, HW_i, HW_j)
        y = (cam @ aff) / (aff.sum(1, keepdim=True) + 1e-5)  # normalised over the source pixels i
        return y.reshape(n, -1, h, w)
