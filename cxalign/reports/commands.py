"""CLI commands of this feature, added to the ``cxalign`` group."""

from __future__ import annotations

from cxalign.cli import cli  # noqa: F401
