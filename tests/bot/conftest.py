"""The application's run (``.venv/app``, Python 3.11) leaves ``engine/`` out: the
code Rasa loads is tested with the engine's own Python, in a run of its own
(``tests/bot/engine/conftest.py``)."""

collect_ignore = ["engine"]
