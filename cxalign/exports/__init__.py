"""Exports for analysts: responses, the scoring result and the whole survey as files.

``tables`` turns a survey into plain rows (and says what it withheld and why),
``writers`` writes rows as CSV, XLSX or JSON with spreadsheet formulas neutralised,
``files`` names and audits each download, and ``routes``/``commands`` are the thin
web and CLI fronts. docs/exports.md describes every file.
"""
