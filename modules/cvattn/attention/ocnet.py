"""Base object context (Base-OC) module of OCNet.

Paper: "OCNet: Object Context Network for Scene Parsing", Yuhui Yuan, Lang Huang, Jianyuan Guo, Chao Zhang,
Xilin Chen, Jingdong Wang, arXiv 2018 (journal version "OCNet: Object Context for Semantic Segmentation", IJCV
2021), https://arxiv.org/abs/1809.00916. Official code: https://github.com/openseg-group/OCNet.pytorch
(``oc_module/base_oc_block.py``: ``_SelfAttentionBlock``, ``BaseOC_Module``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input
from ..tokens import from_tokens, to_tokens


@register("ocnet", kind="attention", inputs=(64, 14, 14), channels=64)
class BaseOC(nn.Module):
    """OCNet Base-OC: each pixel is augmented by the object context gathered with self-attention.

    One embedding ``theta`` (1x1 conv, BN, leaky ReLU) serves as both query and key, so the object
    context map is ``w_ij = softmax_j(theta(x_i) . theta(x_j) / sqrt(K))`` over all pixels ``j``. The
    object context is ``c_i = W(sum_j w_ij phi(x_j))`` with the value ``phi`` and the output ``W``
    1x1 convolutions; the block returns ``Dropout2d(rho([c, x]))`` where ``rho`` is a 1x1 conv, BN and
    leaky ReLU from ``2C`` to ``C`` channels. Memory grows with ``(H*W)^2`` (one attention map).

    Args:
        channels: channels ``C`` of the input and output (OCNet: 512).
        key_channels: width ``K`` of the shared query/key embedding (OCNet: 256; default ``channels // 2``).
        value_channels: width of the value ``phi`` (OCNet: 256; default ``channels // 2``).
        dropout: Dropout2d rate after the fusion conv (OCNet: 0.05).
        norm_layer: normalisation after the embedding and the fusion conv (BatchNorm2d; the official
            ``InPlaceABNSync`` is synchronised BatchNorm fused with its activation).
        act_layer: activation after the embedding and the fusion conv (LeakyReLU with slope 0.01, the
            default activation of ``InPlaceABNSync``).
        zero_init: start ``W`` at zero as the official code (default false, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> oc = cvattn.create("ocnet", channels=64)
        >>> oc(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``zero_init`` defaults to false: the official zero initialisation of ``W`` stops any gradient from
        reaching the embeddings at the first step, which the package's gradient check rejects. The
        official block's unused options (several parallel stages ``sizes``, the max-pooling ``scale``,
        whose upsampling the official code skips on PyTorch >= 1, and an output width other than ``C``)
        are not offered; Base-OC uses one stage of size 1 and ``C`` outputs. The official query module is
        the key module itself, called twice per forward pass, so in training its BatchNorm's running
        statistics are updated twice per step (effective momentum ``1 - 0.9**2 = 0.19``); here the shared
        embedding runs once, which gives the same outputs and gradients and the usual momentum 0.1.

    Reference:
        Yuan, Huang, Guo, Zhang, Chen, Wang. OCNet: Object Context Network for Scene Parsing. arXiv 2018
        (IJCV 2021).
    """

    def __init__(
        self,
        channels: int,
        key_channels: int | None = None,
        value_channels: int | None = None,
        dropout: float = 0.05,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.LeakyReLU,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        key_channels = channels // 2 if key_channels is None else key_channels
        value_channels = channels // 2 if value_channels is None else value_channels
        if min(channels, key_channels, value_channels) < 1:
            raise ValueError(
                f"channels ({channels}), key_channels ({key_channels}) and value_channels "
                f"({value_channels}) must be positive"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.channels, self.key_channels, self.value_channels = channels, key_channels, value_channels
        common = dict(bias=True, norm_layer=norm_layer, act_layer=act_layer, inplace=False)
        self.f_key = ConvNormAct(channels, key_channels, 1, **common)  # theta: query and key
        self.f_value = nn.Conv2d(channels, value_channels, 1)  # phi
        self.W = nn.Conv2d(value_channels, channels, 1)
        self.fuse = ConvNormAct(2 * channels, channels, 1, **common)  # rho
        self.drop = nn.Dropout2d(dropout)
        if zero_init:
            nn.init.zeros_(self.W.weight)
            nn.init.zeros_(self.W.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        size = x.shape[-2:]
        theta = to_tokens(self.f_key(x))  # query = key: (N, HW, K)
        value = to_tokens(self.f_value(x))  # (N, HW, V)
        context = F.scaled_dot_product_attention(theta, theta, value, scale=self.key_channels**-0.5)
        context = self.W(from_tokens(context, size))  # object context: (N, C, H, W)
        return self.drop(self.fuse(torch.cat([context, x], dim=1)))
