"""The small shared core, importable in both environments (Rasa's Python 3.10
and the application's 3.11): logging and settings errors (``runtime``), typed
secrets, SQLite WAL, the MiniLM encoder (``minilm``), the one redaction policy
for customers' words (``redact``) and the names bot, actions and handoff share
(``contract``). ``database`` (SQLAlchemy, Alembic) and ``settings``
(pydantic-settings) are for the application packages only. ``core`` imports no
other Frontline package.
"""
