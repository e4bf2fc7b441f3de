"""Training of a YOLO11 classifier on pseudo-images, prediction, and subject-grouped CV.

Written for this data rather than with ultralytics' trainer: the inputs are small region x
time maps held in memory, so there is no image pipeline, no augmentation (flips, crops or
colour jitter would move regions and frames, or change the angle code), and the loop adds
what the method needs and the trainer lacks: subject-held-out early stopping on micro AUC,
class-imbalance handling and bit-reproducible CPU runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from meflow.config import EvalConfig, TrainConfig
from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.evaluation.metrics import micro_roc_auc
from meflow.training.splits import (
    MIN_VALIDATION_SUBJECTS,
    group_kfold,
    leave_one_subject_out,
    validation_split,
)

if TYPE_CHECKING:
    from meflow.execution.base import Executor

Log = Callable[[str], None]
WARMUP_FRACTION = 0.1  # of all optimiser steps, linear warm-up before the cosine decay


@dataclass
class FitResult:
    """A trained model (best weights restored, eval mode) and its per-epoch history."""

    model: nn.Module
    history: list[dict[str, Any]]
    best_epoch: int
    early_stopping: bool
    note: str = ""
    device: str = "cpu"


@dataclass
class CVResult:
    """Out-of-fold probabilities (N, C), the test fold of each sample, and per-fold histories."""

    probs: np.ndarray
    fold: np.ndarray
    histories: list[list[dict[str, Any]]]
    best_epochs: list[int]
    fold_micro_auc: list[float]
    splits: list[tuple[np.ndarray, np.ndarray]] = field(repr=False, default_factory=list)


def resolve_device(name: str) -> torch.device:
    """The torch device for 'auto' (CUDA when available), 'cpu' or 'cuda'."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise MeflowError("train.device is 'cuda' but no CUDA GPU is available: use auto or cpu")
    return torch.device(name)


@contextlib.contextmanager
def _deterministic(device: torch.device) -> Iterator[None]:
    """Deterministic kernels for the block, restoring the caller's settings afterwards."""
    prev = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    prev_cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    # warn_only: an op without a deterministic kernel (some CUDA backward passes) warns
    # instead of aborting a long run; on CPU every op used here is deterministic.
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev, warn_only=prev_warn)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = prev_cudnn


def _autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return contextlib.nullcontext()


def class_weights(y: np.ndarray, num_classes: int) -> np.ndarray:
    """Inverse-frequency weights n / (K * n_c) for the K classes present; 0 for absent classes."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(num_classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return w


def _check_data(X: np.ndarray, y: np.ndarray, groups: np.ndarray, num_classes: int) -> None:
    if X.ndim < 2 or not (X.dtype == np.uint8 or np.issubdtype(X.dtype, np.floating)):
        raise MeflowError(
            "X must be uint8 pseudo-images (N, regions, frames) or float model inputs "
            f"(N, ...), got {X.dtype} {X.shape}"
        )
    if y.shape != (X.shape[0],) or groups.shape != (X.shape[0],):
        raise MeflowError(
            f"y {y.shape} and groups {groups.shape} must have one entry per image ({X.shape[0]})"
        )
    if X.shape[0] == 0:
        raise MeflowError("no training images")
    if y.min() < 0 or y.max() >= num_classes:
        raise MeflowError(f"labels must be class indices 0..{num_classes - 1}")


def _lr_lambda(total_steps: int) -> Callable[[int], float]:
    warm = max(1, round(WARMUP_FRACTION * total_steps))

    def f(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        t = min(1.0, (step - warm) / max(1, total_steps - warm))
        return 0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * t))

    return f


def _batches(n: int, batch_size: int) -> list[slice]:
    """Batch slices; a last batch of one sample joins the previous one (BatchNorm needs 2+)."""
    edges = [*range(0, n, batch_size), n]
    if len(edges) > 2 and edges[-1] - edges[-2] == 1:
        edges.pop(-2)
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


def recalibrate_batchnorm(model: nn.Module, x: torch.Tensor, batch_size: int) -> None:
    """Nothing; sets every BatchNorm's running mean/var to the exact average over ``x``.

    ultralytics sets BatchNorm momentum to 0.03, made for ~10^5 steps; a few hundred images
    give only tens of steps, so the running statistics still reflect the initial weights and
    eval-mode outputs are near chance although training works. One forward pass over the
    training images in train mode with cumulative averaging (momentum None) fixes that; it
    does not change the weights or the training trajectory (train mode uses batch statistics).
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns or x.shape[0] < 2:
        return
    device = next(model.parameters()).device
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    was_training = model.training
    model.train()
    with torch.no_grad():
        for sl in _batches(x.shape[0], batch_size):
            with _autocast(device):
                model(x[sl].to(device))
    for m, mom in zip(bns, saved, strict=True):
        m.momentum = mom
    model.train(was_training)


