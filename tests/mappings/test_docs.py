"""docs/mapping-tables.md documents every transform and every shape of the closed registries."""

from __future__ import annotations

from pathlib import Path

from jnx.mappings.shapes import SHAPES
from jnx.mappings.transforms import TRANSFORMS

DOC = Path(__file__).resolve().parents[2] / "docs" / "mapping-tables.md"


def test_every_transform_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert [name for name in TRANSFORMS if f"`{name}`" not in text] == []


def test_every_shape_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert [name for name in SHAPES if f"| `{name}` |" not in text] == []
