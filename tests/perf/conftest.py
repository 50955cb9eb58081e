"""The harness measures; it is not a test suite. Nothing here is collected, so
``make test`` never starts a benchmark."""

collect_ignore_glob = ["*.py", "baseline_bot/*"]
