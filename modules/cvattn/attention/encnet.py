"""Context encoding module of EncNet: an Encoding layer whose residual codes drive an SE-style channel gate.

Paper: "Context Encoding for Semantic Segmentation", Hang Zhang, Kristin Dana, Jianping Shi, Zhongyue Zhang,
Xiaogang Wang, Ambrish Tyagi, Amit Agrawal, CVPR 2018, https://arxiv.org/abs/1803.08904.
Official code: https://github.com/zhanghang1989/PyTorch-Encoding (``encoding/models/sseg/encnet.py``,
``EncModule``; the Encoding layer in ``encoding/nn/encoding.py``, ``Encoding``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, match_memory_format
from ..tokens import to_tokens


@register("encnet", kind="attention", inputs=(64, 14, 14), channels=64, num_codes=32)
class ContextEncoding(nn.Module):
    """EncNet context encoding module: soft-assigned residuals to learned codewords gate the channels.

    The input is projected by a 1x1 convolution, batch norm and ReLU to features ``x_i`` (``i`` over the
    ``H*W`` positions). The Encoding layer learns ``K`` codewords ``d_k`` and smoothing factors ``s_k`` and
    aggregates the residuals ``r_ik = x_i - d_k`` with soft assignments,
    ``a_ik = softmax_k(s_k ||r_ik||^2)``, ``e_k = sum_i a_ik r_ik``. The ``K`` codes are batch-normalised
    (one channel per codeword), passed through ReLU and averaged into ``e = mean_k e_k``; the channel gate is
    ``gamma = sigmoid(W e + b)`` and the output is ``ReLU(x + x * gamma)`` on the module's input ``x``.
    Memory grows with ``H*W*K`` (the assignment weights).

    Args:
        channels: input channels ``C`` (also the codeword dimension; EncNet: 512).
        num_codes: number of codewords ``K`` (official: 32).
        act_layer: activation after the projection and after the code norm (ReLU).
        norm_layer: batch norm after the 1x1 projection (official: the network's BatchNorm).
        code_norm_layer: batch norm over the ``K`` codes, one channel per codeword (official: the same
            BatchNorm applied to the ``(N, K, C)`` codes, i.e. a BatchNorm1d over ``K``).
        gate_layer: gating function of the channel gate (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> enc = cvattn.create("encnet", channels=64, num_codes=32)
        >>> enc(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Only the feature output is returned; the official module can also return the encoded vector ``e``
        through an extra linear layer for the semantic-encoding loss (``se_loss=True``), which belongs to
        the segmentation head, not the attention. As in the official code, the smoothing factors enter the
        softmax with their sign (initialised in ``U(-1, 0)``), i.e. ``s_k`` here is ``-s_k`` of the paper's
        ``exp(-s_k ||r_ik||^2)``. Distances and residual sums are computed by matrix products
        (``||x||^2 - 2 x.d + ||d||^2``, ``A^T X - (sum_i a_ik) d_k``) instead of the official
        ``(N, H*W, K, C)`` expansion.

    Reference:
        Zhang, Dana, Shi, Zhang, Wang, Tyagi, Agrawal. Context Encoding for Semantic Segmentation. CVPR 2018.
    """

    def __init__(
        self,
        channels: int,
        num_codes: int = 32,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
        code_norm_layer: LayerType = nn.BatchNorm1d,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        if channels < 1 or num_codes < 1:
            raise ValueError(f"channels ({channels}) and num_codes ({num_codes}) must be positive")
        self.channels, self.num_codes = channels, num_codes
        self.proj = nn.Conv2d(channels, channels, 1, bias=False)
        self.proj_bn = norm_layer(channels)
        self.proj_act = create_act(act_layer, inplace=True)
        std = (num_codes * channels) ** -0.5
        self.codewords = nn.Parameter(torch.empty(num_codes, channels).uniform_(-std, std))  # d_k: (K, C)
        self.scale = nn.Parameter(torch.empty(num_codes).uniform_(-1.0, 0.0))  # s_k: (K,)
        self.code_bn = code_norm_layer(num_codes)
        self.code_act = create_act(act_layer, inplace=True)
        self.fc = nn.Linear(channels, channels)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        feat = to_tokens(self.proj_act(self.proj_bn(self.proj(x))))  # x_i: (N, HW, C)
        d = self.codewords  # (K, C)
        # s_k ||x_i - d_k||^2 as matrix products: (N, HW, K)
        dist = (feat * feat).sum(-1, keepdim=True) - 2.0 * feat @ d.t() + (d * d).sum(-1)
        a = torch.softmax(dist * self.scale, dim=-1)  # a_ik: (N, HW, K)
        # e_k = sum_i a_ik (x_i - d_k) = (A^T X)_k - (sum_i a_ik) d_k: (N, K, C)
        codes = a.transpose(1, 2) @ feat - a.sum(1).unsqueeze(-1) * d
        e = self.code_act(self.code_bn(codes)).mean(1)  # (N, C)
        gamma = self.gate(self.fc(e))  # (N, C)
        y = torch.relu(x * (1 + gamma)[:, :, None, None])  # x + x * gamma with one full-size product
        return match_memory_format(y, x)
