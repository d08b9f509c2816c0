"""Self-, grounding and rendering transformers of the Feature Pyramid Transformer (FPT).

Paper: "Feature Pyramid Transformer", Dong Zhang, Hanwang Zhang, Jinhui Tang, Meng Wang, Xiansheng Hua, Qianru Sun,
ECCV 2020, https://arxiv.org/abs/2007.09451. Official code: https://github.com/ZHANGDONG-NJUST/FPT
(``lib/modeling/self_trans.py``, ``grounding_trans.py``, ``rendering_trans.py``; wired in ``FPT_a.py``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, LayerType, check_input, get_layer, match_memory_format


@register("fpt-self", kind="attention", inputs=(64, 16, 16), channels=64)
class FPTSelfTransformer(nn.Module):
    """FPT self-transformer (ST): non-local attention within one level with a mixture of softmaxes.

    Queries ``q = f(X)``, keys ``k = f(pool(X))`` (the same 1x1 convolution ``f``; ``pool``: 3x3
    average pooling with stride 2) and values ``v = g(pool(X))``. The query/key channels are split
    into ``m`` parts; each part gives an attention ``softmax(q_i k_i^T / sqrt(d_k))`` and the parts are
    mixed by ``pi = softmax(w^T mean(q))`` (mixture of softmaxes, MoS); output
    ``X + BN(W_o sum_i pi_i A_i v)``. Memory grows with ``(H*W)^2 / 4``.

    Args:
        channels: channels ``C`` of the level.
        num_heads: heads (FPT: 1).
        num_mixtures: ``m``, softmaxes in the mixture (FPT: 2).
        key_channels: query/key depth per head ``d_k`` (FPT: ``C``).
        value_channels: value depth per head ``d_v`` (FPT: ``C``).
        pooling: average-pool keys and values (official default).
        attn_drop: dropout on the attention weights (official: 0.1).
        norm_layer: normalisation of the output (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> st = cvattn.create("fpt-self", channels=64)
        >>> st(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        Pooled keys are reshaped from their actual size (the official ``h * w // 4`` view fails on odd
        sizes). The weighted mixture of attention maps is applied as the same mixture of attention
        outputs (equal by linearity), so each softmax runs in ``scaled_dot_product_attention``.

    Reference:
        Zhang, Zhang, Tang, Wang, Hua, Sun. Feature Pyramid Transformer. ECCV 2020.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 1,
        num_mixtures: int = 2,
        key_channels: int | None = None,
        value_channels: int | None = None,
        pooling: bool = True,
        attn_drop: float = 0.1,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        dk, dv = key_channels or channels, value_channels or channels
        if dk % num_mixtures:
            raise ValueError(f"key_channels ({dk}) must be divisible by num_mixtures ({num_mixtures})")
        self.channels, self.num_heads, self.num_mixtures = channels, num_heads, num_mixtures
        self.dk, self.dv, self.attn_drop = dk, dv, attn_drop
        self.pool = nn.AvgPool2d(3, 2, 1, count_include_pad=False) if pooling else nn.Identity()
        self.conv_qk = nn.Conv2d(channels, num_heads * dk, 1)  # shared by queries and keys
        self.conv_v = nn.Conv2d(channels, num_heads * dv, 1)
        nn.init.normal_(self.conv_qk.weight, std=math.sqrt(2.0 / (channels + dk)))
        nn.init.normal_(self.conv_v.weight, std=math.sqrt(2.0 / (channels + dv)))
        self.mixture = nn.Parameter(
            torch.empty(num_mixtures, dk).uniform_(-(num_mixtures**-0.5), num_mixtures**-0.5)
        )
        self.conv_out = nn.Conv2d(num_heads * dv, channels, 1, bias=False)
        self.norm = norm_layer(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        b, m = x.size(0) * self.num_heads, self.num_mixtures
        x_pool = self.pool(x)
        q = self.conv_qk(x).reshape(b, self.dk, -1)  # (B', d_k, N)
        k = self.conv_qk(x_pool).reshape(b, m, self.dk // m, -1).transpose(2, 3)  # (B', m, N2, d_k/m)
        v = self.conv_v(x_pool).reshape(b, 1, self.dv, -1).transpose(2, 3)  # (B', 1, N2, d_v)
        pi = torch.softmax(
            torch.matmul(self.mixture.to(q.dtype), q.mean(2, keepdim=True)), dim=1
        )  # (B', m, 1)
        q = q.reshape(b, m, self.dk // m, -1).transpose(2, 3)  # (B', m, N, d_k/m)
        drop = self.attn_drop if self.training else 0.0
        out = F.scaled_dot_product_attention(
            q, k, v.expand(-1, m, -1, -1), dropout_p=drop, scale=self.dk**-0.5
        )
        out = (out * pi.unsqueeze(-1)).sum(1)  # sum_i pi_i A_i v: (B', N, d_v)
        out = out.transpose(1, 2).reshape(x.size(0), self.num_heads * self.dv, x.shape[2], x.shape[3])
        return self.norm(self.conv_out(match_memory_format(out, x))) + x


@register("fpt-grounding", kind="fusion", inputs=((64, 16, 16), (64, 8, 8)), channels=64)
class FPTGroundingTransformer(nn.Module):
    """FPT grounding transformer (GT): a finer level queries a coarser one (top-down non-local).

    Queries ``q = theta(X^f)`` from the finer map, keys ``k = phi(X^c)`` and values ``v = g(X^c)`` from
    the coarser one (1x1 convolutions to ``C/2``). The official FPT uses the normalised dot product
    ``s_ij = q_i . k_j / N_c``; the paper writes the negative squared Euclidean distance followed by
    a softmax, ``softmax_j(-||q_i - k_j||^2)`` (``mode="euclidean"``). Output ``BN(W_z sum_j s_ij v_j)``
    at the finer resolution. Memory grows with ``(H_f W_f)(H_c W_c)``.

    Args:
        channels: channels ``C`` of both levels.
        inter_channels: width of ``q, k, v`` (default ``C // 2``).
        mode: ``"dot"`` (official code) or ``"euclidean"`` (paper's equation).
        norm_layer: normalisation after ``W_z`` (BatchNorm2d).
        zero_init: start the output BN at zero, as the official code does.

    Shape:
        - Input: finer ``(N, C, H, W)``, coarser ``(N, C, h, w)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gt = cvattn.create("fpt-grounding", channels=64)
        >>> gt(torch.randn(2, 64, 16, 16), torch.randn(2, 64, 8, 8)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        ``zero_init`` is off by default: with the official zero-initialised BN no gradient reaches the
        other layers at the first step.

    Reference:
        Zhang, Zhang, Tang, Wang, Hua, Sun. Feature Pyramid Transformer. ECCV 2020.
    """

    def __init__(
        self,
        channels: int,
        inter_channels: int | None = None,
        mode: str = "dot",
        norm_layer: LayerType = nn.BatchNorm2d,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        if mode not in ("dot", "euclidean"):
            raise ValueError(f"mode must be 'dot' or 'euclidean', got {mode!r}")
        self.channels, self.mode = channels, mode
        inter = inter_channels or channels // 2
        self.theta = nn.Conv2d(channels, inter, 1)
        self.phi = nn.Conv2d(channels, inter, 1)
        self.g = nn.Conv2d(channels, inter, 1)
        self.W_z = nn.Conv2d(inter, channels, 1)
        self.norm = norm_layer(channels)
        if zero_init:
            nn.init.zeros_(self.norm.weight)
            nn.init.zeros_(self.norm.bias)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        check_input(y, self.channels, name="coarse input")
        q = self.theta(x).flatten(2).transpose(1, 2)  # (N, HW, C')
        k = self.phi(y).flatten(2).transpose(1, 2)  # (N, hw, C')
        v = self.g(y).flatten(2).transpose(1, 2)  # (N, hw, C')
        if self.mode == "dot":
            s = torch.bmm(q, k.transpose(1, 2)) / k.size(1)  # q . k / N_c, no softmax
            out = torch.bmm(s, v)
        else:  # softmax(-|q - k|^2) = softmax(2 q.k - |k|^2): the |q|^2 term cancels
            bias = -k.square().sum(-1).unsqueeze(1)  # (N, 1, hw)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=2.0)
        out = out.transpose(1, 2).reshape(x.size(0), -1, x.shape[2], x.shape[3])
        return self.norm(self.W_z(match_memory_format(out, x)))


@register(
    "fpt-rendering",
    kind="fusion",
    inputs=((64, 8, 8), (64, 16, 16)),
    odd_inputs=((64, 7, 9), (64, 13, 17)),
    channels=64,
)
class FPTRenderingTransformer(nn.Module):
    """FPT rendering transformer (RT): a coarser level is rendered with the finer level's content.

    The query is the coarser map ``Q = X^c``, key and value the finer map ``K = V = X^f``. The key's
    global average gives a channel weight ``w = ReLU(BN(conv1x1(GAP(K))))``; the query is re-weighted
    after a 3x3 conv-BN, ``Q_att = BN(conv3x3(Q)) * w``; the value is brought to the query's size by a
    strided 3x3 conv-BN, and ``out = ReLU(Q_att + BN(conv3x3_s2(V)))``. Memory is linear in ``H*W``.

    Args:
        channels: channels of the coarser map ``X^c`` (and of the output).
        fine_channels: channels of the finer map ``X^f`` (default ``channels``).
        norm_layer: normalisation (BatchNorm2d).

    Shape:
        - Input: coarser ``(N, C, H, W)``, finer ``(N, C_f, 2H, 2W)`` (any size the stride-2 conv maps to ``H x W``)
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> rt = cvattn.create("fpt-rendering", channels=64)
        >>> rt(torch.randn(2, 64, 8, 8), torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 8, 8])

    Deviations:
        The BN of the channel weight normalises the pooled ``(N, C, 1, 1)`` vector as the official code
        does; a training batch of one, where the official code raises, is normalised with the running
        statistics (:class:`~cvattn.layers.BatchNormAnyBatch2d`). The official module's unused layers
        (``conv_cat``, the transposed conv) are left out.

    Reference:
        Zhang, Zhang, Tang, Wang, Hua, Sun. Feature Pyramid Transformer. ECCV 2020.
    """

    def __init__(
        self, channels: int, fine_channels: int | None = None, norm_layer: LayerType = nn.BatchNorm2d
    ) -> None:
        super().__init__()
        fine = fine_channels or channels
        self.channels, self.fine_channels = channels, fine
        self.conv1x1 = nn.Conv2d(fine, channels, 1, bias=False)
        norm = get_layer(norm_layer)
        self.bn_weight = (BatchNormAnyBatch2d if norm is nn.BatchNorm2d else norm)(
            channels
        )  # on (N, C, 1, 1)
        self.conv3x3 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn_query = norm_layer(channels)
        self.str_conv3x3 = nn.Conv2d(fine, channels, 3, stride=2, padding=1, bias=False)
        self.bn_value = norm_layer(channels)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        check_input(y, self.fine_channels, name="fine input")
        w = self.conv1x1(y.mean((2, 3), keepdim=True))  # (N, C, 1, 1)
        w = F.relu(self.bn_weight(w))  # channel weight from the key's global content: (N, C, 1, 1)
        q_att = self.bn_query(self.conv3x3(x)) * w
        v_down = self.bn_value(self.str_conv3x3(y))  # (N, C, H, W)
        return F.relu(q_att + v_down)
