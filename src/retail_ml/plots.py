"""PNG bytes of a matplotlib figure, the same way for every plot the docs site shows."""

from __future__ import annotations

import io

from matplotlib.figure import Figure


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG at 100 dpi, with no software/version metadata, so the same data gives
    the same bytes (committed plots change only when their numbers do)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()
