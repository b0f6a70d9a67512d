"""Measuring the product: BEIR benchmarks (`latent eval --beir`) and the metrics they use."""

from __future__ import annotations

__all__: list[str] = []
