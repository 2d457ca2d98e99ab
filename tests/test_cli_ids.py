"""Every command that takes an id refuses one the database could not hold with a reason,
never a traceback: ``²`` passes ``str.isdigit()`` but not ``int()``, and a 40-digit number
overflows the integer column (an error on PostgreSQL, ``OverflowError`` on SQLite)."""

from __future__ import annotations

import pytest

BAD_IDS = ["²", "9" * 40, "-3", "abc"]

COMMANDS = [
    ["open-survey", "{id}"],
    ["close-survey", "{id}"],
    ["send-invitations", "{id}"],
    ["send-reminders", "{id}"],
    ["next-wave", "{id}"],
    ["score", "{id}"],
    ["report", "{id}", "-o", "{tmp}/out.pdf"],
    ["export", "{id}", "--what", "results", "-o", "{tmp}/out.csv"],
    ["create-survey", "--org", "{id}", "--title", "T"],
]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_bad_id_is_refused_with_a_reason(runner, tmp_path, command, bad):
    args = ["cxalign", *(part.format(id=bad, tmp=tmp_path) for part in command)]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Error" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.pdf").exists() and not (tmp_path / "out.csv").exists()
