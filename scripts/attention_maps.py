"""Overlay captured spatial attention maps on a real image (scikit-image's sample images) with matplotlib.

Two sources of maps:

- untrained (default): each module, freshly initialised with a fixed seed, runs on the features of a
  small fixed random conv stem applied to the image. This shows what the mechanism computes from an
  image's structure before any training, not what a trained network attends to.
- ``--checkpoint FILE``: a checkpoint written by ``evaluate --checkpoint-dir``; the image (resized to
  32 x 32, as the network was trained) runs through the trained network and the map of the last block
  of every stage is shown.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / ".cache" / "attention-maps"
_RC = {"svg.hashsalt": "cvattn", "svg.fonttype": "none", "font.family": "DejaVu Sans"}


def sample_image(name: str = "astronaut") -> torch.Tensor:
    """A scikit-image sample image (``skimage.data.<name>``) as a uint8 ``(3, H, W)`` tensor."""
    import skimage.data

    loader = getattr(skimage.data, name, None)
    if loader is None or not callable(loader):
        raise ValueError(f"skimage.data has no image {name!r} (try astronaut, chelsea, coffee, rocket)")
    image = torch.as_tensor(loader())
    if image.ndim == 2:
        image = image[..., None].expand(-1, -1, 3)
    return image[..., :3].permute(2, 0, 1).contiguous()


def _input(image: torch.Tensor, size: int) -> torch.Tensor:
    """``(1, 3, size, size)`` standardised input from a uint8 image."""
    from .evaluate import normalise

    x = F.interpolate(
        image[None].float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
    return normalise(x.clamp(0, 255))


def untrained_maps(
    module_id: str, image: torch.Tensor, size: int = 64, channels: int = 32, seed: int = 0
) -> torch.Tensor:
    """The ``(H, W)`` map of a freshly initialised ``module_id`` on random conv features of ``image``."""
    import cvattn
    from cvattn.attention_maps import capture

    torch.manual_seed(seed)
    stem = nn.Sequential(
        nn.Conv2d(3, channels, 3, padding=1), nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1)
    )
    kwargs: dict[str, Any] = {"channels": channels}
    if "spatial_size" in cvattn.get_spec(module_id).defaults:
        kwargs["spatial_size"] = (size, size)
    net = nn.Sequential(stem, cvattn.create(module_id, **kwargs)).eval()
    maps = capture(net, _input(image, size))
    return maps["1"][0]


def trained_maps(checkpoint: str | Path, image: torch.Tensor) -> tuple[str, dict[str, torch.Tensor]]:
    """The module id of a harness checkpoint and the maps of the last block of each stage on ``image``."""
    from cvattn.attention_maps import capture

    from .evaluate import Config, build_model

    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    config = Config(**state["config"])
    model = build_model(config)
    model.load_state_dict(state["model"])
    maps = capture(model.eval(), _input(image, 32))
    last: dict[str, torch.Tensor] = {}
    for name, m in maps.items():  # keep the last block of each stage (layer1.1..., layer2.1...)
        last[name.split(".")[0]] = m[0]
    return config.module, last


def _overlay(ax, image: torch.Tensor, attn: torch.Tensor, title: str) -> None:
    h, w = image.shape[1:]
    up = F.interpolate(attn[None, None].float(), size=(h, w), mode="bilinear", align_corners=False)[0, 0]
    ax.imshow(image.permute(1, 2, 0).numpy())
    shown = ax.imshow(up.numpy(), cmap="jet", alpha=0.5)
    ax.set_title(title, fontsize=8)
    ax.axis("off")
    return shown


def draw(image: torch.Tensor, panels: list[tuple[str, torch.Tensor]], fmt: str, suptitle: str) -> bytes:
    """A figure with the image and one overlay per ``(title, map)``, as PNG or SVG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale = 256 / max(image.shape[1:])
    if scale < 1:  # a smaller picture draws faster and keeps the files small
        size = (round(image.shape[1] * scale), round(image.shape[2] * scale))
        image = F.interpolate(image[None].float(), size=size, mode="bilinear", antialias=True)[0]
        image = image.round().clamp(0, 255).to(torch.uint8)
    with plt.rc_context(_RC):
        cols = min(4, len(panels) + 1)
        rows = -(-(len(panels) + 1) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.6 * rows), squeeze=False)
        flat = axes.ravel()
        flat[0].imshow(image.permute(1, 2, 0).numpy())
        flat[0].set_title("image", fontsize=8)
        flat[0].axis("off")
        for ax, (title, attn) in zip(flat[1:], panels, strict=False):
            _overlay(ax, image, attn, title)
        for ax in flat[len(panels) + 1 :]:
            ax.axis("off")
        fig.suptitle(suptitle, fontsize=9)
        fig.tight_layout()
        buf = io.BytesIO()
        metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
        fig.savefig(buf, format=fmt, metadata=metadata, dpi=120)
        plt.close(fig)
    return buf.getvalue()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``attention-maps`` (see :func:`command_attention_maps`)."""
    parser.add_argument("--module", nargs="*", default=None, metavar="ID")
    parser.add_argument("--image", default="astronaut")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--format", nargs="+", choices=("png", "svg"), default=["png", "svg"])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)


def command_attention_maps(args: argparse.Namespace) -> int:
    """Overlay the spatial attention maps of modules on a sample image and write the figures.

    Maps are read with forward hooks (cvattn.attention_maps), so no module's computation changes. By
    default each module is freshly initialised (seeded) and applied to the features of a fixed random
    conv stem: the figure shows what the mechanism computes from the image before training. With
    --checkpoint the maps come from a network trained by `evaluate` (the last block of each stage).
    Writes <id>.<format> per module and gallery.<format> with all of them.

    Options:
        --module ID [ID ...]   modules with a spatial map (default: every registered one)
        --image NAME           a skimage.data image: astronaut (default), chelsea, coffee, rocket, ...
        --size N               side of the input to the module, untrained mode (default: 64)
        --channels N           feature channels of the stem, untrained mode (default: 32)
        --seed N               initialisation seed, untrained mode (default: 0)
        --checkpoint FILE      a checkpoint of `evaluate --checkpoint-dir` (default: none)
        --format F [F ...]     png and/or svg (default: both)
        --out DIR              destination folder (default: .cache/attention-maps/)
    """
    from cvattn.attention_maps import SPATIAL_MAPS, spatial_ids

    try:
        image = sample_image(args.image)
    except ValueError as exc:
        print(f"attention-maps: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    if args.checkpoint is not None:
        module_id, maps = trained_maps(args.checkpoint, image)
        if not maps:
            print(f"attention-maps: {module_id!r} has no spatial map to capture", file=sys.stderr)
            return 1
        for fmt in args.format:
            path = args.out / f"{module_id}-trained.{fmt}"
            path.write_bytes(
                draw(image, list(maps.items()), fmt, f"{module_id}: trained network, 32 x 32 input")
            )
            print(path)
        return 0
    available = spatial_ids()
    ids = args.module or available
    unknown = [i for i in ids if i not in available]
    if unknown:
        print(
            f"attention-maps: no spatial map for {', '.join(unknown)}; choose from {', '.join(available)}",
            file=sys.stderr,
        )
        return 2
    panels = []
    for id in ids:
        attn = untrained_maps(id, image, args.size, args.channels, args.seed)
        panels.append((id, attn))
        for fmt in args.format:
            path = args.out / f"{id}.{fmt}"
            title = f"{id}: {SPATIAL_MAPS[id].meaning} (untrained, seed {args.seed})"
            path.write_bytes(draw(image, [(id, attn)], fmt, title))
            print(path)
    for fmt in args.format:
        path = args.out / f"gallery.{fmt}"
        path.write_bytes(draw(image, panels, fmt, f"spatial attention maps, untrained (seed {args.seed})"))
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.attention_maps",
        description=command_attention_maps.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return command_attention_maps(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
