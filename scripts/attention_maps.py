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


GALLERY_DATA = ROOT / "docs" / "data" / "gallery.json"
GALLERY_TRAINING = {
    "arch": "resnet18",
    "width": 8,
    "data": "digits",
    "epochs": 6,
    "batch_size": 64,
    "lr": 0.05,
}
GALLERY_DIGITS = 4  # test digits shown per module (the first test image of classes 0, 1, 2, ...)


def _gallery_digits(count: int = GALLERY_DIGITS) -> tuple[torch.Tensor, list[int]]:
    """The first test image of each of the classes 0..count-1 of the digits split: ``(count, 3, 32, 32)`` uint8."""
    from .evaluate import load_digits32

    _, _, images, labels = load_digits32()
    picks = [int((labels == c).nonzero()[0]) for c in range(count)]
    return images[picks], [int(labels[i]) for i in picks]


FIGURE_TEXT = {"en": ("digit {}", "map value"), "zh": ("数字 {}", "注意力值")}
# matplotlib draws the Chinese labels with the first font that has the glyphs (Debian's fonts-noto-cjk)
_RC_ZH = {**_RC, "font.family": ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP"]}


def draw_trained(images: torch.Tensor, maps: torch.Tensor, digits: list[int], lang: str = "en") -> bytes:
    """A row of test digits with a module's map overlaid (one colour scale for the row) and its colour bar; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    title, label = FIGURE_TEXT[lang]
    with plt.rc_context(_RC if lang == "en" else _RC_ZH):
        fig = trained_figure(images, maps, digits, label, title)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None}, dpi=110, bbox_inches="tight")
        plt.close(fig)
    return buf.getvalue()


def trained_figure(
    images: torch.Tensor,
    maps: torch.Tensor,
    digits: list[int],
    colorbar_label: str = "map value",
    title: str = "digit {}",
):
    """The matplotlib figure of :func:`draw_trained`: one axis per digit and the colour bar's axis."""
    import matplotlib.pyplot as plt

    size = images.shape[-1]
    up = F.interpolate(maps[:, None].float(), size=(size, size), mode="bilinear", align_corners=False)[:, 0]
    low, high = float(up.min()), float(up.max())
    fig, axes = plt.subplots(1, len(images), figsize=(1.9 * len(images) + 0.9, 2.2), squeeze=False)
    shown = None
    for ax, image, attn, digit in zip(axes[0], images, up, digits, strict=True):
        gray = image.float().mean(0).numpy()
        ax.imshow(gray, cmap="gray", interpolation="nearest")
        shown = ax.imshow(
            attn.numpy(), cmap="viridis", alpha=0.65, vmin=low, vmax=high if high > low else low + 1
        )
        ax.contour(gray, levels=[96.0], colors="white", linewidths=0.9)  # the digit's outline, over the map
        ax.set_title(title.format(digit), fontsize=8)
        ax.axis("off")
    bar = fig.colorbar(shown, ax=list(axes[0]), fraction=0.03, pad=0.02)
    bar.ax.tick_params(labelsize=7)
    bar.set_label(colorbar_label, fontsize=7)
    return fig


def trained_gallery(
    out: Path, checkpoint_dir: Path, ids: list[str], data_file: Path = GALLERY_DATA, log=print
) -> dict[str, Any]:
    """Train (or reuse the checkpoint of) a ResNet-18 with each module on digits, then draw its maps.

    Every module is trained by the evaluation harness with :data:`GALLERY_TRAINING`; its checkpoint is
    kept in ``checkpoint_dir`` and reused when it has the same configuration. The map shown is the one of
    the last block of the second stage (16 x 16) on the first test digits. Writes ``<id>.png`` into
    ``out`` and the record of every figure (configuration, test accuracy, stage, date) into ``data_file``.
    """
    import json

    from cvattn.attention_maps import SPATIAL_MAPS, capture

    from .evaluate import Config, build_model, checkpoint_path, run

    images, digits = _gallery_digits()
    record: dict[str, Any] = {"training": GALLERY_TRAINING, "digits": digits, "modules": {}}
    if data_file.exists():
        record["modules"] = json.loads(data_file.read_text(encoding="utf-8")).get("modules", {})
    out.mkdir(parents=True, exist_ok=True)
    for n, module_id in enumerate(ids, 1):
        config = Config(
            module=module_id, checkpoint_dir=str(checkpoint_dir), progress=False, **GALLERY_TRAINING
        )
        ckpt = checkpoint_path(config)
        state = torch.load(ckpt, map_location="cpu", weights_only=False) if ckpt.exists() else None
        done = (
            state is not None
            and state.get("epoch") == config.epochs
            and state.get("config", {}).get("width") == config.width
        )
        if not done:
            log(f"[{n}/{len(ids)}] {module_id}: training {config.epochs} epochs on digits ...")
            result = run(config)
            state = torch.load(ckpt, map_location="cpu", weights_only=False)
            top1 = result["top1"]
        else:
            top1 = record["modules"].get(module_id, {}).get("top1")  # the checkpoint does not keep it
        model = build_model(Config(**state["config"]))
        model.load_state_dict(state["model"])
        maps = capture(model.eval(), _input_batch(images))
        stage = sorted(name for name in maps if name.startswith("layer2"))
        if not stage:
            raise RuntimeError(f"{module_id}: no map captured in stage 2 (found {sorted(maps)})")
        chosen = stage[-1]
        for lang, suffix in (
            ("en", ""),
            ("zh", ".zh"),
        ):  # the zh build shows <id>.zh.png (i18n's suffix rule)
            (out / f"{module_id}{suffix}.png").write_bytes(draw_trained(images, maps[chosen], digits, lang))
        record["modules"][module_id] = {
            "top1": top1,
            "block": chosen,
            "map_size": list(maps[chosen].shape[-2:]),
            "meaning": SPATIAL_MAPS[module_id].meaning,
            "meaning_zh": SPATIAL_MAPS[module_id].meaning_zh,
        }
        log(f"[{n}/{len(ids)}] {module_id}: top-1 {top1}%, map of {chosen} -> {out / (module_id + '.png')}")
    _write_record(data_file, record)
    return record


def _write_record(data_file: Path, record: dict[str, Any]) -> None:
    import json

    tmp = data_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(data_file)


def refresh_descriptions(data_file: Path = GALLERY_DATA) -> list[str]:
    """Rewrite the map descriptions (``meaning``, ``meaning_zh``) of every module recorded in ``data_file``
    from :data:`cvattn.attention_maps.SPATIAL_MAPS`, leaving the rest of the record (accuracy, block, figures)
    as it is: no training, no drawing. Returns the ids whose descriptions changed.

    Raises:
        FileNotFoundError: ``data_file`` does not exist (make it with ``--trained``).
        ValueError: the record has no ``modules``, or holds a module that has no entry in SPATIAL_MAPS.
    """
    import json

    from cvattn.attention_maps import SPATIAL_MAPS

    if not data_file.exists():
        raise FileNotFoundError(f"{data_file}: no gallery record (make it with --trained)")
    record = json.loads(data_file.read_text(encoding="utf-8"))
    modules = record.get("modules")
    if not isinstance(modules, dict) or not modules:
        raise ValueError(f"{data_file}: no 'modules' to describe")
    unknown = sorted(set(modules) - set(SPATIAL_MAPS))
    if unknown:
        raise ValueError(f"{data_file}: no description in SPATIAL_MAPS for {', '.join(unknown)}")
    changed = []
    for module_id, entry in modules.items():
        source = SPATIAL_MAPS[module_id]
        described = {"meaning": source.meaning, "meaning_zh": source.meaning_zh}
        if any(entry.get(key) != value for key, value in described.items()):
            entry.update(described)
            changed.append(module_id)
    _write_record(data_file, record)
    return sorted(changed)


def _input_batch(images: torch.Tensor) -> torch.Tensor:
    from .evaluate import normalise

    return normalise(images.float())


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
    parser.add_argument("--trained", action="store_true")
    parser.add_argument("--checkpoint-dir", type=Path, default=ROOT / ".cache" / "gallery-checkpoints")
    parser.add_argument("--describe", action="store_true")


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
        --trained              the site's gallery: train a ResNet-18 with each module on scikit-learn's digits
                               (the evaluation harness, see GALLERY_TRAINING), keep the checkpoints in
                               --checkpoint-dir (reused when already trained), draw the stage-2 map on four test
                               digits with a colour bar, and record the figures in docs/data/gallery.json
        --checkpoint-dir DIR   where --trained keeps its checkpoints (default: .cache/gallery-checkpoints/)
        --describe             only rewrite the map descriptions (en and zh) in docs/data/gallery.json from
                               cvattn.attention_maps.SPATIAL_MAPS: no training, no figures
    """
    from cvattn.attention_maps import SPATIAL_MAPS, spatial_ids

    if args.describe:
        try:
            changed = refresh_descriptions(GALLERY_DATA)
        except (FileNotFoundError, ValueError) as exc:
            print(f"attention-maps: {exc}", file=sys.stderr)
            return 2
        print(
            f"{GALLERY_DATA}: descriptions of {len(changed)} module(s) rewritten: {', '.join(changed) or 'none'}"
        )
        return 0
    if args.trained:
        ids = args.module or spatial_ids()
        unknown = [i for i in ids if i not in spatial_ids()]
        if unknown:
            print(f"attention-maps: no spatial map for {', '.join(unknown)}", file=sys.stderr)
            return 2
        trained_gallery(args.out, args.checkpoint_dir, ids)
        return 0
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
