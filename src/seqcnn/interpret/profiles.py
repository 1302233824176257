"""What a profile model (BPNet-style) learned: attributions of its counts head and of its profile head, and the
TF-MoDISco patterns behind the counts, matched to JASPAR (``seqcnn explain`` on a profile run); variant effects
(``seqcnn variants`` on a profile run: log2 fold change of the predicted reads, JSD of the predicted profiles).

The two scores explained are BPNet's: the predicted ``log(1 + total reads)``, and for the profile the weighted
mean of the profile logits, each centred on its window's mean and weighted by the predicted probabilities held
fixed (so that the attribution says what moves the shape, not the scale). Both are plain torch modules sharing
the run's weights, with ReLU modules, which tangermeme's DeepLIFT/SHAP rules recognise.

Writes ``attributions.npz`` (``ids``, ``x``, ``counts``, ``profile``: ``(n, 4, L)``),
``plots/profile_attributions/attributions.png`` and, with patterns, ``patterns.meme``, ``patterns.tsv`` and
``plots/patterns/``; ``explain.json`` says what was run.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqcnn.data import profiles as pdata
from seqcnn.errors import InputError, RunError
from seqcnn.files import atomic_write_text
from seqcnn.interpret.attribution import deep_lift_shap
from seqcnn.interpret.patterns import PatternOptions, explain_patterns
from seqcnn.interpret.variants import make_windows, map_contigs
from seqcnn.io import jaspar
from seqcnn.io.bed import Genome
from seqcnn.io.vcf import read_variants
from seqcnn.metrics import jensen_shannon
from seqcnn.models.network import Conv1D, DilatedResidual, ProfileHead
from seqcnn.report.profiles import draw_attributions, write_profile_report
from seqcnn.runs.folder import RunFolder, load_model
from seqcnn.sequence import onehot_table


class _Residual(nn.Module):
    def __init__(self, layer: DilatedResidual):
        super().__init__()
        self.conv, self.relu = layer.conv, nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.relu(self.conv(x))


class _Trunk(nn.Module):
    """The run's layers up to its ProfileHead, with ReLU modules (first layer: a same-padded Conv1D)."""

    def __init__(self, model):
        super().__init__()
        layers: list[nn.Module] = []
        for layer in model.layers[:-1]:
            if isinstance(layer, DilatedResidual):
                layers.append(_Residual(layer))
            elif isinstance(layer, Conv1D):
                conv = nn.Conv1d(layer.in_channels, layer.out_channels, layer.kernel_size, dilation=layer.dilation)
                conv.weight, conv.bias = layer.weight, layer.bias
                layers += [nn.ConstantPad1d(layer.pad, 0.0), conv] + ([nn.ReLU()] if layer.activation == "relu" else [])
            else:
                raise ValueError(f"no DeepLIFT rule here for {type(layer).__name__} in a profile model")
        self.layers = nn.Sequential(*layers)
        self.head: ProfileHead = model.layers[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class CountsScore(_Trunk):
    """The predicted ``log(1 + total reads)``. Shape: ``(N, 4, L)`` -> ``(N, 1)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layers(x)
        head = self.head
        start = (h.shape[2] - head.output_length) // 2
        half = head.kernel // 2
        return head.counts(h[:, :, start - half:start + head.output_length + half].mean(dim=2))


class ProfileScore(_Trunk):
    """BPNet's profile score: ``sum(p * (logits - mean(logits)))`` with ``p``, the predicted probabilities, held
    fixed. Shape: ``(N, 4, L)`` -> ``(N, 1)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layers(x)
        head = self.head
        start = (h.shape[2] - head.output_length) // 2
        logits = head.conv(h)[:, :, start:start + head.output_length].flatten(1)  # (N, tracks * L)
        centred = logits - logits.mean(dim=1, keepdim=True)
        weights = torch.softmax(logits, dim=1).detach()
        return (centred * weights).sum(dim=1, keepdim=True)


def test_peaks(run: RunFolder) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The run's test peaks, strongest first: ids, codes ``(n, input_length)`` and observed total reads."""
    config = run.config()
    record = config["profile"]
    if "test_chroms" not in record:
        raise RunError(f"{run.path}: config.json does not record the test chromosomes; train the run again")
    data = pdata.load_profiles(config["data"]["source"], record["genome"], record["signal"],
                               control=record["control"] or None, test_chroms=record["test_chroms"],
                               val_chroms=record["val_chroms"], input_length=record["input_length"],
                               output_length=record["output_length"], jitter=0, background_ratio=0)
    test = data.test
    totals = test.signal.sum(axis=(1, 2))
    usable = np.flatnonzero((test.codes < 4).all(axis=1))  # DeepLIFT/SHAP's shuffles need A, C, G and T only
    order = usable[np.argsort(-totals[usable], kind="stable")]
    return [test.ids[i] for i in order], test.codes[order], totals[order]


def explain_profiles(run, *, n_sequences: int = 10, patterns: bool = False, n_shuffles: int = 20, seed: int = 0,
                     max_pattern_sequences: int = 400, release: str = jaspar.DEFAULT_RELEASE,
                     collection: str = jaspar.DEFAULT_COLLECTION, tax_group: str = jaspar.DEFAULT_TAX_GROUP) -> dict:
    """Attribute a profile run's strongest test peaks (counts and profile heads) and, with ``patterns``, find the
    TF-MoDISco patterns of the counts head over up to ``max_pattern_sequences`` test peaks.

    Returns:
        The summary written to ``explain.json``.

    Raises:
        RunError: for a run that is not a profile run.
    """
    folder = RunFolder(run)
    model = load_model(folder.path)
    if model.layers[-1].control_tracks:
        raise InputError(f"{folder.path}: explaining a profile model with control tracks is not supported yet; "
                         "seqcnn predict reads it")
    ids, codes, totals = test_peaks(folder)
    table = onehot_table()
    x = table[codes[:n_sequences]].transpose(0, 2, 1).copy()  # (n, 4, L)
    counts = deep_lift_shap(CountsScore(model).eval(), x, target=1, n_shuffles=n_shuffles, seed=seed)
    with warnings.catch_warnings():  # the profile score's weights are fixed per window, so its attributions do not
        warnings.filterwarnings("ignore", message="Convergence deltas")  # sum to its change (BPNet's score too)
        profile = deep_lift_shap(ProfileScore(model).eval(), x, target=1, n_shuffles=n_shuffles, seed=seed)
    folder.write_arrays("attributions.npz", ids=np.array(ids[:n_sequences]), x=x, counts=counts, profile=profile)
    plot = draw_attributions(counts, profile, x, ids[:n_sequences], folder.plot_folder("profile_attributions"))
    summary: dict = {"kind": "profile", "sequences": {"ids": ids[:n_sequences], "reads": totals[:n_sequences].tolist()},
                     "attributions": {"method": "DeepLIFT/SHAP", "n_shuffles": n_shuffles, "seed": seed,
                                      "scores": ["log counts", "weighted mean profile logits"],
                                      "file": "attributions.npz", "plot": str(plot.relative_to(folder.path))}}
    if patterns:
        pool = table[codes[:max_pattern_sequences]].transpose(0, 2, 1).copy()
        options = PatternOptions(target=1, n_shuffles=n_shuffles, seed=seed, max_sequences=max_pattern_sequences)
        targets = jaspar.load_jaspar(release, collection, tax_group)
        summary["patterns"] = explain_patterns(CountsScore(model).eval(), pool, targets, folder.path, options)
        summary["patterns"]["sequences"] = len(pool)
        summary["patterns"]["score"] = "log counts"
    folder.write_explain_summary(summary)
    write_profile_report(folder.path)  # the page shows the attributions and patterns too
    return summary


def _predict_codes(model, codes: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities ``(n, tracks, L)`` and ``log(1 + total)`` ``(n,)`` of base codes ``(n, input_length)``."""
    table = torch.from_numpy(onehot_table())
    probs, counts = [], []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(codes), batch_size):
            x = table[torch.from_numpy(codes[start:start + batch_size].astype(np.int64))].transpose(1, 2)
            profile, log_counts = model(x.contiguous())
            probs.append(torch.softmax(profile.flatten(1), dim=1).reshape(profile.shape).numpy())
            counts.append(log_counts.reshape(-1).numpy())
    return np.concatenate(probs), np.concatenate(counts)


#: Columns of a profile run's variants table.
VARIANT_COLUMNS = ("id", "chrom", "pos", "ref", "alt", "counts_ref", "counts_alt", "log2_fold_change", "jsd")


def score_profile_variants(run, genome, *, vcf=None, table=None, output=None, strict_ref: bool = False,
                           strict: bool = False, skip_missing_contigs: bool = False, batch_size: int = 64) -> dict:
    """Score variants with a profile run: per variant the predicted reads of the reference and alternative windows
    (centred on the variant), the log2 fold change of ``1 + reads`` and the Jensen-Shannon distance between the two
    predicted profiles. Windows, REF checks and contig names as :func:`seqcnn.interpret.variants.make_windows`.

    Returns:
        ``{"scored", "skipped", "output"}``.

    Raises:
        InputError: for bad files, no scorable variant, or a run with control tracks.
    """
    folder = RunFolder(run)
    model = load_model(folder.path)
    if model.layers[-1].control_tracks:
        raise InputError(f"{folder.path}: scoring variants with a profile model that reads control tracks is not "
                         "supported yet")
    if (vcf is None) == (table is None):
        raise InputError("give exactly one of --vcf FILE and --variants TABLE")
    source = vcf if vcf is not None else table
    variants, skips = read_variants(source, "vcf" if vcf is not None else "table")
    reference = Genome(genome)
    contigs = map_contigs([v.chrom for v in variants], reference, source, skip_missing_contigs)
    length = folder.config()["profile"]["input_length"]
    windows = make_windows(variants, reference, length, skips, contig_map=contigs, strict_ref=strict_ref,
                           strict=strict, source=source)
    if not windows.variants:
        raise InputError(f"{source}: no variant could be scored; skipped {skips.summary()}")
    p_ref, c_ref = _predict_codes(model, windows.ref, batch_size)
    p_alt, c_alt = _predict_codes(model, windows.alt, batch_size)
    log2fc = (c_alt - c_ref) / np.log(2)
    jsd = jensen_shannon(p_ref, p_alt)
    lines = ["\t".join(VARIANT_COLUMNS)]
    for i, v in enumerate(windows.variants):
        lines.append("\t".join([v.id or v.label(), v.chrom, str(v.pos), v.ref, v.alt, f"{np.expm1(c_ref[i]):.4g}",
                                f"{np.expm1(c_alt[i]):.4g}", f"{log2fc[i]:.4g}", f"{jsd[i]:.4g}"]))
    path = Path(output) if output else folder.path / "variants.tsv"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return {"scored": len(windows.variants), "skipped": skips.summary(), "output": path, "contigs": contigs}
