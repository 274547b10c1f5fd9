"""The one error the ops commands report as a single line."""

from __future__ import annotations


class OpsError(Exception):
    """Something the operator can fix; the message says what and how."""


