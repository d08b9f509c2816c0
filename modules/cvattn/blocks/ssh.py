"""SSH detection module with its context module.

Paper: "SSH: Single Stage Headless Face Detector", Mahyar Najibi, Pouya Samangouei, Rama Chellappa,
Larry S. Davis, ICCV 2017, https://arxiv.org/abs/1708.03979. Official code (Caffe):
https://github.com/mahyarnajibi/SSH (``SSH/models/test_ssh.prototxt``, layers ``m*@ssh_3x3``,
``m*@ssh_dimred``, ``m*@ssh_5x5``, ``m*@ssh_7x7-1``, ``m*@ssh_7x7``, ``m*@ssh_output``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, create_act


@register("ssh", kind="block", inputs=(64, 16, 16), in_channels=64, out_channels=64)
class SSHContextModule(nn.Module):
    """SSH module: a 3x3 conv beside a context module of 5x5- and 7x7-equivalent stacked 3x3 convs.

    The detection module of SSH enlarges the receptive field without large kernels. With ``X`` output
    channels: a 3x3 conv gives ``X/2`` channels; the context module first reduces the input by a 3x3 conv
    + ReLU to ``X/4`` channels, then one 3x3 conv on it acts as a 5x5 (``X/4``), and two 3x3 convs with a
    ReLU between act as a 7x7 (``X/4``). The three outputs are concatenated and passed through ReLU:
    ``y = ReLU([conv3x3(x), conv3x3(r), conv3x3(ReLU(conv3x3(r)))])``, ``r = ReLU(conv3x3_dimred(x))``.
    (The classification and box-regression heads that follow in SSH are not part of this block.)

    Args:
        in_channels: input channels.
        out_channels: output channels ``X`` (a multiple of 4; official: 128 for M1, 512 for M2 and M3).
        bias: conv biases (official Caffe model: True, no normalisation).
        norm_layer: normalisation after each conv (official: ``None``; later re-implementations such
            as RetinaFace's add BatchNorm2d).
        act_layer: activation (ReLU).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ssh = cvattn.create("ssh", in_channels=64, out_channels=64)
        >>> ssh(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Reference:
        Najibi, Samangouei, Chellappa, Davis. SSH: Single Stage Headless Face Detector. ICCV 2017.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        bias: bool = True,
        norm_layer: LayerType = None,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        if out_channels % 4:
            raise ValueError(f"SSHContextModule: expected out_channels a multiple of 4, got {out_channels}")
        self.in_channels = in_channels
        half, quarter = out_channels // 2, out_channels // 4

        def conv3x3(cin: int, cout: int, act: LayerType) -> ConvNormAct:
            return ConvNormAct(cin, cout, 3, bias=bias, norm_layer=norm_layer, act_layer=act)

        self.conv3x3 = conv3x3(in_channels, half, None)  # ssh_3x3
        self.context_reduce = conv3x3(in_channels, quarter, act_layer)  # ssh_dimred
        self.context5x5 = conv3x3(quarter, quarter, None)  # ssh_5x5
        self.context7x7_1 = conv3x3(quarter, quarter, act_layer)  # ssh_7x7-1
        self.context7x7_2 = conv3x3(quarter, quarter, None)  # ssh_7x7
        self.act = create_act(act_layer)
        for m in self.modules():  # official: gaussian(std 0.01) weights, zero biases
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        y_3x3 = self.conv3x3(x)  # (N, X/2, H, W)
        r = self.context_reduce(x)  # (N, X/4, H, W)
        y_5x5 = self.context5x5(r)
        y_7x7 = self.context7x7_2(self.context7x7_1(r))
        return self.act(torch.cat([y_3x3, y_5x5, y_7x7], dim=1))  # (N, X, H, W)