def _evaluate(
    model: nn.Module, xb: torch.Tensor, y: np.ndarray, device: torch.device, batch_size: int
) -> tuple[float, float, np.ndarray]:
    probs = _predict_tensor(model, xb, device, batch_size)
    p = np.clip(probs[np.arange(y.size), y], 1e-12, 1.0)
    return float(-np.mean(np.log(p))), micro_roc_auc(y, probs), probs


def _predict_tensor(
    model: nn.Module, x: torch.Tensor, device: torch.device, batch_size: int
) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for sl in _batches(x.shape[0], batch_size):
            with _autocast(device):
                logits = model(x[sl].to(device, non_blocking=True))
            out.append(torch.softmax(logits.float(), dim=1).cpu())
    return torch.cat(out).double().numpy()


def _arch(model: nn.Module) -> str:
    arch = getattr(model, "architecture", None)
    return str(arch()["arch"]) if callable(arch) else "yolo11"


def predict_proba(model: nn.Module, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Softmax probabilities (N, C) of model inputs (uint8 pseudo-images (N, 42, 64) for
    YOLO11), on the model's device."""
    from meflow.models.classifiers import to_tensor

    tensors = [*model.parameters(), *model.buffers()]
    device = tensors[0].device if tensors else torch.device("cpu")
    x = to_tensor(_arch(model), X)
    if x.shape[0] == 0:
        nc = getattr(model, "num_classes", len(EMOTIONS))
        return np.zeros((0, nc))
    return _predict_tensor(model, x, device, max(2, batch_size))


def fit(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    cfg: TrainConfig,
    progress: bool = True,
    log: Log | None = None,
    num_classes: int | None = None,
) -> FitResult:
    """A model trained on (X, y) with early stopping on held-out subjects, and its history.

    History entries: epoch, lr, train_loss (the training criterion), val_loss (plain
    cross-entropy) and val_micro_auc on the validation subjects (None without validation).
    The best epoch is the one with the highest validation micro AUC, ties broken by the
    lower validation loss; its weights are restored. Same seed, same data, same device and
    thread count give identical probabilities on CPU.
    """
    from tqdm.auto import tqdm

    X = np.asarray(X)
    y = np.asarray(y).astype(np.int64)
    groups = np.asarray(groups)
    nc = len(EMOTIONS) if num_classes is None else num_classes
    _check_data(X, y, groups, nc)
    device = resolve_device(cfg.device)
    say: Log = log or (lambda _msg: None)

    tr_idx, val_idx = validation_split(groups, cfg.val_fraction, cfg.seed, y)
    early = val_idx.size > 0
    note = ""
    if not early:
        n_subj = np.unique(groups).size
        note = (
            f"no validation subjects (val_fraction={cfg.val_fraction} of {n_subj} subject(s) "
            f"holds out fewer than {MIN_VALIDATION_SUBJECTS}): "
            f"trained a fixed {cfg.epochs} epochs without early stopping"
        )
        say(note)
    y_tr = y[tr_idx]
    present = np.unique(y_tr)
    if present.size < nc:
        missing = [
            EMOTIONS[c] if nc == len(EMOTIONS) else str(c)
            for c in sorted(set(range(nc)) - set(present.tolist()))
        ]
        say(f"classes absent from this training set: {', '.join(missing)}")

    from meflow.models.classifiers import network_builder, to_tensor

    kind = cfg.model if cfg.model in ("yolo11", "gru") else "yolo11"
    x_all = to_tensor(kind, X)
    build = network_builder(kind, X, nc)
    x_tr = x_all[torch.from_numpy(tr_idx)].to(device)
    y_tr_t = torch.from_numpy(y_tr).to(device)
    x_val = x_all[torch.from_numpy(val_idx)]

    devices = [torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), _deterministic(device):
        torch.manual_seed(cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        model = build(cfg.scale).to(device)

        weight = None
        if cfg.imbalance == "weighted-loss":
            weight = torch.tensor(class_weights(y_tr, nc), dtype=torch.float32, device=device)
        criterion = nn.CrossEntropyLoss(weight=weight)
        sampler = None
        if cfg.imbalance == "balanced-sampler":
            from torch.utils.data import WeightedRandomSampler

            w_sample = 1.0 / np.bincount(y_tr, minlength=nc)[y_tr].astype(np.float64)
            sampler = WeightedRandomSampler(w_sample.tolist(), tr_idx.size, generator=gen)

        n_tr = tr_idx.size
        batches = _batches(n_tr, cfg.batch_size)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg.epochs * len(batches)))
        use_scaler = device.type == "cuda" and not torch.cuda.is_bf16_supported()
        scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)

        history: list[dict[str, Any]] = []
        best: tuple[float, float] = (-math.inf, math.inf)
        best_state: dict[str, torch.Tensor] | None = None
        best_epoch = cfg.epochs
        stale = 0
        bar = tqdm(
            range(1, cfg.epochs + 1), desc="train", unit="epoch", disable=not progress, leave=False
        )
        for epoch in bar:
            model.train()
            if sampler is not None:  # class-balanced draw with replacement
                order = torch.tensor(list(sampler))
            else:
                order = torch.randperm(n_tr, generator=gen)
            order = order.to(device)
            total, seen = 0.0, 0
            for sl in batches:
                idx = order[sl]
                with _autocast(device):
                    loss = criterion(model(x_tr[idx]).float(), y_tr_t[idx])
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                sched.step()
                total += float(loss.detach()) * idx.numel()
                seen += idx.numel()
            entry: dict[str, Any] = {
                "epoch": epoch,
                "lr": opt.param_groups[0]["lr"],
                "train_loss": total / seen,
                "val_loss": None,
                "val_micro_auc": None,
            }
            recalibrate_batchnorm(model, x_tr, cfg.batch_size)
            if early:
                vl, va, _ = _evaluate(model, x_val, y[val_idx], device, 256)
                entry["val_loss"], entry["val_micro_auc"] = vl, va
                va = va if math.isfinite(va) else -math.inf
                if va > best[0] + 1e-9 or (va >= best[0] - 1e-9 and vl < best[1]):
                    best, best_epoch, stale = (va, vl), epoch, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    stale += 1
            elif epoch == 1:
                entry["note"] = note
            history.append(entry)
            bar.set_postfix(
                loss=f"{entry['train_loss']:.3f}",
                **({"val_auc": f"{entry['val_micro_auc']:.3f}"} if early else {}),
            )
            say(_format(entry))
            if early and stale >= cfg.patience:
                say(
                    f"early stop at epoch {epoch}: no better validation micro AUC since "
                    f"epoch {best_epoch}"
                )
                break
        bar.close()
        if best_state is not None:
            model.load_state_dict(best_state)
    model.eval()
    return FitResult(
        model=model,
        history=history,
        best_epoch=best_epoch,
        early_stopping=early,
        note=note,
        device=str(device),
    )


