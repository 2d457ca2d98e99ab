"""Matched instruments: what is asked, in both wordings, and how staff manage it.

- ``spec``: the instrument as plain dataclasses (no Flask, no database).
- ``loader`` and ``builtin.yaml``: the instrument file format, its validator, and the
  built-in instrument.
- ``store``: instruments in the database, frozen versions, and the spec of a stored one.
- ``operations``, ``forms``, ``routes``: the editor, preview, clone, import and export.
"""
