"""meflow's PyTorch training loop: the networks of ``models.registry``, early stopping.

Written for this data rather than with ultralytics' trainer: the inputs are small region x
time maps held in memory, so there is no image pipeline, no augmentation (flips, crops or
colour jitter would move regions and frames, or change the angle code), and the loop adds
what the method needs and the trainer lacks: subject-held-out early stopping on micro AUC,
class-imbalance handling and bit-reproducible CPU runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from meflow.config import TrainConfig
from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.evaluation.metrics import micro_roc_auc
from meflow.models import registry
from meflow.training.inference import (
    autocast,
    batches,
    deterministic,
    predict_tensor,
    resolve_device,
)
from meflow.training.splits import MIN_VALIDATION_SUBJECTS, validation_split

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


def class_weights(y: np.ndarray, num_classes: int) -> np.ndarray:
    """Inverse-frequency weights n / (K * n_c) for the K classes present; 0 for absent classes."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(num_classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return w


def check_data(X: np.ndarray, y: np.ndarray, groups: np.ndarray, num_classes: int) -> None:
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
        for sl in batches(x.shape[0], batch_size):
            with autocast(device):
                model(x[sl].to(device))
    for m, mom in zip(bns, saved, strict=True):
        m.momentum = mom
    model.train(was_training)


