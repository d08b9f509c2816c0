"""Asymmetric Non-local Neural Networks (APNB and AFNB).

Paper: "Asymmetric Non-local Neural Networks for Semantic Segmentation", Zhen Zhu, Mengde Xu, Song Bai,
Tengteng Huang, Xiang Bai, ICCV 2019, https://arxiv.org/abs/1908.07678. Official code:
https://github.com/MendelXu/ANN (``models/seg/utils/apnb.py``, ``models/seg/utils/afnb.py``, widths in
``models/seg/nets/annn.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input

PSP_SIZES = (1, 3, 6, 8)


def pyramid_sample(x: torch.Tensor, sizes: Sequence[int] = PSP_SIZES) -> torch.Tensor:
    """Average-pool ``x`` to ``s x s`` bins for every ``s`` in ``sizes`` and concatenate the bins: ``(N, C, S)``.

    ``S = sum(s * s)`` anchor points (110 for the default sizes 1, 3, 6, 8), whatever the input size.
    """
    return torch.cat([F.adaptive_avg_pool2d(x, s).flatten(2) for s in sizes], dim=2)


def _attend(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, key_channels: int) -> torch.Tensor:
    """Softmax attention of every query pixel over the pooled anchors, with the official scale ``Ck^-0.5``.

    ``query``: ``(N, Ck, H, W)``; ``key``: ``(N, Ck, S)``; ``value``: ``(N, Cv, S)``; returns ``(N, Cv, H, W)``.
    """
    n, h, w = query.size(0), query.shape[2], query.shape[3]
    q = query.flatten(2).transpose(1, 2)  # (N, HW, Ck)
    k = key.transpose(1, 2)  # (N, S, Ck)
    v = value.transpose(1, 2)  # (N, S, Cv)
    context = F.scaled_dot_product_attention(q, k, v, scale=key_channels**-0.5)  # (N, HW, Cv)
    return context.transpose(1, 2).reshape(n, v.size(2), h, w)  # (N, Cv, H, W)


@register("ann-apnb", kind="attention", inputs=(64, 16, 16), channels=64)
class APNB(nn.Module):
    """Asymmetric Pyramid Non-local Block: self-attention whose keys and values are pyramid-pooled anchors.

    A shared 1x1 conv-BN-ReLU embeds ``x`` into ``Ck`` channels; the embedding of every pixel is a query,
    and spatial pyramid pooling of the same embedding (bins 1, 3, 6, 8) gives ``S = 110`` key anchors.
    Values are a 1x1 convolution of ``x`` to ``Cv`` channels, pooled the same way. The context
    ``softmax(Q K^T / sqrt(Ck)) V`` (computed by ``scaled_dot_product_attention``) is mapped back to ``C``
    channels by a 1x1 convolution ``W``, concatenated with ``x`` and fused by a 1x1 conv-BN-ReLU followed
    by Dropout2d. Memory grows linearly with ``H*W`` (``H*W x S`` affinities, ``S`` fixed), instead of
    quadratically as in a non-local block.

    Args:
        channels: input channels ``C`` (ANN: 512).
        key_channels: ``Ck``, width of the shared query/key embedding (default ``C // 2``: 256 in ANN).
        value_channels: ``Cv``, width of the values (default ``C // 2``: 256 in ANN).
        psp_sizes: pyramid bin sizes for the anchors (1, 3, 6, 8 as the official code).
        dropout: Dropout2d rate after the fusion conv (0.05 as the official code).
        norm_layer: normalisation after the embedding and the fusion conv (BatchNorm2d).
        act_layer: activation after the embedding and the fusion conv (ReLU).
        zero_init: start ``W`` at zero as the official code, so that the context starts at zero
            (default false, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> apnb = cvattn.create("ann-apnb", channels=64)
        >>> apnb(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        ``zero_init`` defaults to false: the official zero initialisation of ``W`` stops any gradient from
        reaching the embeddings at the first step, which the package's gradient check rejects. The
        official block's unused options (several parallel stages ``sizes``, max-pooling ``scale``, and an
        output width other than ``C``) are not offered; ANN uses one stage, no pooling and ``C`` outputs.
        The official code makes the query embedding the very module of the key embedding and calls it
        twice per forward pass, so in training its BatchNorm's running statistics are updated twice per
        step (an effective momentum of ``1 - 0.9**2 = 0.19``); here the shared embedding runs once, which
        gives the same outputs and gradients and the usual momentum 0.1 (set ``f_key``'s BatchNorm
        ``momentum`` to 0.19 to reproduce the official running statistics).

    Reference:
        Zhu, Xu, Bai, Huang, Bai. Asymmetric Non-local Neural Networks for Semantic Segmentation. ICCV 2019.
    """

    def __init__(
        self,
        channels: int,
        key_channels: int | None = None,
        value_channels: int | None = None,
        psp_sizes: Sequence[int] = PSP_SIZES,
        dropout: float = 0.05,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.key_channels = key_channels or max(1, channels // 2)
        self.value_channels = value_channels or max(1, channels // 2)
        self.psp_sizes = tuple(psp_sizes)
        # one embedding for queries and keys (official: ``self.f_query = self.f_key``)
        self.f_key = ConvNormAct(
            channels,
            self.key_channels,
            1,
            bias=True,
            norm_layer=norm_layer,
            act_layer=act_layer,
            inplace=False,
        )
        self.f_value = nn.Conv2d(channels, self.value_channels, 1)
        self.W = nn.Conv2d(self.value_channels, channels, 1)
        self.fuse = nn.Sequential(
            ConvNormAct(
                2 * channels,
                channels,
                1,
                bias=True,
                norm_layer=norm_layer,
                act_layer=act_layer,
                inplace=False,
            ),
            nn.Dropout2d(dropout),
        )
        if zero_init:
            nn.init.zeros_(self.W.weight)
            nn.init.zeros_(self.W.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        embed = self.f_key(x)  # shared query/key embedding: (N, Ck, H, W)
        key = pyramid_sample(embed, self.psp_sizes)  # anchors: (N, Ck, S)
        value = pyramid_sample(self.f_value(x), self.psp_sizes)  # (N, Cv, S)
        context = self.W(_attend(embed, key, value, self.key_channels))  # (N, C, H, W)
        return self.fuse(torch.cat([context, x], dim=1))


@register("ann-afnb", kind="fusion", inputs=((64, 16, 16), (32, 16, 16)), channels=64, low_channels=32)
class AFNB(nn.Module):
    """Asymmetric Fusion Non-local Block: high-level queries attend to pyramid-pooled low-level anchors.

    Queries are a 1x1 conv-BN-ReLU embedding of the high-level map ``x_high`` (ANN: ResNet stage 5); keys
    (another conv-BN-ReLU embedding) and values (a 1x1 convolution) come from the low-level map ``x_low``
    (stage 4) and are reduced by spatial pyramid pooling (bins 1, 3, 6, 8) to ``S = 110`` anchors. The
    context ``softmax(Q K^T / sqrt(Ck)) V`` (``scaled_dot_product_attention``) is mapped to ``out_channels``
    by a 1x1 convolution ``W``, concatenated with ``x_high`` and fused by a 1x1 convolution, BatchNorm (no
    activation, as the official code) and Dropout2d. Memory grows linearly with the ``H*W`` of
    ``x_high``; ``x_low`` may have any spatial size.

    Args:
        channels: channels of the high-level input ``x_high`` (ANN: 2048).
        low_channels: channels of the low-level input ``x_low`` (ANN: 1024).
        out_channels: output channels (default ``channels``, as in ANN).
        key_channels: ``Ck``, width of queries and keys (default ``channels // 8``: 256 in ANN).
        value_channels: ``Cv``, width of the values (default ``channels // 8``: 256 in ANN).
        psp_sizes: pyramid bin sizes for the anchors (1, 3, 6, 8 as the official code).
        dropout: Dropout2d rate after the fusion conv (0.05 as the official code).
        norm_layer: normalisation after the embeddings and the fusion conv (BatchNorm2d).
        act_layer: activation after the query and key embeddings (ReLU).
        zero_init: start ``W`` at zero as the official code (default false, see Deviations).

    Shape:
        - Input: ``x_high`` ``(N, C, H, W)``, ``x_low`` ``(N, C_low, H', W')``
        - Output: ``(N, out_channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> afnb = cvattn.create("ann-afnb", channels=64, low_channels=32)
        >>> afnb(torch.randn(2, 64, 16, 16), torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The high-level map comes first (``forward(x_high, x_low)``, ``channels`` = its width, as the
        package's fusion modules put the map that sets the output first); the official ``forward`` takes
        ``(low_feats, high_feats)``. ``zero_init`` defaults to false: the official zero initialisation of
        ``W`` stops any gradient from reaching the embeddings at the first step, which the package's
        gradient check rejects. The official block's unused multi-stage ``sizes`` option is not offered
        (ANN uses one stage).

    Reference:
        Zhu, Xu, Bai, Huang, Bai. Asymmetric Non-local Neural Networks for Semantic Segmentation. ICCV 2019.
    """

    def __init__(
        self,
        channels: int,
        low_channels: int,
        out_channels: int | None = None,
        key_channels: int | None = None,
        value_channels: int | None = None,
        psp_sizes: Sequence[int] = PSP_SIZES,
        dropout: float = 0.05,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        self.channels, self.low_channels = channels, low_channels
        self.out_channels = out_channels or channels
        self.key_channels = key_channels or max(1, channels // 8)
        self.value_channels = value_channels or max(1, channels // 8)
        self.psp_sizes = tuple(psp_sizes)

        def embed(cin: int) -> nn.Module:
            return ConvNormAct(
                cin,
                self.key_channels,
                1,
                bias=True,
                norm_layer=norm_layer,
                act_layer=act_layer,
                inplace=False,
            )

        self.f_query = embed(channels)
        self.f_key = embed(low_channels)
        self.f_value = nn.Conv2d(low_channels, self.value_channels, 1)
        self.W = nn.Conv2d(self.value_channels, self.out_channels, 1)
        self.fuse = nn.Sequential(
            ConvNormAct(
                self.out_channels + channels,
                self.out_channels,
                1,
                bias=True,
                norm_layer=norm_layer,
                act_layer=None,
            ),
            nn.Dropout2d(dropout),
        )
        if zero_init:
            nn.init.zeros_(self.W.weight)
            nn.init.zeros_(self.W.bias)

    def forward(self, x_high: torch.Tensor, x_low: torch.Tensor) -> torch.Tensor:
        check_input(x_high, self.channels, name="x_high")
        check_input(x_low, self.low_channels, name="x_low")
        query = self.f_query(x_high)  # (N, Ck, H, W)
        key = pyramid_sample(self.f_key(x_low), self.psp_sizes)  # low-level anchors: (N, Ck, S)
        value = pyramid_sample(self.f_value(x_low), self.psp_sizes)  # (N, Cv, S)
        context = self.W(_attend(query, key, value, self.key_channels))  # (N, out, H, W)
        return self.fuse(torch.cat([context, x_high], dim=1))