def _format(e: dict[str, Any]) -> str:
    s = f"epoch {e['epoch']:3d}  lr {e['lr']:.2e}  train_loss {e['train_loss']:.4f}"
    if e["val_loss"] is not None:
        s += f"  val_loss {e['val_loss']:.4f}  val_micro_auc {e['val_micro_auc']:.4f}"
    return s


def run_fold(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    tr: np.ndarray,
    te: np.ndarray,
    train_cfg: TrainConfig,
    f: int,
    num_classes: int,
    progress: bool = False,
    log: Log | None = None,
) -> tuple[np.ndarray, Any]:
    """(test probabilities, the fitted classifier) of fold ``f``: trained on ``tr`` with seed
    ``train_cfg.seed + f``, applied to ``te``."""
    from meflow.models.classifiers import fit_classifier

    cfg_f = dataclasses.replace(train_cfg, seed=train_cfg.seed + f)
    res = fit_classifier(
        cfg_f.model, X[tr], y[tr], groups[tr], cfg_f, num_classes, progress=progress, log=log
    )
    return res.predict_proba(X[te]), res


def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    train_cfg: TrainConfig,
    eval_cfg: EvalConfig,
    progress: bool = True,
    log: Log | None = None,
    num_classes: int | None = None,
    executor: Executor | None = None,
) -> CVResult:
    """Out-of-fold probabilities of a subject-independent cross-validation.

    Folds come from group_kfold (protocol 'kfold', stratified, seeded by eval_cfg.seed) or
    leave_one_subject_out ('loso'); fold f trains with seed train_cfg.seed + f. Each fold is
    a task on ``executor`` (default: one after another in this process), trained with
    ``executor.task_threads()`` torch threads.
    """
    from tqdm.auto import tqdm

    from meflow.execution import LocalExecutor
    from meflow.training.folds import FoldData, FoldResult, FoldTask, run_fold_task

    X = np.asarray(X)
    y = np.asarray(y).astype(np.int64)
    groups = np.asarray(groups)
    nc = len(EMOTIONS) if num_classes is None else num_classes
    _check_data(X, y, groups, nc)
    if eval_cfg.protocol == "loso":
        splits = leave_one_subject_out(groups)
    else:
        splits = group_kfold(groups, eval_cfg.folds, eval_cfg.seed, y)
    say: Log = log or (lambda _msg: None)
    executor = executor or LocalExecutor()
    threads = executor.task_threads()
    tasks = [
        FoldTask(f, len(splits), tr, te, train_cfg, nc, threads)
        for f, (tr, te) in enumerate(splits)
    ]
    # In this process a fold shows its epochs as before; elsewhere only its end is reported.
    fn = run_fold_task
    if executor.in_driver:
        fn = functools.partial(run_fold_task, progress=progress, log=log)
    done: dict[int, FoldResult] = {}
    with tqdm(total=len(tasks), desc="folds", unit="fold", disable=not progress) as bar:
        for f, res in executor.map(fn, tasks, FoldData(X, y, groups)):
            done[f] = res
            say(f"fold {f + 1}: best epoch {res.best_epoch}, test micro AUC {res.micro_auc:.4f}")
            bar.update(1)
    probs = np.full((X.shape[0], nc), np.nan)
    fold = np.full(X.shape[0], -1, dtype=np.int64)
    for f, (_, te) in enumerate(splits):
        probs[te] = done[f].probs
        fold[te] = f
    results = [done[f] for f in range(len(splits))]
    return CVResult(
        probs=probs,
        fold=fold,
        histories=[r.history for r in results],
        best_epochs=[r.best_epoch for r in results],
        fold_micro_auc=[r.micro_auc for r in results],
        splits=splits,
    )
