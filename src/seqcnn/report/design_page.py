"""The page of a design: ``design.html``, self-contained, from the design folder's figures and tables.

:func:`write_design_page` takes what ``seqcnn design`` measured (a summary, the figures' paths and the
motif counts of the starts against the designs) and writes one HTML file with the images inlined.
"""

from __future__ import annotations

import html
from pathlib import Path

from seqcnn.files import atomic_write_text
from seqcnn.report.sections import image_uri

_STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
          "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
          "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%}"
          ".note{color:#555;font-size:90%}")


def _table(columns: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_design_page(path: str | Path, summary: list[tuple[str, str]], figures: list[tuple[str, Path]],
                      motif_columns: list[str], motif_rows: list[list[str]], notes: list[str]) -> Path:
    """Write the design page.

    Args:
        path: the HTML file.
        summary: ``(what, value)`` rows of the summary table.
        figures: ``(caption, PNG)`` in order; missing files are left out.
        motif_columns: the header of the motif table.
        motif_rows: motifs gained or lost (starts against designs).
        notes: lines shown under the summary (what was refused or kept as it was).
    """
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>seqcnn design</title>"
             f"<style>{_STYLE}</style></head><body><h1>Sequence design</h1>",
             _table(["", "value"], [list(r) for r in summary])]
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in notes]
    for caption, png in figures:
        uri = image_uri(png)
        if uri:
            parts.append(f"<h2>{html.escape(caption)}</h2><img src='{uri}' alt='{html.escape(caption)}'>")
    parts.append("<h2>Known motifs gained and lost (FIMO, JASPAR, p &lt; 1e-4)</h2>")
    parts.append(_table(motif_columns, motif_rows) if motif_rows else "<p>No motif count changed.</p>")
    parts.append("</body></html>")
    path = Path(path)
    atomic_write_text(path, "\n".join(parts) + "\n")
    return path
