"""The Rasa project of Frontline.

``bot/`` holds what Rasa reads (``domain/``, ``credentials.yml``,
``endpoints*.yml``, ``logging.yml``; ``config.yml`` is at the top), the widget
(``bot/widget/``, TypeScript) and, in ``bot.engine``, the only Python that runs
inside the Rasa engine. See "The house" in docs/architecture.md.
"""
