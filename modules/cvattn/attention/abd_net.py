"""Channel and position attention modules of ABD-Net, with its orthogonality regulariser.

Paper: "ABD-Net: Attentive but Diverse Person Re-Identification", Tianlong Chen, Shaojin Ding, Jingyi Xie, Ye Yuan,
Wuyang Chen, Yang Yang, Zhou Ren, Zhangyang Wang, ICCV 2019, https://arxiv.org/abs/1908.01114.
Official code: https://github.com/VITA-Group/ABD-Net (``torchreid/components/attention.py``: ``CAM_Module``,
``PAM_Module``; ``torchreid/losses/of_penalty.py`` and ``torchreid/regularizers/SVMO.py`` for the regulariser).

ABD-Net's attention modules are DANet's (the official file is DANet's ``da_att.py``), so the classes here reuse
the package's DANet modules and add ABD-Net's own piece, the spectral orthogonality term.
"""

from __future__ import annotations

import torch

from .._registry import register
from .danet import ChannelAttention, PositionAttention


@register("abd-net-cam", kind="attention", inputs=(64, 16, 8), channels=64)
class ABDChannelAttention(ChannelAttention):
    """ABD-Net channel attention module (CAM): channels re-combined by their softmax affinities.

    The feature map ``A`` reshaped to ``(C, HW)`` gives the channel affinities ``A A^T``; as in the official
    code each row is subtracted from its maximum before the softmax, ``X = softmax_j(max_k e_ik - e_ij)``, and
    the output is ``E = gamma * (X A) + A`` with one learned scalar ``gamma``. ABD-Net puts a CAM after
    ``res_conv_2`` ("shallow CAM") and one, beside a PAM, in the attentive branch, where channels that respond
    to the same body part are grouped. The only parameter is ``gamma``.

    Args:
        channels: input channels ``C``.
        zero_init: start ``gamma`` at 0 as the official code (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cam = cvattn.create("abd-net-cam", channels=64)
        >>> cam(torch.randn(2, 64, 16, 8)).shape
        torch.Size([2, 64, 16, 8])

    Deviations:
        ``gamma`` starts at 0.1 unless ``zero_init`` (with ``gamma = 0`` the output does not depend on the
        attention at the first step). The max-minus-energy step follows the official code; the paper's Eq. 1
        writes the plain softmax of ``A_i . A_j``. In the attentive branch the official network wraps the
        module in DANet's head (3x3 conv-BN-ReLU to ``C/2`` before it, 3x3 conv-BN-ReLU, dropout and a 1x1
        conv after it); that head is the host network's, not part of the module.

    Reference:
        Chen et al. ABD-Net: Attentive but Diverse Person Re-Identification. ICCV 2019.
    """


@register("abd-net-pam", kind="attention", inputs=(64, 16, 8), channels=64)
class ABDPositionAttention(PositionAttention):
    """ABD-Net position attention module (PAM): every position aggregates all positions by similarity.

    Query ``B`` and key ``C`` are 1x1 convs to ``C/8`` channels, value ``D`` a 1x1 conv to ``C``;
    ``S = softmax_j(B_i . C_j)`` (no scaling) and ``E = alpha * (S D) + A`` with a learned scalar ``alpha``
    (``gamma`` in the code). Computed by ``scaled_dot_product_attention`` with ``scale=1.0``.

    Args:
        channels: input channels ``C``.
        reduction: query/key width ``C / reduction`` (official 8).
        zero_init: start the scale at 0 as the official code (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> pam = cvattn.create("abd-net-pam", channels=64)
        >>> pam(torch.randn(2, 64, 16, 8)).shape
        torch.Size([2, 64, 16, 8])

    Deviations:
        The scale starts at 0.1 unless ``zero_init``: at 0 no gradient reaches the query, key and value
        convolutions at the first step. As for the CAM, the DANet head that the official attentive branch puts
        around the module is left to the host network.

    Reference:
        Chen et al. ABD-Net: Attentive but Diverse Person Re-Identification. ICCV 2019.
    """


def spectral_orthogonality(m: torch.Tensor) -> torch.Tensor:
    """ABD-Net's orthogonality measure: the spread ``lambda_max - lambda_min`` of the eigenvalues of ``M M^T``.

    ``M`` is a feature map flattened to ``(C, H*W)`` for the orthogonality on features (O.F.), or a conv
    weight flattened to ``(out, in*k*k)`` for the orthogonality on weights (O.W.); the spread is zero exactly
    when the rows of ``M`` are orthogonal with equal norms. The paper's losses are ``beta * sum_n spread`` over
    a batch of feature maps (official ``of_penalty.py``: ``beta = 1e-6``, the sum divided by ``N / 32``) and
    ``beta * spread ** 2`` per conv weight (official ``SVMO.py``: ``beta = 10 * 1e-3``).

    Args:
        m: a matrix ``(rows, cols)`` or a batch of them ``(..., rows, cols)``, e.g. ``x.flatten(2)`` for
            feature maps ``(N, C, H, W)`` or ``conv.weight.flatten(1)``.

    Returns:
        The spread of each matrix, of shape ``m.shape[:-2]``.

    Examples:
        >>> import torch
        >>> from cvattn.attention.abd_net import spectral_orthogonality
        >>> float(spectral_orthogonality(torch.eye(3, 5)))
        0.0

    Deviations:
        Computed exactly with ``torch.linalg.eigvalsh``; the official code estimates both eigenvalues with
        one step of the power method from a random vector, so its value is a noisy estimate of this one.
    """
    if m.dim() < 2:
        raise ValueError(
            f"spectral_orthogonality expected a matrix (..., rows, cols), got shape {tuple(m.shape)}"
        )
    eig = torch.linalg.eigvalsh(m @ m.transpose(-1, -2))  # ascending
    return eig[..., -1] - eig[..., 0]
