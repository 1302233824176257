"""Losses: the task losses (cross-entropy, masked binary cross-entropy, mean squared error on
standardised targets, Poisson), the loss of a training batch, and class probabilities from logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from seqcnn.data.targets import Task


def task_loss(task: Task, logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The training loss of a batch: mean over the labelled cells.

    Args:
        task: the task.
        logits: raw outputs ``(B, K)`` (classes) or ``(B, T)`` (targets), before any activation.
        y: int64 classes ``(B,)``, or float targets ``(B, T)`` on the original scale (NaN missing).
        mask: bool ``(B, T)`` of labelled cells; None derives it from the NaNs of ``y``.

    Returns:
        A scalar: cross-entropy (classes), masked binary cross-entropy with logits (multilabel),
        masked mean squared error on standardised targets, or masked Poisson NLL with
        log-rate inputs. A batch without any labelled cell gives 0 (with a gradient path).
    """
    if task.loss == "cross_entropy":
        return F.cross_entropy(logits, y.long())
    y = y.to(logits.dtype).reshape(logits.shape)
    mask = ~torch.isnan(y) if mask is None else mask.to(torch.bool).reshape(logits.shape) & ~torch.isnan(y)
    y = torch.where(mask, y, torch.zeros_like(y))  # NaN * 0 is NaN: remove them before any arithmetic
    if task.loss == "bce":
        cells = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    elif task.loss == "poisson":
        cells = F.poisson_nll_loss(logits, y, log_input=True, full=False, reduction="none")
    else:
        mean = torch.tensor(task.mean or [0.0] * y.shape[1], dtype=y.dtype, device=y.device)
        std = torch.tensor(task.std or [1.0] * y.shape[1], dtype=y.dtype, device=y.device)
        cells = (logits - (y - mean) / std) ** 2
    cells = torch.where(mask, cells, torch.zeros_like(cells))
    return cells.sum() / mask.sum().clamp(min=1)


def batch_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    output_activation: str | None,
    smoothing: float = 0.0,
    task: Task | None = None,
) -> torch.Tensor:
    """Cross-entropy on logits for softmax outputs, binary cross-entropy for sigmoid ones; for float
    targets ``(B, T)`` (multilabel, regression) the task's masked loss (:func:`task_loss`),
    NaN cells being missing labels.

    ``smoothing`` moves the class targets from 1 and 0 to ``1 - s + s/K`` and ``s/K`` (K classes; 2 for a
    single sigmoid unit); it does not apply to float targets.
    """
    if y.is_floating_point():
        if task is None:
            raise ValueError("float targets need their task for the loss")
        return task_loss(task, logits, y)
    if output_activation == "sigmoid":
        target = y.float().view(-1, 1) if logits.shape[1] == 1 else F.one_hot(y, logits.shape[1]).float()
        if smoothing:
            target = target * (1 - smoothing) + smoothing / max(logits.shape[1], 2)
        return F.binary_cross_entropy_with_logits(logits, target)
    return F.cross_entropy(logits, y, label_smoothing=smoothing)


def hits(logits: torch.Tensor, y: torch.Tensor, task: Task | None = None) -> torch.Tensor:
    """Correct predictions in a batch: classes right, or (multilabel) labelled cells on the right side
    of 0.5, counted per example as the fraction of its labelled cells; NaN for regression (no accuracy)."""
    if not y.is_floating_point():
        return (logits.argmax(1) == y).sum()
    if task is not None and task.kind == "regression":
        return torch.tensor(float("nan"), device=y.device)
    labelled = ~torch.isnan(y)
    right = ((logits > 0) == (y > 0.5)) & labelled
    return (right.sum(1) / labelled.sum(1).clamp(min=1)).sum()


def probabilities(logits: torch.Tensor, output_activation: str | None) -> torch.Tensor:
    """Class probabilities ``(N, K)`` from logits (a single sigmoid unit gives two columns)."""
    if output_activation == "sigmoid":
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=1) if p.shape[1] == 1 else p
    return torch.softmax(logits, dim=1)


def profile_loss(profile_logits: torch.Tensor, log_counts: torch.Tensor, reads: torch.Tensor,
                 counts_weight: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """BPNet's loss: the multinomial NLL of the reads under the profile plus ``counts_weight`` x the squared
    error of ``log(1 + total reads)``.

    Args:
        profile_logits: ``(B, tracks, L)``; one softmax over tracks and positions together (bpnet-lite's).
        log_counts: predicted ``log(1 + total)`` ``(B, 1)``.
        reads: observed reads ``(B, tracks, L)``.
        counts_weight: lambda (ChromBPNet: the median total reads of the training peaks / 10).

    Returns:
        The loss, the profile part and the counts part (each a mean over the batch). The profile part leaves out
        the multinomial coefficient, which does not depend on the model.
    """
    logp = F.log_softmax(profile_logits.flatten(1), dim=1)  # (B, tracks * L)
    nll = -(reads.flatten(1) * logp).sum(dim=1).mean()
    total = torch.log1p(reads.sum(dim=(1, 2)))
    mse = ((log_counts.reshape(-1) - total) ** 2).mean()
    return nll + counts_weight * mse, nll, mse