def _evaluate(
    model: nn.Module, xb: torch.Tensor, y: np.ndarray, device: torch.device, batch_size: int
) -> tuple[float, float, np.ndarray]:
    probs = predict_tensor(model, xb, device, batch_size)
    p = np.clip(probs[np.arange(y.size), y], 1e-12, 1.0)
    return float(-np.mean(np.log(p))), micro_roc_auc(y, probs), probs


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

    The network is ``cfg.model``'s (``models.registry``; ``DEFAULT_NETWORK`` when that one is
    fitted directly). History entries: epoch, lr, train_loss (the training criterion),
    val_loss (plain cross-entropy) and val_micro_auc on the validation subjects (None without
    validation). The best epoch is the one with the highest validation micro AUC, ties broken
    by the lower validation loss; its weights are restored. Same seed, same data, same device
    and thread count give identical probabilities on CPU.
    """
    X = np.asarray(X)
    y = np.asarray(y).astype(np.int64)
    groups = np.asarray(groups)
    nc = len(EMOTIONS) if num_classes is None else num_classes
    check_data(X, y, groups, nc)
    device = resolve_device(cfg.device)
    say: Log = log or (lambda _msg: None)
    tr_idx, val_idx, note = _held_out(y, groups, cfg, nc, say)

    spec = registry.get(cfg.model)
    if spec.network is None:
        spec = registry.get(registry.DEFAULT_NETWORK)
    assert spec.network is not None and spec.tensor is not None
    x_all = spec.tensor(X)
    build = spec.network(X, nc)
    data = _Data(
        x_tr=x_all[torch.from_numpy(tr_idx)].to(device),
        y_tr=y[tr_idx],
        x_val=x_all[torch.from_numpy(val_idx)],
        y_val=y[val_idx],
        note=note,
    )
    devices = [torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), deterministic(device):
        torch.manual_seed(cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        model = build(cfg.scale).to(device)
        trainer = _trainer(model, data.y_tr, cfg, nc, device, gen)
        history, best_epoch = _epochs(trainer, data, cfg, progress, say)
    model.eval()
    return FitResult(
        model=model,
        history=history,
        best_epoch=best_epoch,
        early_stopping=data.y_val.size > 0,
        note=note,
        device=str(device),
    )


def _held_out(
    y: np.ndarray, groups: np.ndarray, cfg: TrainConfig, nc: int, say: Log
) -> tuple[np.ndarray, np.ndarray, str]:
    """(training indices, validation indices, a note when there is no validation), saying
    which classes the training part lacks."""
    tr_idx, val_idx = validation_split(groups, cfg.val_fraction, cfg.seed, y)
    note = ""
    if val_idx.size == 0:
        n_subj = np.unique(groups).size
        note = (
            f"no validation subjects (val_fraction={cfg.val_fraction} of {n_subj} subject(s) "
            f"holds out fewer than {MIN_VALIDATION_SUBJECTS}): "
            f"trained a fixed {cfg.epochs} epochs without early stopping"
        )
        say(note)
    present = np.unique(y[tr_idx])
    if present.size < nc:
        missing = [
            EMOTIONS[c] if nc == len(EMOTIONS) else str(c)
            for c in sorted(set(range(nc)) - set(present.tolist()))
        ]
        say(f"classes absent from this training set: {', '.join(missing)}")
    return tr_idx, val_idx, note


@dataclass
class _Data:
    """The training tensors (on the device), the validation ones and the no-validation note."""

    x_tr: torch.Tensor
    y_tr: np.ndarray
    x_val: torch.Tensor
    y_val: np.ndarray
    note: str


@dataclass
class _Trainer:
    """A network with its criterion, sampler, batches, optimiser, schedule and scaler."""

    model: nn.Module
    device: torch.device
    gen: torch.Generator
    criterion: nn.Module
    sampler: Any
    batches: list[slice]
    opt: torch.optim.Optimizer
    sched: Any
    scaler: Any


def _trainer(
    model: nn.Module,
    y_tr: np.ndarray,
    cfg: TrainConfig,
    nc: int,
    device: torch.device,
    gen: torch.Generator,
) -> _Trainer:
    """The training machinery of ``model`` for the labels ``y_tr`` and settings ``cfg``."""
    weight = None
    if cfg.imbalance == "weighted-loss":
        weight = torch.tensor(class_weights(y_tr, nc), dtype=torch.float32, device=device)
    criterion = nn.CrossEntropyLoss(weight=weight)
    sampler = None
    if cfg.imbalance == "balanced-sampler":
        from torch.utils.data import WeightedRandomSampler

        w_sample = 1.0 / np.bincount(y_tr, minlength=nc)[y_tr].astype(np.float64)
        sampler = WeightedRandomSampler(w_sample.tolist(), y_tr.size, generator=gen)
    steps = batches(y_tr.size, cfg.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg.epochs * len(steps)))
    use_scaler = device.type == "cuda" and not torch.cuda.is_bf16_supported()
    scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)
    return _Trainer(model, device, gen, criterion, sampler, steps, opt, sched, scaler)


def _train_epoch(t: _Trainer, x_tr: torch.Tensor, y_tr_t: torch.Tensor) -> float:
    """The mean training loss of one pass over the training set (weights updated)."""
    t.model.train()
    if t.sampler is not None:  # class-balanced draw with replacement
        order = torch.tensor(list(t.sampler))
    else:
        order = torch.randperm(x_tr.shape[0], generator=t.gen)
    order = order.to(t.device)
    total, seen = 0.0, 0
    for sl in t.batches:
        idx = order[sl]
        with autocast(t.device):
            loss = t.criterion(t.model(x_tr[idx]).float(), y_tr_t[idx])
        t.opt.zero_grad(set_to_none=True)
        t.scaler.scale(loss).backward()
        t.scaler.step(t.opt)
        t.scaler.update()
        t.sched.step()
        total += float(loss.detach()) * idx.numel()
        seen += idx.numel()
    return total / seen


def _epochs(
    t: _Trainer, data: _Data, cfg: TrainConfig, progress: bool, say: Log
) -> tuple[list[dict[str, Any]], int]:
    """(history, best epoch) of the epochs, stopped early on the validation subjects; the
    best epoch's weights restored."""
    from tqdm.auto import tqdm

    early = data.y_val.size > 0
    y_tr_t = torch.from_numpy(data.y_tr).to(t.device)
    history: list[dict[str, Any]] = []
    best: tuple[float, float] = (-math.inf, math.inf)
    best_state: dict[str, torch.Tensor] | None = None
    best_epoch = cfg.epochs
    stale = 0
    bar = tqdm(
        range(1, cfg.epochs + 1), desc="train", unit="epoch", disable=not progress, leave=False
    )
    for epoch in bar:
        train_loss = _train_epoch(t, data.x_tr, y_tr_t)
        entry: dict[str, Any] = {
            "epoch": epoch,
            "lr": t.opt.param_groups[0]["lr"],
            "train_loss": train_loss,
            "val_loss": None,
            "val_micro_auc": None,
        }
        recalibrate_batchnorm(t.model, data.x_tr, cfg.batch_size)
        if early:
            vl, va, _ = _evaluate(t.model, data.x_val, data.y_val, t.device, 256)
            entry["val_loss"], entry["val_micro_auc"] = vl, va
            va = va if math.isfinite(va) else -math.inf
            if va > best[0] + 1e-9 or (va >= best[0] - 1e-9 and vl < best[1]):
                best, best_epoch, stale = (va, vl), epoch, 0
                best_state = {k: v.detach().clone() for k, v in t.model.state_dict().items()}
            else:
                stale += 1
        elif epoch == 1:
            entry["note"] = data.note
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
        t.model.load_state_dict(best_state)
    return history, best_epoch


def _format(e: dict[str, Any]) -> str:
    s = f"epoch {e['epoch']:3d}  lr {e['lr']:.2e}  train_loss {e['train_loss']:.4f}"
    if e["val_loss"] is not None:
        s += f"  val_loss {e['val_loss']:.4f}  val_micro_auc {e['val_micro_auc']:.4f}"
    return s
