"""The evaluation harness: train a CIFAR ResNet with a registry module inserted, report top-1 and costs.

``run(config)`` trains and tests one network and returns its record; ``command_evaluate(args)`` is the
``evaluate`` sub-command. Launched by ``torchrun`` the same code trains with DistributedDataParallel,
one process per GPU (gloo on CPU).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import pickle
import platform
import subprocess
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "data" / "evaluation.json"
CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST_FILE = "test_batch"
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


@dataclass
class Config:
    """One training run. ``module`` is a registry id, or ``"none"`` for the plain network."""

    module: str = "none"
    arch: str = "resnet18"
    width: int = 64
    where: str = "residual"
    module_kwargs: dict[str, Any] = field(default_factory=dict)
    data: str = "digits"
    data_dir: str | None = None
    epochs: int = 200
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    seed: int = 0
    limit: int | None = None
    compile: bool = False
    checkpoint_dir: str | None = None
    resume: bool = False
    progress: bool = True
    device: str | None = None


# ------------------------------------------------------------------------------------------- data


class DataError(FileNotFoundError):
    """The dataset is not where the configuration says."""


def _unpickle(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    with path.open("rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    images = torch.as_tensor(data, dtype=torch.uint8).reshape(-1, 3, 32, 32)
    return images, torch.as_tensor(labels, dtype=torch.long)


def cifar10_folder(data_dir: str | Path) -> Path:
    """The folder holding the CIFAR-10 python batches: ``data_dir`` or its ``cifar-10-batches-py``."""
    root = Path(data_dir)
    for folder in (root, root / "cifar-10-batches-py"):
        if all((folder / name).is_file() for name in (*CIFAR_TRAIN_FILES, CIFAR_TEST_FILE)):
            return folder
    missing = [n for n in (*CIFAR_TRAIN_FILES, CIFAR_TEST_FILE) if not (root / n).is_file()]
    raise DataError(
        f"CIFAR-10 not found in {root}: expected the python-pickle batches {', '.join(CIFAR_TRAIN_FILES)} "
        f"and {CIFAR_TEST_FILE} there or in {root / 'cifar-10-batches-py'} (missing: {', '.join(missing)}). "
        f"Download {CIFAR_URL} and unpack it: tar -xzf cifar-10-python.tar.gz -C {root}"
    )


def load_cifar10(data_dir: str | Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """CIFAR-10 from its python-pickle batches as uint8 ``(N, 3, 32, 32)`` images and labels."""
    folder = cifar10_folder(data_dir)
    parts = [_unpickle(folder / name) for name in CIFAR_TRAIN_FILES]
    x_test, y_test = _unpickle(folder / CIFAR_TEST_FILE)
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]), x_test, y_test


def load_digits32() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes), resized to 32 x 32, 3 channels, uint8.

    A fixed stratified split: 1437 training and 360 test images.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.as_tensor(digits.images, dtype=torch.float32)[:, None] / 16.0  # (N, 1, 8, 8) in [0, 1]
    images = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    labels = torch.as_tensor(digits.target, dtype=torch.long)
    train, test = train_test_split(range(len(labels)), test_size=0.2, random_state=0, stratify=digits.target)
    return images[train], labels[train], images[test], labels[test]


def load_data(config: Config) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    if config.data == "cifar10":
        if not config.data_dir:
            raise DataError(
                f"--data cifar10 needs --data-dir DIR, a folder with the python batches of {CIFAR_URL}"
            )
        data = load_cifar10(config.data_dir)
    elif config.data == "digits":
        data = load_digits32()
    else:
        raise ValueError(f"unknown data {config.data!r}; choose digits or cifar10")
    if config.limit:
        data = (
            data[0][: config.limit],
            data[1][: config.limit],
            data[2][: config.limit],
            data[3][: config.limit],
        )
    return data


def normalise(images: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 images to floats standardised with the CIFAR-10 channel statistics."""
    mean = torch.tensor(CIFAR_MEAN, device=images.device, dtype=dtype)[:, None, None]
    std = torch.tensor(CIFAR_STD, device=images.device, dtype=dtype)[:, None, None]
    return (images.to(dtype) / 255 - mean) / std


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random 32x32 crop of the 4-pixel zero-padded image and a random horizontal flip, on tensors."""
    n, _, h, w = images.shape
    padded = F.pad(images, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=generator)
    dx = torch.randint(0, 9, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    rows = (dy[:, None] + torch.arange(h)).to(images.device)  # (N, H)
    cols = dx[:, None] + torch.arange(w)  # (N, W)
    cols = torch.where(flip[:, None], cols.flip(1), cols).to(images.device)
    idx = torch.arange(n, device=images.device)[:, None, None, None]
    ch = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
    return padded[idx, ch, rows[:, None, :, None], cols[:, None, None, :]]


# ------------------------------------------------------------------------------------------- model


def build_model(config: Config) -> nn.Module:
    """The ResNet of ``config.arch`` with ``config.module`` inserted (nothing for ``"none"``)."""
    import cvattn
    from cvattn.insert import insert
    from cvattn.models import build

    model = build(config.arch, num_classes=10, width=config.width)
    if config.module != "none":
        cvattn.get_spec(config.module)  # a clear KeyError for a mistyped id
        insert(model, config.module, config.where, **config.module_kwargs)
    return model


def count_macs(model: nn.Module, input_size: tuple[int, ...] = (3, 32, 32)) -> int:
    """Multiply-accumulates of one forward pass on one image (FlopCounterMode FLOPs / 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, *input_size, device=next(model.parameters()).device))
    finally:
        model.train(was_training)
    return counter.get_total_flops() // 2


