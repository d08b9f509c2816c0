"""ACmix: local self-attention and convolution sharing one set of 1x1 projections.

Paper: "On the Integration of Self-Attention and Convolution", Xuran Pan, Chunjiang Ge, Rui Lu, Shiji Song,
Guanfu Chen, Zeyi Huang, Gao Huang, CVPR 2022, https://openaccess.thecvf.com/content/CVPR2022/html/Pan_On_the_Integration_of_Self-Attention_and_Convolution_CVPR_2022_paper.html.
Official code: https://github.com/LeapLabTHU/ACmix (``ResNet/test_bottleneck.py``, ``ACmix``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input, match_memory_format


@fx.wrap
def _position_grid(x: torch.Tensor) -> torch.Tensor:
    """``(1, 2, H, W)`` pixel coordinates in ``[-1, 1]``: channel 0 the column, channel 1 the row."""
    h, w = x.shape[-2:]
    col = torch.linspace(-1.0, 1.0, w, dtype=x.dtype, device=x.device)
    row = torch.linspace(-1.0, 1.0, h, dtype=x.dtype, device=x.device)
    return torch.stack([col.expand(h, w), row[:, None].expand(h, w)])[None]


@register("acmix", kind="attention", inputs=(64, 14, 14), channels=64)
class ACmix(nn.Module):
    """ACmix: one set of 1x1 projections feeds both a local self-attention and a shift-based convolution.

    Three 1x1 convolutions give ``q, k, v`` (``C`` channels, ``h`` heads of ``d = C / h``). *Attention
    path*: every pixel attends to its ``k_a x k_a`` neighbourhood (reflection padding) with relative
    position encoding, ``y_i = sum_j softmax_j(d^-1/2 q_i . (k_j + p_i - p_j)) v_j``, where ``p =
    W_p [x-coordinate, y-coordinate]`` is a 1x1 projection of the pixel coordinates in ``[-1, 1]``;
    a softmax over the ``k_a^2`` keys of each pixel. *Convolution path*: a 1x1 convolution ``fc`` maps the ``3h`` head features (the ``q, k, v`` of
    every head) to ``k_c^2`` features per head channel, which a grouped ``k_c x k_c`` convolution
    (initialised as the ``k_c^2`` shift kernels) aggregates: the shift-and-sum form of a ``k_c x k_c``
    convolution. Output ``alpha * y_att + beta * y_conv`` with learnt scalars (both starting at 0.5).
    Memory grows with ``H*W*C*k_a^2`` (the unfolded keys and values).

    Args:
        channels: input and output channels ``C``.
        kernel_att: attention window ``k_a`` (official: 7).
        num_heads: heads ``h`` (official: 4).
        kernel_conv: kernel ``k_c`` of the convolution path (official: 3).

    Shape:
        - Input: ``(N, C, H, W)``, ``H, W > kernel_att // 2`` (reflection padding)
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> acmix = cvattn.create("acmix", channels=64)
        >>> acmix(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Input and output channels are equal and the stride is 1 (the official class also takes
        ``out_planes`` and ``stride``). The official ``dep_conv`` is built with a bias that its
        ``reset_parameters`` then deletes (sets to ``None``); here it is built without one. Its padding is
        ``kernel_conv // 2`` (the official hard-codes 1, which keeps the size only for ``kernel_conv = 3``).

    Reference:
        Pan, Ge, Lu, Song, Chen, Huang, Huang. On the Integration of Self-Attention and Convolution.
        CVPR 2022.
    """

    def __init__(self, channels: int, kernel_att: int = 7, num_heads: int = 4, kernel_conv: int = 3) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if kernel_att < 1 or kernel_att % 2 == 0 or kernel_conv < 1 or kernel_conv % 2 == 0:
            raise ValueError(
                f"kernel_att ({kernel_att}) and kernel_conv ({kernel_conv}) must be odd and positive"
            )
        self.channels, self.num_heads, self.head_dim = channels, num_heads, channels // num_heads
        self.kernel_att, self.kernel_conv = kernel_att, kernel_conv
        self.query = nn.Conv2d(channels, channels, 1)
        self.key = nn.Conv2d(channels, channels, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.pos_proj = nn.Conv2d(2, self.head_dim, 1)  # W_p
        kk = kernel_conv * kernel_conv
        self.fc = nn.Conv2d(3 * num_heads, kk, 1, bias=False)
        self.dep_conv = nn.Conv2d(
            kk * self.head_dim,
            channels,
            kernel_conv,
            padding=kernel_conv // 2,
            groups=self.head_dim,
            bias=False,
        )
        self.rate1 = nn.Parameter(torch.empty(1))  # alpha
        self.rate2 = nn.Parameter(torch.empty(1))  # beta
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The official initialisation: both rates 0.5, ``dep_conv`` as the ``k_c^2`` shift kernels."""
        kk = self.kernel_conv * self.kernel_conv
        with torch.no_grad():
            self.rate1.fill_(0.5)
            self.rate2.fill_(0.5)
            shifts = torch.eye(kk).view(kk, self.kernel_conv, self.kernel_conv)  # shift i: a one at offset i
            self.dep_conv.weight.copy_(shifts.expand(self.channels, kk, self.kernel_conv, self.kernel_conv))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if not isinstance(x, fx.Proxy) and min(x.shape[-2:]) <= self.kernel_att // 2:
            raise ValueError(
                f"input: H and W must exceed kernel_att // 2 (reflection padding), got {tuple(x.shape)}"
            )
        n, c, h, w = x.shape
        heads, d, ka = self.num_heads, self.head_dim, self.kernel_att
        q, k, v = self.query(x), self.key(x), self.value(x)

        # attention path: each pixel attends to its ka x ka neighbourhood. The logit q_i . (k_j + p_i - p_j)
        # is computed as q_i . k_j - q_i . p_j: the term q_i . p_i is the same for every key j of pixel i,
        # and a softmax over j does not change when a constant is added (nor do its gradients), so it is
        # left out; the sums run over the head channels in the unfolded layout, without transposing it.
        pad = (ka // 2,) * 4
        p = self.pos_proj(_position_grid(x))  # (1, d, H, W)
        p_nb = F.unfold(F.pad(p, pad, mode="reflect"), ka).view(d, ka * ka, h * w)  # p_j
        k_nb = F.unfold(F.pad(k.reshape(n * heads, d, h, w), pad, mode="reflect"), ka)
        k_nb = k_nb.view(n * heads, d, ka * ka, h * w)  # k_j: (N h, d, ka^2, HW)
        v_nb = F.unfold(F.pad(v.reshape(n * heads, d, h, w), pad, mode="reflect"), ka)
        v_nb = v_nb.view(n * heads, d, ka * ka, h * w)
        q_i = q.reshape(n * heads, d, h * w) * d**-0.5  # (N h, d, HW)
        logits = (q_i.unsqueeze(2) * k_nb).sum(1) - torch.einsum("bdl,dkl->bkl", q_i, p_nb)  # (N h, ka^2, HW)
        attn = logits.softmax(dim=1)
        y_att = (attn.unsqueeze(1) * v_nb).sum(2).reshape(n, c, h, w)  # sum_j a_ij v_j

        # convolution path: the 3h head features to kc^2 shifted copies, summed by the grouped conv
        qkv = torch.cat([t.reshape(n, heads, d, h * w) for t in (q, k, v)], dim=1)  # (N, 3h, d, HW)
        f = self.fc(qkv).transpose(1, 2).reshape(n, -1, h, w)  # (N, d kc^2, H, W)
        y_conv = self.dep_conv(f)
        return match_memory_format(self.rate1 * y_att + self.rate2 * y_conv, x)
