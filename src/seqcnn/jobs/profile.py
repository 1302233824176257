"""Base-resolution profile models (BPNet-style): training from bigWig tracks, and prediction with such a run.

:func:`train_profiles` is what ``seqcnn train PEAKS --genome FASTA --signal PLUS.bw,MINUS.bw`` runs: the windows
of :mod:`seqcnn.data.profiles`, the zoo's ``bpnet`` (or a spec ending in ``ProfileHead``), BPNet's loss
(multinomial NLL of the profile + lambda x MSE of ``log(1 + total reads)``, lambda by default the median total
reads of the training peaks / 10, printed), Adam, jitter and reverse-complement augmentation, early stopping on
the validation loss, then the test chromosomes' metrics against the average training profile
(:func:`seqcnn.metrics.profile_metrics`) and a run folder: ``config.json`` (with a ``profile`` record that
:func:`predict_profiles` reads), ``model.json``, ``model.safetensors``, ``history.csv``, ``metrics.json``,
``test_profiles.npz`` and ``report.html`` with its figures.

:func:`predict_profiles` is ``seqcnn predict RUN PEAKS --genome FASTA -o pred.npz [--bigwig-out DIR]``.
"""

from __future__ import annotations

import copy
import platform
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from seqcnn import __version__
from seqcnn.data import profiles as pdata
from seqcnn.errors import InputError, RunError
from seqcnn.files import atomic_open, file_sha256
from seqcnn.io.bed import Genome
from seqcnn.io.bigwig import BigWig, write_bigwig_entries
from seqcnn.metrics import profile_metrics
from seqcnn.models import zoo
from seqcnn.models.lookup import is_spec_file
from seqcnn.models.network import build_model
from seqcnn.models.spec import ModelSpec
from seqcnn.report.profiles import write_profile_report
from seqcnn.runs.folder import RunFolder, load_model, new_run_dir, profile_record
from seqcnn.sequence import onehot_table
from seqcnn.training.devices import resolve_device
from seqcnn.training.losses import profile_loss