# ------------------------------------------------------------------------------------- environment


def git_commit() -> str | None:
    """The checked-out commit, with ``-dirty`` when the work tree has changes; None outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("-dirty" if dirty else "")


def hardware(device: torch.device, world_size: int) -> dict[str, Any]:
    from .costs import _cpu_name

    info = {
        "device": device.type,
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "processes": world_size,
        "platform": platform.platform(terse=True),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


def _distributed() -> tuple[int, int, int]:
    """(rank, local rank, world size) from torchrun's environment; (0, 0, 1) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")), world


def checkpoint_path(config: Config) -> Path:
    name = f"{config.module}-{config.arch}-w{config.width}-{config.data}-seed{config.seed}.pt"
    return Path(config.checkpoint_dir) / name


# ---------------------------------------------------------------------------------------- training


def _shard(n: int, epoch: int, seed: int, rank: int, world: int) -> torch.Tensor:
    """This process's indices of an epoch: one permutation shared by all processes, padded to a multiple
    of the world size (as DistributedSampler) and dealt out round-robin."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1000 + epoch))
    total = math.ceil(n / world) * world
    order = torch.cat([order, order[: total - n]])
    return order[rank::world]


def evaluate_top1(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int, device, amp, cl, rank, world
) -> float:
    """Top-1 accuracy in percent over the test set (each process tests its share; counts are summed)."""
    model.eval()
    correct = torch.zeros(2, dtype=torch.float64, device=device)
    with torch.no_grad():
        for i in range(rank * batch, len(x), batch * world):
            xb = normalise(x[i : i + batch].to(device, non_blocking=True))
            if cl:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with amp():
                logits = model(xb)
            correct[0] += (logits.argmax(1) == y[i : i + batch].to(device)).sum()
            correct[1] += len(xb)
    if world > 1:
        torch.distributed.all_reduce(correct)
    return float(100 * correct[0] / correct[1])


def run(config: Config | dict[str, Any]) -> dict[str, Any]:
    """Train ``config.arch`` with ``config.module`` inserted and test it; return the result record.

    SGD (momentum 0.9, weight decay 5e-4) with a cosine schedule stepped per batch, random crop and flip;
    seeded (model initialisation, data order and augmentation depend only on ``seed`` and the epoch, so
    a resumed run continues exactly). On CUDA: mixed precision (bfloat16, or float16 with loss scaling)
    and channels_last. Under ``torchrun``: DistributedDataParallel, ``batch_size`` split over the
    processes. With ``checkpoint_dir`` a checkpoint is written after every epoch; ``resume`` continues
    from it.

    Returns:
        The record: module, config, seed, epochs, top1, wall_time_s, train_images_per_s, params, macs,
        hardware, torch, commit, date (only process 0's record is complete; others are the same).
    """
    import cvattn  # noqa: F401  (registers the modules)

    if isinstance(config, dict):
        config = Config(**config)
    rank, local_rank, world = _distributed()
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    if config.device:
        device = torch.device(config.device)
    elif torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    start = time.perf_counter()

    x_train, y_train, x_test, y_test = load_data(config)
    torch.manual_seed(config.seed)
    model = build_model(config)
    params = sum(p.numel() for p in model.parameters())
    macs = count_macs(model)
    model.to(device)
    on_gpu = device.type == "cuda"
    if on_gpu:
        model.to(memory_format=torch.channels_last)
        x_train, x_test = x_train.to(device), x_test.to(device)  # uint8: CIFAR-10 is 150 MB
    amp_dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if on_gpu else None

    def amp():
        return torch.autocast("cuda", dtype=amp_dtype) if amp_dtype else nullcontext()

    net: nn.Module = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if on_gpu else None)
    if config.compile:
        net = torch.compile(net)

    per_rank = max(1, config.batch_size // world)
    steps = math.ceil(math.ceil(len(x_train) / world) / per_rank)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, config.epochs * steps))
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)

    first_epoch, trained_s, trained_images = 0, 0.0, 0
    ckpt = checkpoint_path(config) if config.checkpoint_dir else None
    if ckpt and config.resume and ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        first_epoch, trained_s, trained_images = state["epoch"], state["train_time_s"], state["train_images"]

    show = config.progress and rank == 0
    if show:
        from tqdm import tqdm
    for epoch in range(first_epoch, config.epochs):
        net.train()
        epoch_start = time.perf_counter()
        order = _shard(len(x_train), epoch, config.seed, rank, world)
        gen = torch.Generator().manual_seed(config.seed * 1000 + epoch + 500_000 + rank)
        bar = (
            tqdm(
                total=steps, desc=f"{config.module} {epoch + 1}/{config.epochs}", leave=False, file=sys.stderr
            )
            if show
            else None
        )
        seen, loss_sum, correct = 0, 0.0, 0
        for step in range(steps):
            idx = order[step * per_rank : (step + 1) * per_rank]
            xb = normalise(augment(x_train[idx.to(x_train.device)], gen))
            yb = y_train[idx].to(device, non_blocking=True)
            if on_gpu:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with amp():
                logits = net(xb)
                loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            seen += len(xb)
            loss_sum += loss.item() * len(xb)
            correct += int((logits.argmax(1) == yb).sum())
            if bar is not None:
                rate = seen * world / max(time.perf_counter() - epoch_start, 1e-9)
                bar.set_postfix(
                    loss=f"{loss_sum / seen:.3f}", acc=f"{100 * correct / seen:.1f}", img_s=f"{rate:.0f}"
                )
                bar.update()
        if on_gpu:
            torch.cuda.synchronize(device)
        trained_s += time.perf_counter() - epoch_start
        trained_images += seen * world
        if bar is not None:
            bar.close()
        if ckpt and rank == 0:
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            state = {
                "config": asdict(config),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(),
                "epoch": epoch + 1,
                "train_time_s": trained_s,
                "train_images": trained_images,
            }
            torch.save(state, ckpt.with_suffix(".tmp"))
            ckpt.with_suffix(".tmp").replace(ckpt)
        if world > 1:
            torch.distributed.barrier()

    top1 = evaluate_top1(net, x_test, y_test, per_rank, device, amp, on_gpu, rank, world)
    return {
        "module": config.module,
        "config": {
            **{
                k: v
                for k, v in asdict(config).items()
                if k not in ("progress", "resume", "checkpoint_dir", "device")
            },
            "processes": world,
            "amp": str(amp_dtype).removeprefix("torch.") if amp_dtype else None,
            "channels_last": on_gpu,
            "train_images": len(x_train),
            "test_images": len(x_test),
        },
        "seed": config.seed,
        "epochs": config.epochs,
        "top1": round(top1, 2),
        "wall_time_s": round(time.perf_counter() - start, 2),
        "train_time_s": round(trained_s, 2),
        "train_images_per_s": round(trained_images / trained_s, 1) if trained_s else None,
        "params": params,
        "macs": macs,
        "hardware": hardware(device, world),
        "torch": torch.__version__,
        "commit": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# ----------------------------------------------------------------------------------------- command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``evaluate`` (see :func:`command_evaluate`)."""
    parser.add_argument("--module", nargs="+", default=["all-attention"], metavar="ID")
    parser.add_argument("--arch", choices=("resnet18", "resnet50"), default="resnet18")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--where", default="residual")
    parser.add_argument("--data", choices=("digits", "cifar10"), default="digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="ID.OPTION=VALUE", dest="settings")


def module_ids(selection: list[str]) -> list[str]:
    """Expand ``all-attention`` into the plain network plus every registered attention module."""
    import cvattn

    ids: list[str] = []
    for item in selection:
        ids += ["none", *cvattn.list_modules("attention")] if item == "all-attention" else [item]
    return list(dict.fromkeys(ids))


def parse_settings(settings: list[str], ids: list[str]) -> dict[str, dict[str, Any]]:
    """``["performer.num_heads=1", ...]`` -> ``{"performer": {"num_heads": 1}}``, checked against the
    selected ids and each module's constructor."""
    import inspect

    import cvattn

    out: dict[str, dict[str, Any]] = {}
    for item in settings:
        target, sep, raw = item.partition("=")
        id, dot, option = target.rpartition(".")
        if not sep or not dot or not id or not option:
            raise ValueError(f"--set {item!r}: expected ID.OPTION=VALUE, e.g. performer.num_heads=1")
        if id not in ids or id == "none":
            raise ValueError(f"--set {item!r}: module {id!r} is not among the modules of this run")
        parameters = inspect.signature(cvattn.get_spec(id).cls).parameters
        if option not in parameters:
            raise ValueError(
                f"--set {item!r}: {id} has no option {option!r}; it takes {', '.join(parameters)}"
            )
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(id, {})[option] = value
    return out


def command_evaluate(args: argparse.Namespace) -> int:
    """Train a CIFAR ResNet with registry modules inserted and write one result record per module.

    Each module goes into every residual block (after the branch's last BN, before the addition, as in
    the SE and CBAM papers) of a randomly initialised ResNet-18/50 for 32 x 32 images, which is trained
    with SGD (momentum 0.9, weight decay 5e-4) and a cosine schedule, then tested for top-1. Records hold
    module, config, seed, epochs, top-1, wall time, images/s, parameters, MACs, hardware, torch version,
    commit and date; the results file is rewritten (atomically) after every module, keeping the records
    of modules not run this time, so a run over a few modules updates an existing table. On CUDA: mixed
    precision and channels_last. A module that fails is reported and recorded with its error; the others still run.

    Multi-GPU (one process per GPU, DistributedDataParallel; gloo on CPU):
        torchrun --nproc-per-node 4 -m scripts evaluate --data cifar10 --data-dir data/ --module cbam

    Options:
        --module ID [ID ...]  registry ids, `none` (the plain network) or `all-attention` (the plain
                              network and every attention module; default)
        --arch NAME           resnet18 or resnet50 (default: resnet18)
        --width N             channels of the first stage (default: 64, the paper's)
        --where PLACE         placement, see cvattn.insert (default: residual)
        --data NAME           digits (scikit-learn's bundled digits at 32x32; default) or cifar10
        --data-dir DIR        CIFAR-10's python batches (data_batch_1..5, test_batch), from
                              https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz
        --epochs N            training epochs (default: 200 for cifar10, 15 for digits)
        --batch-size N        global batch size, split over processes (default: 128)
        --lr LR               peak learning rate (default: 0.1)
        --seed N              seed of initialisation, data order and augmentation (default: 0)
        --limit N             use at most N training and N test images (default: all)
        --compile             torch.compile the network
        --checkpoint-dir DIR  write a checkpoint per module after every epoch (default: none)
        --resume              continue from the checkpoints in --checkpoint-dir
        --out FILE            results JSON (default: docs/data/evaluation.json)
        --no-progress         no progress bar
        --set ID.OPTION=VALUE a constructor option of one module, e.g. performer.num_heads=1 (VALUE is
                              read as JSON, else as a string; repeatable; stored in the record's
                              config.module_kwargs)
    """
    import cvattn

    epochs = args.epochs if args.epochs is not None else (200 if args.data == "cifar10" else 15)
    try:
        ids = module_ids(args.module)
        for id in ids:
            if id != "none":
                cvattn.get_spec(id)
    except KeyError as exc:
        print(f"evaluate: {exc.args[0]}", file=sys.stderr)
        return 2
    try:
        module_kwargs = parse_settings(args.settings, ids)
    except ValueError as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    rank = _distributed()[0]
    try:
        earlier = _load_records(args.out)
    except ValueError as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    records: list[dict[str, Any]] = []
    failed = 0
    start = time.perf_counter()
    for id in ids:
        config = Config(
            module=id,
            arch=args.arch,
            width=args.width,
            where=args.where,
            data=args.data,
            data_dir=args.data_dir,
            epochs=epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            limit=args.limit,
            compile=args.compile,
            checkpoint_dir=args.checkpoint_dir,
            resume=args.resume,
            progress=not args.no_progress,
            module_kwargs=module_kwargs.get(id, {}),
        )
        try:
            record = run(config)
        except DataError as exc:
            print(f"evaluate: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # one broken module must not stop the others
            failed += 1
            record = {"module": id, "config": asdict(config), "error": f"{type(exc).__name__}: {exc}"[:500]}
            print(f"evaluate: {id}: {record['error']}", file=sys.stderr)
        records.append(record)
        if rank == 0:
            if "top1" in record:
                print(
                    f"{id:24s} top-1 {record['top1']:6.2f}%  {record['params'] / 1e6:6.3f} M params  "
                    f"{record['macs'] / 1e6:8.1f} M MACs  {record['wall_time_s']:7.1f} s  "
                    f"{record['train_images_per_s'] or 0:8.0f} img/s"
                )
            _save(args.out, earlier, records)
    if rank == 0:
        print(
            f"{len(records) - failed}/{len(records)} run(s) in {time.perf_counter() - start:.1f} s -> {args.out}"
        )
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return 1 if failed else 0


def _load_records(path: Path) -> list[dict[str, Any]]:
    """The records already in a results file (none when it does not exist)."""
    if not path.exists():
        return []
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); fix or remove it, or pass another --out"
        ) from None
    if not isinstance(records, list) or not all(isinstance(r, dict) and "module" in r for r in records):
        raise ValueError(
            f"{path}: not a results file (a JSON list of records with a 'module'); pass another --out"
        )
    return records


def _save(path: Path, earlier: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
    """Write the results file atomically: the earlier records, each replaced by this run's record of the
    same module when there is one, then this run's records of new modules."""
    new = {r["module"]: r for r in records}
    merged = [new.pop(r["module"], r) for r in earlier]
    merged += [r for r in records if r["module"] in new]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.evaluate",
        description=command_evaluate.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return command_evaluate(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
