"""The harness measures; it is not a test suite. Only its own unit tests
(``test_*.py``: the scenario format and the judge) are collected, so
``make test`` never starts a benchmark."""

collect_ignore_glob = ["baseline_bot/*"]
