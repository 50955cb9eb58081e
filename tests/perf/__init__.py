"""Frontline's measurement harness: ``make eval`` (quality) and ``make bench``
(speed). Not collected by pytest (see ``conftest.py``); see docs/benchmarks.md."""
