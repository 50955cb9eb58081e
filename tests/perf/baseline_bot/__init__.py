"""The baseline for ``make bench``: Rasa's own sample bot (``rasa init``), on
the same engine environment and machine as Frontline, so speed figures can be
given as ratios.

Nothing of Rasa's sample is committed: ``ensure()`` runs ``rasa init
--no-prompt --init-dir var/bench/baseline`` (which also trains it, about 80 s)
the first time, and reuses that folder while it holds a model. The sample bot
(DIET + TED, no action server, in-memory tracker store) is run unchanged, with
``credentials.yml`` from this folder: the REST channel and Frontline's socket.io
channel."""

from tests.perf.baseline_bot.bot import BaselineBot, ensure, rasa_service

__all__ = ["BaselineBot", "ensure", "rasa_service"]
