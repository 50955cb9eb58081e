"""The small shared core, importable in both environments (Rasa's Python 3.10
and the application's 3.11): logging and settings errors (``runtime``), typed
secrets, SQLite WAL, the MiniLM encoder (``minilm``) and the one redaction
policy for customers' words (``redact``). ``database`` (SQLAlchemy, Alembic) is
for the application packages only. ``core`` imports no other Frontline package.
"""
