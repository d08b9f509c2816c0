"""cvattn.insert: placements keep the output shape, add the expected modules, and match a hand-written SE-ResNet."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cvattn
from cvattn.insert import PLACEMENTS, Inserted, insert
from cvattn.models import resnet18, resnet50


def _count(model: nn.Module, cls: type) -> int:
    return sum(isinstance(m, cls) for m in model.modules())


@pytest.mark.parametrize(
    "where,expected18,expected50",
    [("residual", 8, 16), ("pre", 8, 16), ("post", 8, 16), ("identity", 8, 16), ("stage", 4, 4)],
)
def test_placements_keep_shape_and_add_modules(where, expected18, expected50):
    x = torch.randn(2, 3, 32, 32)
    for build, expected in ((resnet18, expected18), (resnet50, expected50)):
        plain = build(num_classes=10, width=4)
        n_params = sum(p.numel() for p in plain.parameters())
        model = insert(plain, "se", where, reduction=2)
        assert _count(model, cvattn.SqueezeExcitation) == expected
        assert sum(p.numel() for p in model.parameters()) > n_params
        assert model(x).shape == (2, 10)


def test_channels_and_spatial_size_are_read_from_the_network():
    model = insert(resnet18(width=4), "rga-spatial", targets=["layer3.*", "layer4.*"])
    sizes = [m.spatial_size for m in model.modules() if isinstance(m, cvattn.RGASpatial)]
    assert sizes == [(8, 8), (8, 8), (4, 4), (4, 4)]
    channels = [m.channels for m in model.modules() if isinstance(m, cvattn.RGASpatial)]
    assert channels == [16, 16, 32, 32]
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 10)


def test_named_layers_without_a_sample():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 5, 1))
    insert(model, "cbam", "after", targets=["1"], reduction=2)
    insert(model, "se", "before", targets=["3"], reduction=2)
    assert isinstance(model[1], Inserted) and model[1].attn.channels == 8
    assert isinstance(model[3], Inserted) and model[3].before and model[3].attn.channels == 8
    assert model(torch.randn(2, 3, 9, 9)).shape == (2, 5, 7, 7)


class TorchvisionBlock(nn.Module):
    """torchvision's BasicBlock layout: downsample is None when the shapes match."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.downsample = None

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + identity)


@pytest.mark.parametrize("where", ["residual", "identity"])
def test_torchvision_layout_blocks_are_recognised(where):
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), TorchvisionBlock(8), TorchvisionBlock(8))
    insert(model, "se", where, reduction=2)
    assert _count(model, cvattn.SqueezeExcitation) == 2
    assert model(torch.randn(1, 3, 6, 6)).shape == (1, 8, 6, 6)


def test_bad_requests_raise_clear_errors():
    with pytest.raises(ValueError, match="where must be one of"):
        insert(resnet18(width=4), "se", "middle")
    with pytest.raises(ValueError, match="read from the network"):
        insert(resnet18(width=4), "se", channels=8)
    with pytest.raises(ValueError, match="needs targets"):
        insert(resnet18(width=4), "se", "after")
    with pytest.raises(ValueError, match="no residual block"):
        insert(nn.Sequential(nn.Conv2d(3, 3, 1)), "se")
    with pytest.raises(KeyError, match="unknown module id"):
        insert(resnet18(width=4), "squeeze-excite")
    assert set(PLACEMENTS) >= {"residual", "pre", "post", "identity", "stage"}


# --- an SE-ResNet-18 written by hand, as in the SE paper (SE after the last BN of the branch) ---------


class HandSE(nn.Module):
    def __init__(self, c: int, r: int = 16) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(c, max(1, c // r)), nn.Linear(max(1, c // r), c)

    def forward(self, x):
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3))))))
        return x * s[:, :, None, None]


class HandSEBlock(nn.Module):
    def __init__(self, cin: int, c: int, stride: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c)
        self.se = HandSE(c)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != c:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, c, 1, stride, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        out = self.se(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return F.relu(out + self.shortcut(x))


class HandSEResNet18(nn.Module):
    def __init__(self, width: int, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width)
        blocks, cin = [], width
        for i, stride in enumerate((1, 2, 2, 2)):
            c = width * 2**i
            blocks += [HandSEBlock(cin, c, stride), HandSEBlock(c, c, 1)]
            cin = c
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(8 * width, num_classes)

    def forward(self, x):
        out = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


def _by_module_order(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """Parameters and buffers in the order the modules run (conv1, bn1, conv2, bn2, SE, shortcut)."""
    return list(model.state_dict().items())


def test_insertion_equals_a_hand_written_se_resnet():
    width = 32
    torch.manual_seed(1)
    ours = insert(resnet18(num_classes=10, width=width), "se")
    hand = HandSEResNet18(width)
    ours_state, hand_state = _by_module_order(ours), _by_module_order(hand)
    assert [tuple(t.shape) for _, t in ours_state] == [tuple(t.shape) for _, t in hand_state]
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in hand.parameters())
    hand.load_state_dict({name: t for (name, _), (_, t) in zip(hand_state, ours_state, strict=True)})
    x = torch.randn(4, 3, 32, 32)
    for mode in (True, False):
        ours.train(mode), hand.train(mode)
        torch.testing.assert_close(ours(x), hand(x))
