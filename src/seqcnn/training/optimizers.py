"""Optimisers: Adam(W) as torch's fused kernel, SGD, the learning-rate schedules, and the moving
average of the weights (``TrainConfig.average``)."""

from __future__ import annotations

import torch

from seqcnn.training.recipes import TrainConfig


def _undecorated(method):
    """A torch.optim method without its ``torch._disable_dynamo`` wrapper (it imports torch._dynamo on first call)."""
    return getattr(method, "__wrapped__", method)


class FusedAdam(torch.optim.Optimizer):
    """Adam or AdamW as torch's fused kernel (``torch._fused_adam_``/``_fused_adamw_``), without torch._dynamo.

    torch.optim's Adam marks ``add_param_group``, ``zero_grad``, ``state_dict`` and its step
    function as not to be compiled; the marker imports torch._dynamo on first call, 0.7-1.6 s
    of a small run's start-up (BENCHMARKS.md, Defaults panel). seqcnn never compiles, so this
    class calls the same methods unwrapped and the same fused kernel: the updates, the state
    (``step``, ``exp_avg``, ``exp_avg_sq`` per parameter) and ``state_dict`` are torch's.
    Learning-rate schedules (including one-cycle's momentum cycling of ``betas``) work as usual.
    """

    add_param_group = _undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = _undecorated(torch.optim.Optimizer.zero_grad)
    state_dict = _undecorated(torch.optim.Optimizer.state_dict)
    load_state_dict = _undecorated(torch.optim.Optimizer.load_state_dict)

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
        amsgrad: bool = False,
    ):
        # "fused": load_state_dict then puts each loaded ``step`` on its parameter's device, as the kernel needs
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "decoupled": decoupled,
                    "amsgrad": amsgrad, "fused": True}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient (``closure`` is not supported)."""
        if closure is not None:
            raise ValueError("FusedAdam.step takes no closure")
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            amsgrad = group.get("amsgrad", False)  # groups saved before these keys existed resume as before
            for p in params:
                if not self.state[p]:
                    self.state[p] = {
                        "step": torch.zeros((), dtype=torch.float32, device=p.device),
                        "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                        "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                    }
                    if amsgrad:
                        self.state[p]["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            states = [self.state[p] for p in params]
            steps = [s["step"] for s in states]
            torch._foreach_add_(steps, 1)
            kernel = torch._fused_adamw_ if group.get("decoupled", self.defaults["decoupled"]) else torch._fused_adam_
            beta1, beta2 = group["betas"]
            grads = [p.grad for p in params]
            moments = [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states]
            kernel(
                params,
                grads,
                *moments,
                [s["max_exp_avg_sq"] for s in states] if amsgrad else [],
                steps,
                amsgrad=amsgrad,
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )


#: torch's fused Adam kernels are private operators (``torch._fused_adam_``, ``torch._fused_adamw_``,
#: ``torch._foreach_add_``), used because torch.optim's public Adam imports torch._dynamo on its first step
#: (0.7-1.6 s of a small run). They exist from torch 2.4 (the declared floor, tested by ``make test-min``) to
#: 2.13; a release without them gets torch.optim's Adam(W), the same updates.
FUSED_KERNELS = all(hasattr(torch, name) for name in ("_fused_adam_", "_fused_adamw_", "_foreach_add_"))


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimiser named in ``config``.

    Adam(W) runs as one fused kernel per step instead of about ten small ops per tensor: 5 % of
    a fashion-cnn step and 10 % of a primer step on the CPU (BENCHMARKS.md); :class:`FusedAdam`
    does so without importing torch._dynamo.
    """
    params = list(model.parameters())
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    devices, dtypes = {p.device.type for p in params}, {p.dtype for p in params}
    if (FUSED_KERNELS and len(devices) == 1 and devices <= {"cpu", "cuda"} and len(dtypes) == 1
            and next(iter(dtypes)).is_floating_point):
        decoupled = config.optimizer == "adamw"
        return FusedAdam(params, lr=config.lr, betas=(0.9, config.beta2), eps=config.eps,
                         weight_decay=config.weight_decay, decoupled=decoupled, amsgrad=config.amsgrad)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=config.lr, betas=(0.9, config.beta2), eps=config.eps, weight_decay=config.weight_decay,
               amsgrad=config.amsgrad)


class ExponentialAverage(torch.optim.swa_utils.AveragedModel):
    """torch's averaged copy of a model (``module``, ``n_averaged``; its state dict), moved toward
    the current weights and buffers at every step.

    After ``n`` steps the average weighs the weights after step ``k`` by ``decay ** (n - k)``, divided
    by the sum of those weights (the bias correction of Adam's moments): step ``n`` moves it
    ``(1 - decay) / (1 - decay ** n)`` of the way to the new weights. Without the correction the
    random starting weights would still count ``decay ** n`` (0.82 after a 40-step epoch at 0.995) and a
    short run would end near its start; with it a run shorter than ``1 / (1 - decay)`` steps ends with
    about the mean of its weights so far. The tensor pairs are found once: walking the modules for their
    parameters at every step, as ``AveragedModel`` does, cost a quarter of a primer model's step.
    """

    def __init__(self, model: torch.nn.Module, decay: float):
        super().__init__(model, use_buffers=True)
        self.decay = decay
        self.pairs: list | None = None

    @torch.no_grad()
    def update_parameters(self, current: torch.nn.Module) -> None:
        if self.pairs is None:
            mine = [*self.module.parameters(), *self.module.buffers()]
            self.pairs = list(zip(mine, [*current.parameters(), *current.buffers()], strict=True))
        n = int(self.n_averaged) + 1  # steps averaged, this one included
        share = (1 - self.decay) / (1 - self.decay**n)  # 1 at the first step
        for average, now in self.pairs:
            if n == 1 or not average.is_floating_point():  # integer buffers (batches seen) are copied
                average.copy_(now)
            else:
                average.lerp_(now, share)
        self.n_averaged += 1

    def restart(self, model: torch.nn.Module) -> None:
        """Start again from ``model``'s weights (a resumed state saved without an average)."""
        self.module.load_state_dict(model.state_dict())
        self.n_averaged.zero_()


def weight_average(model: torch.nn.Module, config: TrainConfig) -> ExponentialAverage | None:
    """The moving average of ``model``'s weights that ``config.average`` asks for (its decay per step).

    It follows the model over the last ``1 / (1 - decay)`` steps or so and smooths the
    step-to-step noise of a high learning rate (BENCHMARKS.md, Defaults panel).
    """
    return ExponentialAverage(model, config.average) if config.average else None


def make_schedule(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    """A per-step learning-rate schedule, or None for a constant rate."""
    total = config.epochs * steps_per_epoch
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total)
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    return None
