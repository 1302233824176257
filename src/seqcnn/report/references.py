"""Published reference numbers that sweeps and reports are compared with."""

from __future__ import annotations

#: Median test AUROC over 690 ENCODE experiments per model, Zeng et al. 2016 (Bioinformatics 32:i121);
#: see ../shared/data/README.md.
ZENG2016_MEDIAN_AUROC = {
    "1layer_128motif": 0.879, "1layer": 0.846, "2layer": 0.826, "1layer_local_win9": 0.823,
    "1layer_64motif": 0.819, "3layer": 0.817, "1layer_local_win3": 0.800, "1layer_1motif": 0.674,
}


def zeng_name(model: str) -> str | None:
    """Zeng et al.'s name of a model label (``zeng2016-1layer_128motif``, ``zeng-1layer`` or ``1layer``), or None."""
    key = model.lower().replace("-", "_")
    for prefix in ("zeng2016_", "zeng_"):
        key = key.removeprefix(prefix)
    return key if key in ZENG2016_MEDIAN_AUROC else None
