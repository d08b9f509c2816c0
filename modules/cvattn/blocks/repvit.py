"""RepViT block: a re-parameterisable depth-wise token mixer with SE, then a 1x1 FFN channel mixer.

Paper: "RepViT: Revisiting Mobile CNN From ViT Perspective", Ao Wang, Hui Chen, Zijia Lin, Jungong Han,
Guiguang Ding, CVPR 2024, https://arxiv.org/abs/2307.09283.
Official code: https://github.com/THU-MIG/RepViT (``model/repvit.py``, ``RepViTBlock``).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .._registry import register
from ..attention.se import SqueezeExcitation
from ..layers import check_input, make_divisible
from .fuse import fuse_conv_bn, pad_kernel


def _conv_bn(cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1) -> nn.Sequential:
    conv = nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False)
    return nn.Sequential(OrderedDict(conv=conv, bn=nn.BatchNorm2d(cout)))


def _plain(cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=True)


@register("repvit", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32, use_se=True)
class RepViTBlock(nn.Module):
    """RepViT block: MobileNetV3-style block rearranged as a MetaFormer (token mixer, then channel mixer).

    With stride 1 (``in_channels == out_channels``) the token mixer is the RepVGG-style depth-wise unit
    ``BN(BN(W_dw * x) + W_1x1 * x + x)`` (a ``K x K`` depth-wise conv-BN, a depth-wise ``1 x 1`` conv with
    bias and the identity, then BN), optionally followed by SE. With stride 2 it is a ``K x K`` depth-wise
    conv-BN with stride 2, optional SE and a ``1 x 1`` conv-BN to ``out_channels``. The channel mixer is a
    residual FFN: ``1 x 1`` conv-BN to ``hidden_channels``, GELU, ``1 x 1`` conv-BN back. In eval mode the
    depth-wise unit is one ``K x K`` depth-wise conv, and every conv-BN pair is one conv:
    ``switch_to_deploy()`` folds them all, so inference runs a single-branch block.

    Args:
        in_channels: input channels.
        out_channels: output channels (must equal ``in_channels`` for stride 1).
        hidden_channels: width of the channel mixer; ``None`` gives ``2 * in_channels`` at stride 1 and
            ``2 * out_channels`` at stride 2 (official, where the expansion ratio is fixed to 2).
        kernel_size: the depth-wise kernel size (odd; RepViT: 3).
        stride: 1, or 2 for the down-sampling form.
        use_se: squeeze-excitation after the depth-wise conv (hidden width ``make_divisible(C / 4, 8)``, as
            timm's ``SqueezeExcite(C, 0.25)``); RepViT uses it in every other block.
        zero_init: start the channel mixer's last BN scale at zero, as the official code (see Deviations).
        deploy: build the block directly in its fused form (plain convs with bias).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("repvit", in_channels=32, out_channels=32, use_se=True).eval()
        >>> x = torch.randn(2, 32, 16, 16)
        >>> y = block(x)
        >>> y.shape
        torch.Size([2, 32, 16, 16])
        >>> block.switch_to_deploy()  # depth-wise conv, SE, two 1x1 convs
        >>> torch.allclose(block(x), y, atol=1e-5)
        True

    Deviations:
        ``zero_init`` defaults to false: with the official zero BN scale no gradient reaches the channel
        mixer's first conv at the first step (the package's gradient check); pass ``zero_init=True`` for the
        official initialisation. At stride 1 the official token mixer is always ``3 x 3`` (``kernel_size`` is
        used only at stride 2); here ``kernel_size`` sets both (identical for RepViT's ``3``). The official
        ``hidden_dim == 2 * inp`` assertion is relaxed to the ``hidden_channels`` argument. The official
        ``use_hs`` flag (GELU either way) is left out.

    Reference:
        Wang, Chen, Lin, Han, Ding. RepViT: Revisiting Mobile CNN From ViT Perspective. CVPR 2024.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int | None = None,
        kernel_size: int = 3,
        stride: int = 1,
        use_se: bool = False,
        zero_init: bool = False,
        deploy: bool = False,
    ) -> None:
        super().__init__()
        if stride not in (1, 2) or kernel_size % 2 == 0:
            raise ValueError(
                f"RepViTBlock: expected stride 1 or 2 and an odd kernel_size, got {stride}, {kernel_size}"
            )
        if stride == 1 and in_channels != out_channels:
            raise ValueError(
                f"RepViTBlock: expected in_channels == out_channels at stride 1, got {in_channels} and {out_channels}"
            )
        self.in_channels = in_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.deploy = deploy
        c, k = in_channels, kernel_size
        hidden = hidden_channels or 2 * (in_channels if stride == 1 else out_channels)
        unit = _plain if deploy else _conv_bn
        self.token_conv = unit(c, c, k, stride, groups=c)
        if stride == 1 and not deploy:
            self.token_conv1 = nn.Conv2d(c, c, 1, groups=c, bias=True)
            self.token_bn = nn.BatchNorm2d(c)
        self.se = (
            SqueezeExcitation(c, hidden_channels=make_divisible(c * 0.25, 8, round_limit=0.0))
            if use_se
            else nn.Identity()
        )
        self.token_pw = unit(c, out_channels) if stride == 2 else None
        self.mix_pw1 = unit(out_channels, hidden)
        self.act = nn.GELU()
        self.mix_pw2 = unit(hidden, out_channels)
        if zero_init and not deploy:
            nn.init.zeros_(self.mix_pw2.bn.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        if self.stride == 1 and not self.deploy:
            y = self.token_bn(self.token_conv(x) + self.token_conv1(x) + x)  # RepVGG-style depth-wise unit
        else:
            y = self.token_conv(x)
        y = self.se(y)
        if self.token_pw is not None:
            y = self.token_pw(y)
        return y + self.mix_pw2(self.act(self.mix_pw1(y)))

    def _fused_token_conv(self) -> nn.Conv2d:
        fused = fuse_conv_bn(self.token_conv.conv, self.token_conv.bn)
        if self.stride == 2:
            return fused
        # (dw conv) + (dw 1x1 conv) + identity, then BN: one dw K x K conv, then the BN folded into it
        identity = torch.ones_like(self.token_conv1.weight)
        fused.weight += pad_kernel(self.token_conv1.weight + identity, self.kernel_size)
        fused.bias += self.token_conv1.bias
        return fuse_conv_bn(fused, self.token_bn)

    @torch.no_grad()
    def fuse(self) -> tuple[nn.Conv2d, ...]:
        """The block's plain convs in eval mode, in order: the depth-wise token conv, (stride 2) the 1x1 token
        conv, and the channel mixer's two 1x1 convs; SE, GELU and the residual sum sit between them."""
        if self.deploy:
            convs = (self.token_conv, self.token_pw, self.mix_pw1, self.mix_pw2)
            return tuple(c for c in convs if c is not None)
        convs = [self._fused_token_conv()]
        if self.token_pw is not None:
            convs.append(fuse_conv_bn(self.token_pw.conv, self.token_pw.bn))
        convs += [fuse_conv_bn(m.conv, m.bn) for m in (self.mix_pw1, self.mix_pw2)]
        return tuple(convs)

    def switch_to_deploy(self) -> None:
        """Fold every branch and BN into plain convs, in place (eval-mode equivalent)."""
        if self.deploy:
            return
        convs = list(self.fuse())
        if self.stride == 1:
            del self.token_conv1, self.token_bn
        self.token_conv = convs.pop(0)
        if self.token_pw is not None:
            self.token_pw = convs.pop(0)
        self.mix_pw1, self.mix_pw2 = convs
        self.deploy = True
