"""Base-resolution profile data: peaks on a genome with bigWig signal tracks, as windows for BPNet-style models.

:func:`load_profiles` reads BED or narrowPeak peaks (summit from column 10 when the file has it, else the
interval's centre), an indexed genome FASTA and one bigWig per track (one: unstranded, ATAC or DNase; two:
stranded, plus then minus), optionally control tracks; it cuts around each summit an input window
(``input_length`` bases, 2,114 by default) and the signal of the central output window (``output_length``,
1,000), both widened by ``jitter`` on each side so that training can shift them (:func:`augment`). Background
regions matched on GC content are added at a stated ratio. Every real-world edge is counted and said, none is
a traceback: chromosome names that differ between files (``chr1`` against ``1``), windows off a chromosome end,
peaks on chromosomes absent from the genome or from a bigWig, NaN in a bigWig (read as 0); negative values are
refused (:mod:`seqcnn.io.bigwig`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqcnn.data.negatives import gc_matched_background
from seqcnn.errors import InputError
from seqcnn.io.bed import Genome, Peak, read_bed
from seqcnn.io.bigwig import BigWig, match_chrom
from seqcnn.io.text import numbered_lines
from seqcnn.sequence import COMPLEMENT_CODE

Place = tuple[str, int, int]  # genome chromosome, 0-based start, end of the widened input window

MAX_JITTER = 128


@dataclass
class ProfileWindows:
    """Windows of one part (training, validation or test), widened by ``jitter`` on each side.

    Attributes:
        ids: the BED name column, else ``chrom:start-end`` of the peak; ``background:chrom:start-end``.
        places: the widened input window on the genome.
        codes: uint8 bases ``(n, input_length + 2 * jitter)``.
        signal: reads ``(n, tracks, output_length + 2 * jitter)``.
        control: control reads ``(n, control_tracks, input_length + 2 * jitter)`` or None.
        is_peak: False for background regions.
    """

    ids: list[str]
    places: list[Place]
    codes: np.ndarray
    signal: np.ndarray
    control: np.ndarray | None
    is_peak: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> ProfileWindows:
        """The windows at ``index``."""
        return ProfileWindows([self.ids[i] for i in index], [self.places[i] for i in index], self.codes[index],
                              self.signal[index], None if self.control is None else self.control[index],
                              self.is_peak[index])


@dataclass
class ProfileData:
    """A profile data set split into parts, with what was inferred and skipped (``notes``, printed)."""

    train: ProfileWindows
    val: ProfileWindows
    test: ProfileWindows
    tracks: list[str]
    controls: list[str]
    input_length: int
    output_length: int
    jitter: int
    notes: list[str] = field(default_factory=list)

    @property
    def stranded(self) -> bool:
        """Two tracks, plus then minus: reverse complements swap them."""
        return len(self.tracks) == 2


def split_paths(text: str | Sequence[str] | None) -> list[str]:
    """``PLUS.bw,MINUS.bw`` (or a list) as paths; [] for None."""
    if text is None:
        return []
    items = text.split(",") if isinstance(text, str) else list(text)
    return [str(t).strip() for t in items if str(t).strip()]


def check_lengths(input_length: int, output_length: int, jitter: int) -> None:
    """Refuse window lengths that cannot work.

    Raises:
        InputError: naming the option and what was expected.
    """
    if input_length < 1 or output_length < 1:
        raise InputError(f"--input-length and --output-length must be positive, got {input_length} and "
                         f"{output_length}")
    if output_length > input_length:
        raise InputError(f"--output-length {output_length} is longer than --input-length {input_length}; the output "
                         "window lies inside the input window")
    if not 0 <= jitter <= MAX_JITTER:
        raise InputError(f"--jitter must be between 0 and {MAX_JITTER} bases, got {jitter}")


def summit_column(path: str | Path) -> int | None:
    """10 when the first record has at least 10 columns (narrowPeak: the summit's offset), else None (centre)."""
    for _, line in numbered_lines(path):
        fields = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
        if fields and fields[0] and not fields[0].startswith(("#", "track", "browser")):
            return 10 if len(fields) >= 10 else None
    return None


def _peak_id(peak: Peak, name: str | None) -> str:
    return name if name and name != "." else f"{peak.chrom}:{peak.start}-{peak.end}"


def _names(path: str | Path) -> dict[int, str]:
    """Line number -> the BED name column (column 4), where there is one."""
    out = {}
    for number, line in numbered_lines(path):
        fields = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
        if len(fields) >= 4:
            out[number] = fields[3]
    return out


class TrackReader:
    """The genome and the tracks, with chromosome names matched across them and every skip counted.

    Args:
        genome: the genome.
        tracks: the signal tracks (none when predicting).
        controls: the control tracks.
    """

    def __init__(self, genome: Genome, tracks: list[BigWig], controls: list[BigWig]):
        self.genome, self.tracks, self.controls = genome, tracks, controls
        self.skipped: Counter = Counter()
        self.renamed: set[tuple[str, str, str]] = set()  # (file, name asked, name found)

    def chrom(self, name: str, source: str) -> str | None:
        """The genome's name for chromosome ``name`` of ``source``, if the genome and every track have it."""
        found = match_chrom(name, self.genome.lengths)
        if found is None:
            self.skipped["on chromosomes absent from the genome"] += 1
            return None
        if found != name:
            self.renamed.add((source, name, f"{self.genome.path.name}: {found}"))
        for bw in (*self.tracks, *self.controls):
            own = match_chrom(found, bw.chroms)
            if own is None:
                self.skipped[f"on chromosomes absent from {bw.path.name}"] += 1
                return None
            if own != found:
                self.renamed.add((str(bw.path.name), found, own))
        return found

    def window(self, chrom: str, start: int, input_len: int, output_len: int):
        """Codes, signal and control of the widened window at ``start``, or None (counted) off the chromosome."""
        end = start + input_len
        if start < 0 or end > self.genome.lengths[chrom]:
            self.skipped["with windows off a chromosome end"] += 1
            return None
        crop = (input_len - output_len) // 2
        codes = self.genome.codes(chrom, start, end)
        signal = np.stack([bw.values(match_chrom(chrom, bw.chroms), start + crop, start + crop + output_len)
                           for bw in self.tracks]) if self.tracks else np.zeros((0, output_len), np.float32)
        control = (np.stack([bw.values(match_chrom(chrom, bw.chroms), start, end) for bw in self.controls])
                   if self.controls else None)
        return codes, signal, control


def load_profiles(peaks: str | Path, genome: str | Path, signal: str | Sequence[str], *,
                  control: str | Sequence[str] | None = None, test_chroms: Sequence[str] = (),
                  val_chroms: Sequence[str] = (), input_length: int = 2114, output_length: int = 1000,
                  jitter: int = MAX_JITTER, background_ratio: float = 0.1, val_fraction: float = 0.1,
                  seed: int = 0) -> ProfileData:
    """Peaks, genome and bigWig tracks as training, validation and test windows (see the module's description).

    Args:
        peaks: BED or narrowPeak file.
        genome: genome FASTA (indexed with pyfaidx).
        signal: one bigWig (unstranded) or two (plus, minus), a list or ``A.bw,B.bw``.
        control: control bigWigs, or None.
        test_chroms: chromosomes held out as the test part (required).
        val_chroms: chromosomes held out for validation; none: a random ``val_fraction`` of the training peaks.
        input_length: bases the model reads.
        output_length: bases of the predicted profile, centred in the input.
        jitter: the largest shift of the training windows, bases (at most 128).
        background_ratio: GC-matched background regions per peak (0 for none).
        val_fraction: see ``val_chroms``.
        seed: random seed for the background and the validation draw.

    Raises:
        InputError: for bad options, unreadable files, negative signal, no test peaks or nothing to train on.
    """
    check_lengths(input_length, output_length, jitter)
    tracks, controls = split_paths(signal), split_paths(control)
    if len(tracks) not in (1, 2):
        raise InputError(f"--signal takes one bigWig (unstranded) or two (plus,minus strand), got {len(tracks)}")
    if not test_chroms:
        raise InputError("--test-chroms is required with --signal (e.g. --test-chroms chr8,chr9): profile models are "
                         "tested on held-out chromosomes")
    if background_ratio < 0:
        raise InputError(f"--background-ratio must be 0 or more, got {background_ratio}")
    reader = TrackReader(Genome(genome), [BigWig(p) for p in tracks], [BigWig(p) for p in controls])
    notes = [f"seqcnn: task: profile (inferred from --signal: {len(tracks)} bigWig track"
             f"{'s, stranded: ' if len(tracks) == 2 else ', unstranded: '}{', '.join(Path(t).name for t in tracks)}"
             f"{'; control ' + ', '.join(Path(c).name for c in controls) if controls else ''})"]
    windows = peak_windows(peaks, reader, input_length, output_length, jitter, notes)
    test_names = {reader.chrom(c, "--test-chroms") or c for c in test_chroms}
    val_names = {reader.chrom(c, "--val-chroms") or c for c in val_chroms}
    part = np.array([2 if p[0] in test_names else 1 if p[0] in val_names else 0 for p in windows.places])
    if not (part == 2).any():
        raise InputError(f"{peaks}: no peaks on the test chromosomes {','.join(test_chroms)}; check --test-chroms")
    if not (part == 0).any():
        raise InputError(f"{peaks}: every peak is on the test or validation chromosomes; nothing left to train on")
    rng = np.random.default_rng(seed)
    if not val_chroms:
        train_rows = np.flatnonzero(part == 0)
        part[rng.choice(train_rows, size=max(1, round(val_fraction * len(train_rows))), replace=False)] = 1
        notes.append(f"seqcnn: validation: {int((part == 1).sum())} training peaks drawn at random "
                     f"({val_fraction:.0%}; --val-chroms holds out whole chromosomes)")
    background = _background(reader, windows, part, background_ratio, input_length, output_length, jitter, seed,
                             notes)
    edge_notes(reader, notes)
    for bw in (*reader.tracks, *reader.controls):
        if bw.nan_values:
            notes.append(f"seqcnn: {bw.path}: {bw.nan_values:,} NaN values read as 0")
    parts = []
    for k in range(3):
        own = windows.take(np.flatnonzero(part == k))
        extra = background[k]
        parts.append(own if extra is None else _concat(own, extra))
    return ProfileData(*parts, tracks=tracks, controls=controls, input_length=input_length,
                       output_length=output_length, jitter=jitter, notes=notes)


def peak_windows(peaks, reader: TrackReader, input_length: int, output_length: int, jitter: int,
                 notes: list[str]) -> ProfileWindows:
    """The windows of every usable peak (summits from column 10 of a narrowPeak file), skips counted in
    ``reader`` and what was inferred appended to ``notes``."""
    column = summit_column(peaks)
    records = read_bed(peaks, summit_column=column)
    names = _names(peaks)
    notes.append(f"seqcnn: windows: input {input_length:,} bases, output {output_length:,}, centred on "
                 f"{'the summit (column 10)' if column else 'the interval centre (no summit column)'}; jitter up to "
                 f"{jitter} bases and reverse complements in training"
                 f"{' (strands swapped)' if len(reader.tracks) == 2 else ''}")
    ids, places, codes, signal, control, seen = [], [], [], [], [], set()
    width = input_length + 2 * jitter
    for p in records:
        chrom = reader.chrom(p.chrom, str(peaks))
        if chrom is None:
            continue
        centre = p.start + (p.summit if p.summit is not None else (p.end - p.start) // 2)
        start = centre - input_length // 2 - jitter
        if (chrom, start) in seen:
            reader.skipped["repeating an earlier peak's window"] += 1
            continue
        got = reader.window(chrom, start, width, output_length + 2 * jitter)
        if got is None:
            continue
        seen.add((chrom, start))
        ids.append(_peak_id(p, names.get(p.line)))
        places.append((chrom, start, start + width))
        codes.append(got[0])
        signal.append(got[1])
        control.append(got[2])
    if not ids:
        raise InputError(f"{peaks}: no peak has a window inside the genome ({dict(reader.skipped) or 'none read'})")
    tracks = len(reader.tracks)
    return ProfileWindows(ids, places, np.stack(codes),
                          np.stack(signal) if signal else np.zeros((0, tracks, output_length + 2 * jitter)),
                          np.stack(control) if reader.controls else None, np.ones(len(ids), dtype=bool))


def _background(reader: TrackReader, windows: ProfileWindows, part: np.ndarray, ratio: float, input_length: int,
                output_length: int, jitter: int, seed: int, notes: list[str]) -> list[ProfileWindows | None]:
    """GC-matched genome windows, ``ratio`` per peak of each part, from that part's chromosomes (validation drawn
    at random from the training chromosomes when it has none of its own)."""
    if ratio <= 0:
        notes.append("seqcnn: background: none (--background-ratio 0)")
        return [None, None, None]
    out: list[ProfileWindows | None] = []
    chroms_of = [sorted({windows.places[i][0] for i in np.flatnonzero(part == k)}) for k in range(3)]
    usable = [c for c in reader.genome.lengths if all(match_chrom(c, bw.chroms) for bw in
                                                       (*reader.tracks, *reader.controls))]
    for k in range(3):
        rows = np.flatnonzero(part == k)
        n = round(ratio * len(rows))
        chroms = [c for c in chroms_of[k] if c in usable] or None
        if n == 0 or chroms is None:
            out.append(None)
            continue
        _, where = gc_matched_background(reader.genome, windows.codes[rows], n=n + 20, exclude=windows.places,
                                         chroms=chroms, seed=seed + k, oversample=50, nearest=True)
        pick = np.random.default_rng(seed + k).choice(len(where), size=min(n, len(where)), replace=False)
        where = [where[i] for i in np.sort(pick)]  # exactly n: the GC bins' rounding gives a few more or fewer
        ids, places, codes, signal, control = [], [], [], [], []
        for chrom, start, end in where:
            got = reader.window(chrom, start, end - start, output_length + 2 * jitter)
            if got is None:
                continue
            ids.append(f"background:{chrom}:{start + jitter}-{end - jitter}")
            places.append((chrom, start, end))
            codes.append(got[0])
            signal.append(got[1])
            control.append(got[2])
        out.append(ProfileWindows(ids, places, np.stack(codes), np.stack(signal),
                                  np.stack(control) if reader.controls else None, np.zeros(len(ids), dtype=bool)))
    sizes = [0 if b is None else len(b) for b in out]
    notes.append(f"seqcnn: background: {sum(sizes):,} genome windows matched on GC content to the peaks "
                 f"(ratio {ratio:g} per peak; training {sizes[0]}, validation {sizes[1]}, test {sizes[2]})")
    return out


def edge_notes(reader: TrackReader, notes: list[str]) -> None:
    """Append to ``notes`` what ``reader`` skipped and which chromosome names it matched across files."""
    if reader.skipped:
        said = "; ".join(f"{n:,} {why}" for why, n in sorted(reader.skipped.items()))
        notes.append(f"seqcnn: skipped: {said}")
    if reader.renamed:
        pairs = sorted(reader.renamed)
        shown = ", ".join(f"{a} in {src} -> {b}" for src, a, b in pairs[:3])
        notes.append(f"seqcnn: chromosome names differ between files, matched: {shown}"
                     f"{f' (and {len(pairs) - 3} more)' if len(pairs) > 3 else ''}")


def _concat(a: ProfileWindows, b: ProfileWindows) -> ProfileWindows:
    return ProfileWindows(a.ids + b.ids, a.places + b.places, np.concatenate([a.codes, b.codes]),
                          np.concatenate([a.signal, b.signal]),
                          None if a.control is None else np.concatenate([a.control, b.control]),
                          np.concatenate([a.is_peak, b.is_peak]))


def crop(windows: ProfileWindows, shift: np.ndarray | int, input_length: int, output_length: int
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The windows shifted by ``shift`` bases (0 to ``2 * jitter``; ``jitter`` is centred): codes
    ``(n, input_length)``, signal ``(n, tracks, output_length)``, control ``(n, c, input_length)`` or None."""
    n = len(windows)
    shift = np.broadcast_to(np.asarray(shift), (n,))
    rows = np.arange(n)[:, None]
    take_in = shift[:, None] + np.arange(input_length)[None, :]  # (n, input_length)
    take_out = shift[:, None] + np.arange(output_length)[None, :]
    codes = windows.codes[rows, take_in]
    signal = windows.signal[rows[:, :, None], np.arange(windows.signal.shape[1])[None, :, None], take_out[:, None, :]]
    control = None
    if windows.control is not None:
        control = windows.control[rows[:, :, None], np.arange(windows.control.shape[1])[None, :, None],
                                  take_in[:, None, :]]
    return codes, signal, control


def augment(codes: np.ndarray, signal: np.ndarray, control: np.ndarray | None, flip: np.ndarray, stranded: bool
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Reverse complements of the rows where ``flip``: bases complemented and reversed, signal reversed, and for
    stranded tracks (plus, minus) the two strands swapped."""
    codes, signal = codes.copy(), signal.copy()
    codes[flip] = COMPLEMENT_CODE[codes[flip][:, ::-1]]
    turned = signal[flip][:, :, ::-1]
    signal[flip] = turned[:, ::-1] if stranded else turned
    if control is not None:
        control = control.copy()
        turned = control[flip][:, :, ::-1]
        control[flip] = turned[:, ::-1] if control.shape[1] == 2 else turned
    return codes, signal, control


def counts_weight(train: ProfileWindows) -> float:
    """ChromBPNet's weight of the counts loss: the median total reads of the training peaks / 10 (at least 1)."""
    totals = train.signal[train.is_peak].sum(axis=(1, 2)) if train.is_peak.any() else train.signal.sum(axis=(1, 2))
    return max(1.0, float(np.median(totals)) / 10)
