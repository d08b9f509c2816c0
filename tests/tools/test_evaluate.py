"""The evaluation harness on a tiny CIFAR-format data set written here: records, resume, errors, DDP."""

from __future__ import annotations

import json
import os
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from scripts import evaluate
from scripts.evaluate import ROOT, Config, DataError, run

RECORD_FIELDS = {
    "module",
    "config",
    "seed",
    "epochs",
    "top1",
    "wall_time_s",
    "train_images_per_s",
    "params",
    "macs",
    "hardware",
    "torch",
    "commit",
    "date",
}


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory) -> Path:
    """Five training batches of 12 images and a test batch of 16, in CIFAR-10's python-pickle format."""
    folder = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        n = 16 if name == "test_batch" else 12
        batch = {
            b"batch_label": name.encode(),
            b"labels": rng.integers(0, 10, n).tolist(),
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [f"{i}.png".encode() for i in range(n)],
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    return folder.parent


def tiny(cifar_dir: Path, **kwargs) -> Config:
    base = dict(
        module="se",
        width=4,
        data="cifar10",
        data_dir=str(cifar_dir),
        epochs=1,
        batch_size=16,
        progress=False,
        module_kwargs={"reduction": 2},
    )
    return Config(**{**base, **kwargs})


def test_cifar_reader(cifar_dir):
    x_train, y_train, x_test, y_test = evaluate.load_cifar10(cifar_dir)
    assert x_train.shape == (60, 3, 32, 32) and x_train.dtype == torch.uint8
    assert y_train.shape == (60,) and x_test.shape == (16, 3, 32, 32) and y_test.shape == (16,)


def test_one_epoch_gives_a_complete_record(cifar_dir):
    record = run(tiny(cifar_dir, limit=32))
    assert RECORD_FIELDS <= set(record)
    assert record["module"] == "se" and record["epochs"] == 1 and record["seed"] == 0
    assert 0 <= record["top1"] <= 100
    assert record["config"]["train_images"] == 32 and record["config"]["test_images"] == 16
    assert record["params"] > 0 and record["macs"] > 0
    assert record["hardware"]["device"] == "cpu" and record["torch"] == torch.__version__
    json.dumps(record)  # serialisable as it is


def test_runs_are_seeded(cifar_dir):
    a, b = run(tiny(cifar_dir, limit=32, module="none")), run(tiny(cifar_dir, limit=32, module="none"))
    assert a["top1"] == b["top1"]


def test_resume_from_the_middle(cifar_dir, tmp_path, monkeypatch):
    """Stop a 2-epoch run after its first epoch, resume it, and get the uninterrupted result."""
    straight = run(tiny(cifar_dir, epochs=2, limit=32))
    config = tiny(cifar_dir, epochs=2, limit=32, checkpoint_dir=str(tmp_path), resume=True)
    real_save = torch.save

    def save_then_stop(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)
        raise KeyboardInterrupt  # the process dies right after writing the epoch-1 checkpoint

    monkeypatch.setattr(torch, "save", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run(config)
    monkeypatch.setattr(torch, "save", real_save)
    tmp = evaluate.checkpoint_path(config).with_suffix(".tmp")
    tmp.replace(evaluate.checkpoint_path(config))
    assert torch.load(evaluate.checkpoint_path(config), weights_only=False)["epoch"] == 1
    resumed = run(config)
    assert resumed["top1"] == straight["top1"]
    assert resumed["train_images_per_s"] is not None


def test_missing_data_names_the_expected_files(tmp_path):
    with pytest.raises(DataError) as info:
        run(Config(data="cifar10", data_dir=str(tmp_path), width=4, epochs=1, progress=False))
    message = str(info.value)
    for expected in (
        "data_batch_1",
        "data_batch_5",
        "test_batch",
        "cifar-10-batches-py",
        "cifar-10-python.tar.gz",
    ):
        assert expected in message


def test_command_writes_results_and_reports_missing_data(cifar_dir, tmp_path, capsys):
    out = tmp_path / "results.json"
    argv = [
        "--module",
        "none",
        "cbam",
        "--width",
        "4",
        "--epochs",
        "1",
        "--data",
        "cifar10",
        "--data-dir",
        str(cifar_dir),
        "--limit",
        "16",
        "--batch-size",
        "16",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert evaluate.main(argv) == 0
    records = json.loads(out.read_text())
    assert [r["module"] for r in records] == ["none", "cbam"]
    assert records[1]["params"] > records[0]["params"]
    assert (
        evaluate.main(
            [
                "--data",
                "cifar10",
                "--data-dir",
                str(tmp_path / "nowhere"),
                "--module",
                "se",
                "--out",
                str(out),
            ]
        )
        == 1
    )
    assert "data_batch_1" in capsys.readouterr().err
    assert evaluate.main(["--module", "squeeze-excite", "--out", str(out)]) == 2
    # a later run over one module replaces that module's record and keeps the others
    before = json.loads(out.read_text())
    rest = argv[3:]  # everything after "--module none cbam"
    assert evaluate.main(["--module", "se", *rest]) == 0
    after = json.loads(out.read_text())
    assert [r["module"] for r in after] == ["none", "cbam", "se"]
    assert after[:2] == before
    assert evaluate.main(["--module", "cbam", "--seed", "1", *rest]) == 0
    again = json.loads(out.read_text())
    assert [r["module"] for r in again] == ["none", "cbam", "se"] and again[1]["seed"] == 1
    out.write_text("{not json")
    assert evaluate.main(argv) == 2
    assert "not valid JSON" in capsys.readouterr().err and out.read_text() == "{not json"


def test_digits_is_the_embedded_default():
    x_train, y_train, x_test, y_test = evaluate.load_digits32()
    assert x_train.shape == (1437, 3, 32, 32) and x_test.shape == (360, 3, 32, 32)
    assert set(y_test.tolist()) == set(range(10))


def test_all_attention_expands_to_the_registry():
    import cvattn

    assert evaluate.module_ids(["all-attention"]) == ["none", *cvattn.list_modules("attention")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_ddp_with_gloo(cifar_dir, tmp_path):
    out = tmp_path / "ddp.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes",
        "1",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(_free_port()),
        "-m",
        "scripts.evaluate",
        "--module",
        "se",
        "--width",
        "4",
        "--epochs",
        "1",
        "--data",
        "cifar10",
        "--data-dir",
        str(cifar_dir),
        "--limit",
        "32",
        "--batch-size",
        "16",
        "--out",
        str(out),
        "--no-progress",
    ]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    (record,) = json.loads(out.read_text())
    assert record["config"]["processes"] == 2 and record["hardware"]["processes"] == 2
    assert 0 <= record["top1"] <= 100


def test_module_options_are_parsed_and_checked():
    ids = ["none", "performer", "se"]
    assert evaluate.parse_settings(
        ["performer.num_heads=1", "performer.num_features=64", "se.gate_layer=sigmoid"], ids
    ) == {
        "performer": {"num_heads": 1, "num_features": 64},
        "se": {"gate_layer": "sigmoid"},
    }
    for bad, message in [
        ("performer.num_heads", "expected ID.OPTION=VALUE"),
        ("cbam.reduction=4", "not among the modules"),
        ("performer.heads=1", "has no option 'heads'"),
    ]:
        with pytest.raises(ValueError, match=message):
            evaluate.parse_settings([bad], ids)


def test_leaderboard_rows_show_non_default_options_and_failures():
    from scripts import leaderboard
    from scripts.catalog import load_or_raise

    base = {"config": {"data": "digits", "arch": "resnet18", "width": 8}, "params": 2e5, "macs": 9e6}
    results = [
        {**base, "module": "se", "top1": 70.0},
        {
            **base,
            "module": "performer",
            "top1": 80.0,
            "config": {**base["config"], "module_kwargs": {"num_heads": 1}},
        },
        {"module": "cbam", "config": base["config"], "error": "RuntimeError: boom"},
    ]
    table = leaderboard.harness_table(load_or_raise(), results, "en")
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == ["performer", "se", "cbam"]  # by top-1, failures last
    assert "`num_heads=1`" in rows[0] and "`num_heads" not in rows[1]
    assert "80.00" in rows[0] and leaderboard.LABELS["en"]["failed"] in rows[2]
