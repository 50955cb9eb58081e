"""Fixtures of the kb_index tests: a small help center, settings pointing at
temporary folders, the real embedding model (loaded once per session)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from kb_index import Embedder, KBSettings
from kb_index.db import create_engine, upgrade
from kb_index.settings import PACKAGED_MODEL

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
FIXTURE_PREFIX = "https://help.example.com/articles/"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(PACKAGED_MODEL)


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    """A copy of the fixture help center that a test may edit."""
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


def make_settings(
    source_dir: Path, storage_dir: Path, database_url: str, **overrides: object
) -> KBSettings:
    values: dict[str, object] = {
        "source_dir": source_dir,
        "storage_dir": storage_dir,
        "database_url": database_url,
        "articles_base_url": FIXTURE_PREFIX,
        "chunk_min_words": 10,
        "chunk_max_words": 60,
        "poll_interval": 0.05,
        "confidence_threshold": 0.5,
    }
    values.update(overrides)
    return KBSettings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(source_dir: Path, tmp_path: Path, database_url: str) -> KBSettings:
    return make_settings(source_dir, tmp_path / "store", database_url)


@pytest.fixture
def engine(settings: KBSettings) -> Iterator[sa.Engine]:
    engine = create_engine(settings.database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