@dataclass
class ProfileRecipe:
    """How a profile model trains: Adam at 1e-3 (bpnet-lite's), batches of :func:`default_batch` unless given."""

    epochs: int = 20
    batch_size: int | None = None
    lr: float = 1e-3
    patience: int = 5
    seed: int = 0
    threads: int | None = None
    device: str = "auto"
    #: the counts head's learning rate over the rest's: one linear unit reading window averages, which Adam at 1e-3
    #: moves too slowly for the few hundred steps of a small data set (BENCHMARKS.md, Profile models)
    counts_lr_scale: float = 10.0

    def check(self) -> ProfileRecipe:
        """Refuse impossible values.

        Raises:
            InputError: naming the option.
        """
        for name in ("epochs", "batch_size", "patience"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise InputError(f"--lr must be positive, got {self.lr}")
        if not self.counts_lr_scale > 0:
            raise InputError(f"--counts-lr-scale must be positive, got {self.counts_lr_scale}")
        return self


def default_batch(n: int) -> int:
    """Batches that give an epoch of at least 100 steps, between 8 and 64 examples: on 800 peaks bpnet-lite's 64 makes
    13 steps an epoch, and in 6 epochs the model had not left the average profile, where batches of 8 reached a
    counts Pearson of 0.89 (BENCHMARKS.md, Profile models)."""
    return max(8, min(64, n // 100))


def profile_spec(model: str | None, tracks: int, input_length: int, output_length: int, control_tracks: int
                 ) -> ModelSpec:
    """The spec of a profile run: the zoo's ``bpnet`` (default) sized for the data, or a spec file that ends in a
    ``ProfileHead`` that fits it.

    Raises:
        InputError: for a zoo model that is not a profile model, or a spec whose head does not fit.
    """
    name = model or "bpnet"
    if not is_spec_file(name):
        entry = zoo.entry(name)
        if entry.family != "profile":
            profile_models = [n for n, e in zoo.ZOO.items() if e.family == "profile"]
            raise InputError(f"--model {name} is not a profile model; with --signal use one of {profile_models} or a "
                             "spec file ending in ProfileHead")
        spec = entry.build(classes=tracks, input_shape=(4, input_length), output_length=output_length,
                           control_tracks=control_tracks)
        spec.name, spec.description = name, entry.summary
    else:
        spec = ModelSpec.load(name)
    head = spec.layers[-1]
    wanted = {"tracks": tracks, "output_length": output_length, "control_tracks": control_tracks}
    if head.type != "ProfileHead" or any(head.args.get(k) != v for k, v in wanted.items()):
        raise InputError(f"{name}: a profile model must end in ProfileHead with {wanted} for these data; it ends in "
                         f"{head.type} {({k: head.args.get(k) for k in wanted})}")
    spec.analyse((4, input_length))  # a misfit spec fails before anything is written
    return spec


def train_profiles(peaks: str | Path, *, genome: str | Path, signal: str | list[str], control=None,
                   test_chroms=(), val_chroms=(), input_length: int = 2114, output_length: int = 1000,
                   jitter: int = pdata.MAX_JITTER, background_ratio: float = 0.1, counts_weight: float | None = None,
                   model: str | None = None, recipe: ProfileRecipe | None = None, out: str | Path | None = None,
                   force: bool = False, progress: bool = True, command: list[str] | None = None) -> Path:
    """Train a profile model on peaks, a genome and bigWig tracks, and write its run folder.

    Args:
        peaks: BED or narrowPeak file.
        genome: genome FASTA.
        signal: one or two bigWig files (see :func:`seqcnn.data.profiles.load_profiles`).
        control: control bigWig files, or None.
        test_chroms: held-out test chromosomes.
        val_chroms: validation chromosomes (default: 10 % of the training peaks at random).
        input_length: bases the model reads.
        output_length: bases of the predicted profile.
        jitter: largest training shift, bases.
        background_ratio: GC-matched background windows per peak.
        counts_weight: lambda of the counts loss; None: median total reads of the training peaks / 10.
        model: a profile zoo model (``bpnet``) or a spec file; None: ``bpnet``.
        recipe: epochs, batch size, learning rate, patience, seed, threads, device.
        out: the run folder (default ``runs/bpnet-<time>``).
        force: allow ``out`` to exist.
        progress: show progress bars.
        command: the command line, recorded in ``config.json``.

    Returns:
        The run folder.

    Raises:
        SeqcnnError: for bad files or options, before anything is written.
    """
    recipe = (recipe or ProfileRecipe()).check()
    started = time.time()
    data = pdata.load_profiles(peaks, genome, signal, control=control, test_chroms=test_chroms,
                               val_chroms=val_chroms, input_length=input_length, output_length=output_length,
                               jitter=jitter, background_ratio=background_ratio, seed=recipe.seed)
    weight = counts_weight if counts_weight is not None else pdata.counts_weight(data.train)
    data.notes.append(f"seqcnn: counts weight (lambda) {weight:.4g}: " + (
        "given" if counts_weight is not None else
        f"median total reads of the training peaks {weight * 10:.4g} / 10, as ChromBPNet (--counts-weight sets it)"))
    spec = profile_spec(model, len(data.tracks), input_length, output_length, len(data.controls))
    if recipe.batch_size is None:
        recipe = replace(recipe, batch_size=default_batch(len(data.train)))
        steps = -(-len(data.train) // recipe.batch_size)
        data.notes.append(f"seqcnn: batches of {recipe.batch_size} ({steps} steps an epoch; at least 100 steps, 8 to "
                          "64 examples; --batch-size sets it)")
    data.notes.append(f"seqcnn: {len(data.train):,} training, {len(data.val):,} validation, {len(data.test):,} test "
                      f"windows; model {spec.name}")
    for line in data.notes:
        print(line, file=sys.stderr)
    folder = RunFolder(new_run_dir(out, spec.name, force=force))
    if recipe.threads:
        torch.set_num_threads(recipe.threads)
    device = resolve_device(recipe.device)
    torch.manual_seed(recipe.seed)
    net = build_model(spec, (4, input_length)).to(device)
    with torch.no_grad():  # start the counts head at the training mean, not 0 (the loss's first steps)
        mean = float(np.log1p(data.train.signal.sum(axis=(1, 2))).mean())
        net.layers[-1].counts.bias.fill_(mean)
    rows, best = fit_profiles(net, data, weight, recipe, device, progress)
    folder.save_model(net)
    folder.write_history(rows)
    record = _config(data, spec, recipe, weight, rows, best, peaks, genome, command, time.time() - started)
    record["profile"].update(test_chroms=list(test_chroms), val_chroms=list(val_chroms))
    folder.write_config(record)
    test = data.test.take(np.flatnonzero(data.test.is_peak))
    probs, log_counts = predict_windows(net, test, data, device)
    observed = pdata.crop(test, data.jitter, input_length, output_length)[1]
    metrics = profile_metrics(observed, probs, log_counts, baseline_profile(data))
    metrics["windows"] = "test peaks"
    folder.write_metrics(metrics)
    with atomic_open(folder.path / "test_profiles.npz", "wb") as fh:
        np.savez_compressed(fh, ids=np.array(test.ids), observed=observed.astype(np.float32),
                            profile=probs.astype(np.float32), log_counts=log_counts.astype(np.float32),
                            baseline=baseline_profile(data).astype(np.float32))
    print(f"test: {format_profile_metrics(metrics)}", flush=True)
    write_profile_report(folder.path)
    return folder.path


def format_profile_metrics(m: dict) -> str:
    """The result line: counts and profile metrics, the baseline's beside them."""
    def num(x):
        return "n/a" if x is None else f"{x:.3f}"
    return (f"counts pearson {num(m['counts_pearson'])} spearman {num(m['counts_spearman'])} mse {num(m['counts_mse'])}"
            f"; profile median JSD {num(m['profile_jsd'])} (average profile {num(m['baseline_profile_jsd'])}), "
            f"NLL {num(m['profile_nll'])} ({num(m['baseline_profile_nll'])}), median pearson "
            f"{num(m['profile_pearson'])} ({num(m['baseline_profile_pearson'])}) on {m['n']} test peaks")


def baseline_profile(data: pdata.ProfileData) -> np.ndarray:
    """The average profile of the training peaks ``(tracks, output_length)``, each normalised first; sums to 1."""
    train = data.train.take(np.flatnonzero(data.train.is_peak)) if data.train.is_peak.any() else data.train
    signal = pdata.crop(train, data.jitter, data.input_length, data.output_length)[1].astype(np.float64)
    totals = signal.sum(axis=(1, 2), keepdims=True)
    shares = signal[totals[:, 0, 0] > 0] / totals[totals[:, 0, 0] > 0]
    mean = shares.mean(axis=0) if len(shares) else np.ones(signal.shape[1:])
    return mean / mean.sum()


def _tensors(codes: np.ndarray, signal: np.ndarray | None, control: np.ndarray | None, device):
    table = torch.from_numpy(onehot_table())
    x = table[torch.from_numpy(codes.astype(np.int64))].transpose(1, 2).contiguous().to(device)  # (B, 4, L)
    y = None if signal is None else torch.from_numpy(np.ascontiguousarray(signal, dtype=np.float32)).to(device)
    c = None if control is None else torch.from_numpy(np.ascontiguousarray(control, dtype=np.float32)).to(device)
    return x, y, c


def fit_profiles(net, data: pdata.ProfileData, weight: float, recipe: ProfileRecipe, device, progress: bool
                 ) -> tuple[list[dict], int]:
    """Train ``net`` with Adam, shifting and reverse-complementing each training batch; keep the weights of the
    epoch with the lowest validation loss, stopping after ``patience`` epochs without a better one.

    Returns:
        The history rows (one per epoch) and the best epoch.
    """
    from tqdm import tqdm  # progress bars only while training

    rng = np.random.default_rng(recipe.seed)
    head = net.layers[-1].counts
    rest = [p for name, p in net.named_parameters() if not name.startswith(f"layers.{len(net.layers) - 1}.counts.")]
    optimizer = torch.optim.Adam([{"params": rest}, {"params": list(head.parameters()),
                                                      "lr": recipe.lr * recipe.counts_lr_scale}], lr=recipe.lr)
    rows, best_loss, best_epoch, best_state, waited = [], float("inf"), 0, None, 0
    n = len(data.train)
    for epoch in range(1, recipe.epochs + 1):
        tic = time.time()
        net.train()
        order = rng.permutation(n)
        sums = np.zeros(3)
        bar = tqdm(range(0, n, recipe.batch_size), desc=f"epoch {epoch}/{recipe.epochs}", disable=not progress,
                   leave=False, file=sys.stderr)
        for start in bar:
            index = order[start:start + recipe.batch_size]
            batch = data.train.take(index)
            shift = rng.integers(0, 2 * data.jitter + 1, size=len(index))
            codes, signal, control = pdata.crop(batch, shift, data.input_length, data.output_length)
            codes, signal, control = pdata.augment(codes, signal, control, rng.random(len(index)) < 0.5,
                                                   data.stranded)
            x, y, c = _tensors(codes, signal, control, device)
            profile, counts = net(x, c)
            loss, nll, mse = profile_loss(profile, counts, y, weight)
            if not torch.isfinite(loss):
                raise InputError(f"training diverged at epoch {epoch} (loss {float(loss)}); try a lower --lr")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sums += np.array([loss.item(), nll.item(), mse.item()]) * len(index)
        row = {"epoch": epoch, "loss": sums[0] / n, "profile_nll": sums[1] / n, "counts_mse": sums[2] / n}
        val = evaluate_profiles(net, data.val, data, weight, device) if len(data.val) else None
        if val is not None:
            row.update(val_loss=val[0], val_profile_nll=val[1], val_counts_mse=val[2])
        row["seconds"] = round(time.time() - tic, 2)
        rows.append(row)
        score = row.get("val_loss", row["loss"])
        # one line per epoch even with --quiet, which hides only the bar: long work shows progress
        print(f"epoch {epoch}: loss {row['loss']:.4g}, validation {score:.4g} ({row['seconds']:.0f} s)",
              file=sys.stderr)
        if score < best_loss:
            best_loss, best_epoch, best_state, waited = score, epoch, copy.deepcopy(net.state_dict()), 0
        else:
            waited += 1
            if waited >= recipe.patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    return rows, best_epoch


def evaluate_profiles(net, windows: pdata.ProfileWindows, data: pdata.ProfileData, weight: float, device,
                      batch_size: int = 128) -> tuple[float, float, float]:
    """The loss and its two parts on centred windows, means over the windows."""
    net.eval()
    sums = np.zeros(3)
    with torch.no_grad():
        for start in range(0, len(windows), batch_size):
            part = windows.take(np.arange(start, min(start + batch_size, len(windows))))
            x, y, c = _tensors(*pdata.crop(part, data.jitter, data.input_length, data.output_length), device)
            profile, counts = net(x, c)
            sums += np.array([float(v) for v in profile_loss(profile, counts, y, weight)]) * len(part)
    return tuple(float(v) for v in sums / max(len(windows), 1))


def predict_windows(net, windows: pdata.ProfileWindows, data, device, batch_size: int = 128
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Profile probabilities ``(n, tracks, output_length)`` (one distribution over tracks and positions per window)
    and predicted ``log(1 + total reads)`` ``(n,)`` of centred windows."""
    net.eval()
    probs, counts = [], []
    with torch.no_grad():
        for start in range(0, len(windows), batch_size):
            part = windows.take(np.arange(start, min(start + batch_size, len(windows))))
            codes, _, control = pdata.crop(part, data.jitter, data.input_length, data.output_length)
            x, _, c = _tensors(codes, None, control, device)
            profile, log_counts = net(x, c)
            shape = profile.shape
            probs.append(torch.softmax(profile.flatten(1), dim=1).reshape(shape).cpu().numpy())
            counts.append(log_counts.reshape(-1).cpu().numpy())
    tracks = net.layers[-1].conv.out_channels
    if not probs:
        return np.zeros((0, tracks, data.output_length)), np.zeros(0)
    return np.concatenate(probs).astype(np.float64), np.concatenate(counts).astype(np.float64)


def _config(data: pdata.ProfileData, spec: ModelSpec, recipe: ProfileRecipe, weight: float, rows, best, peaks,
            genome, command, seconds: float) -> dict:
    files = [str(Path(p).resolve()) for p in (peaks, genome, *data.tracks, *data.controls)]
    return {
        "command": command or sys.argv,
        "data": {"source": str(Path(peaks).resolve()), "kind": "profile", "files": files,
                 "sha256": {p: file_sha256(p) for p in files},
                 "split": {"train": len(data.train), "validation": len(data.val), "test": len(data.test),
                           "test_peaks": int(data.test.is_peak.sum())}},
        "task": {"kind": "profile"},
        "profile": {"genome": str(Path(genome).resolve()), "signal": [str(Path(t).resolve()) for t in data.tracks],
                    "control": [str(Path(c).resolve()) for c in data.controls], "stranded": data.stranded,
                    "input_length": data.input_length, "output_length": data.output_length, "jitter": data.jitter,
                    "counts_weight": weight, "notes": [n.removeprefix("seqcnn: ") for n in data.notes]},
        "model": spec.name,
        "train": {**asdict(recipe), "optimizer": "adam", "best_epoch": best, "epochs_run": len(rows)},
        "seconds": round(seconds, 3),
        "versions": {"seqcnn": __version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "threads": torch.get_num_threads()},
    }


def predict_profiles(run: str | Path, peaks: str | Path, genome: str | Path, output: str | Path, *,
                     control: str | list[str] | None = None, bigwig_out: str | Path | None = None,
                     batch_size: int = 128) -> int:
    """Predict profiles and counts at peaks with a profile run; write ``output`` (.npz) and optionally bigWigs.

    The .npz holds ``ids`` (the BED name column, else ``chrom:start-end``), ``profile`` ``(n, output_length,
    tracks)`` (probabilities, summing to 1 over positions and tracks), ``counts`` ``(n, tracks)`` (expected reads
    per track in the output window), ``chrom``, ``start`` and ``end`` of each output window and ``tracks``.
    With ``bigwig_out``, one bigWig per track of expected reads per base (where windows overlap, the earlier
    window's values are kept).

    Returns:
        The number of peaks predicted.

    Raises:
        RunError: for a run that is not a profile run.
        InputError: for bad peaks or genome, or a missing control the model needs.
    """
    record = profile_record(run)
    if record is None:
        raise RunError(f"{run}: not a profile run (no 'profile' record in config.json); seqcnn predict RUN FILE "
                       "predicts a sequence file with other runs")
    net = load_model(run)
    controls = pdata.split_paths(control)
    if len(controls) != len(record["control"]):
        raise InputError(f"the run was trained with {len(record['control'])} control track(s); give as many with "
                         f"--control (got {len(controls)})")
    reader = pdata.TrackReader(Genome(genome), [], [BigWig(c) for c in controls])
    notes: list[str] = []
    windows = pdata.peak_windows(peaks, reader, record["input_length"], record["output_length"], 0, notes)
    pdata.edge_notes(reader, notes)
    for line in notes[1:]:
        print(line, file=sys.stderr)
    data = pdata.ProfileData(windows, windows, windows, [""] * net.layers[-1].conv.out_channels, controls,
                             record["input_length"], record["output_length"], 0)
    probs, log_counts = predict_windows(net, windows, data, torch.device("cpu"), batch_size)
    counts = np.expm1(log_counts)[:, None] * probs.sum(axis=2)  # (n, tracks)
    crop = (record["input_length"] - record["output_length"]) // 2
    starts = np.array([s + crop for _, s, _ in windows.places])
    names = [Path(t).stem for t in record["signal"]]
    with atomic_open(Path(output), "wb") as fh:
        np.savez(fh, ids=np.array(windows.ids), profile=probs.transpose(0, 2, 1).astype(np.float32),
                 counts=counts.astype(np.float32), chrom=np.array([c for c, _, _ in windows.places]),
                 start=starts, end=starts + record["output_length"], tracks=np.array(names))
    if bigwig_out is not None:
        write_predicted_tracks(bigwig_out, reader.genome, windows, starts, probs * np.expm1(log_counts)[:, None, None],
                               names)
    return len(windows)


def write_predicted_tracks(folder: str | Path, genome: Genome, windows: pdata.ProfileWindows, starts: np.ndarray,
                           reads: np.ndarray, names: list[str]) -> list[Path]:
    """One bigWig per track of predicted reads ``(n, tracks, L)`` placed at ``starts``, for a genome browser."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    order = sorted(range(len(starts)), key=lambda i: (list(genome.lengths).index(windows.places[i][0]), starts[i]))
    paths = []
    for t, name in enumerate(names):
        entries = []  # (chrom, start, values) sorted, without overlaps
        last: dict[str, int] = {}
        for i in order:
            chrom = windows.places[i][0]
            lo = max(int(starts[i]), last.get(chrom, 0))
            hi = int(starts[i]) + reads.shape[2]
            if hi > lo:
                entries.append((chrom, lo, reads[i, t, lo - int(starts[i]):]))
                last[chrom] = hi
        paths.append(write_bigwig_entries(folder / f"{name}.predicted.bw", genome.lengths, entries))
    return paths

