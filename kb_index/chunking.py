"""Splitting an article into passages along its headings.

Each section (the text under a heading) becomes one passage when it fits
between ``min_words`` and ``max_words``; longer sections are split on
paragraphs (then list items, table rows or sentences), tiny ones are merged
with their neighbour. Every passage knows its heading path
(``("If the link expired",)`` under the article title) and carries, for
embedding and keyword search, the article title and heading path in front of
its plain text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from kb_index.documents import Document

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(*\[])")
LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
PATH_SEPARATOR = " > "


@dataclass(frozen=True)
class Chunk:
    """A passage of an article. ``text`` is Markdown as written (shown to
    customers), ``embed_text`` is what is embedded and keyword-indexed: title,
    heading path and the passage as plain text."""

    chunk_id: str
    doc_id: str
    position: int
    heading_path: tuple[str, ...]
    text: str
    line: int
    embed_text: str

    @property
    def heading(self) -> str:
        return PATH_SEPARATOR.join(self.heading_path)

    @property
    def embed_hash(self) -> str:
        return hashlib.sha256(self.embed_text.encode()).hexdigest()


@dataclass
class _Piece:
    path: tuple[str, ...]
    text: str
    line: int

    @property
    def words(self) -> int:
        return len(self.text.split())


def chunk_document(document: Document, min_words: int, max_words: int) -> list[Chunk]:
    """The passages of ``document``, in reading order, then one entry per
    question of its ``questions`` field (heading ``QUESTIONS_HEADING``: they
    find the article; the answer shown is one of its passages)."""
    pieces: list[_Piece] = []
    for path, line, blocks in _sections(document):
        pieces.extend(_pack(path, blocks, line, max_words))
    merged = _merge_small(pieces, min_words, max_words)
    chunks = [
        Chunk(
            chunk_id=f"{document.id}#{position}",
            doc_id=document.id,
            position=position,
            heading_path=piece.path,
            text=piece.text,
            line=piece.line,
            embed_text=embed_text(document.title, piece.path, piece.text),
        )
        for position, piece in enumerate(merged)
    ]
    for number, question in enumerate(document.questions, start=len(chunks)):
        chunks.append(
            Chunk(
                chunk_id=f"{document.id}#{number}",
                doc_id=document.id,
                position=number,
                heading_path=(QUESTIONS_HEADING,),
                text=question,
                line=document.body_line,
                embed_text=f"{document.title}\n{question}",
            )
        )
    return chunks


def is_question(heading: str | tuple[str, ...]) -> bool:
    """Whether a passage (its heading path, or that path joined) is a
    ``questions`` entry rather than article text."""
    return heading in (QUESTIONS_HEADING, (QUESTIONS_HEADING,))


QUESTIONS_HEADING = "\u2063questions"  # an invisible separator: no heading starts so


def embed_text(title: str, path: tuple[str, ...], markdown: str) -> str:
    """Title, heading path and plain text, one per line."""
    lines = [title]
    if path:
        lines.append(PATH_SEPARATOR.join(path))
    lines.append(plain_text(markdown))
    return "\n".join(lines)


def plain_text(markdown: str) -> str:
    """Markdown without link targets, emphasis, table rules and heading marks."""
    out = []
    for line in markdown.splitlines():
        if TABLE_RULE.match(line) or FENCE.match(line):
            continue
        line = LINK.sub(r"\1", line)
        line = HEADING.sub(r"\2", line)
        line = line.replace("**", "").replace("__", "").replace("`", "")
        if line.lstrip().startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            line = "; ".join(cell for cell in cells if cell)
        line = line.strip()
        if line:
            out.append(line)
    return " ".join(" ".join(out).split())


# --- sections and blocks ---------------------------------------------------


def _sections(document: Document) -> list[tuple[tuple[str, ...], int, list[tuple[str, int]]]]:
    """(heading path, first line, blocks with their lines) per section."""
    sections: list[tuple[tuple[str, ...], int, list[tuple[str, int]]]] = []
    stack: list[tuple[int, str]] = []
    current: list[str] = []
    current_line = document.body_line
    block_start = document.body_line
    blocks: list[tuple[str, int]] = []
    path: tuple[str, ...] = ()
    in_fence = False

    def end_block() -> None:
        if current and any(line.strip() for line in current):
            blocks.append(("\n".join(current).strip("\n"), block_start))
        current.clear()

    def end_section() -> None:
        end_block()
        if blocks:
            sections.append((path, current_line, list(blocks)))
        blocks.clear()

    for offset, line in enumerate(document.body.splitlines()):
        number = document.body_line + (offset if document.lines_follow_body else 0)
        if FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else HEADING.match(line)
        if heading:
            end_section()
            level, text = len(heading.group(1)), _clean_heading(heading.group(2))
            while stack and stack[-1][0] >= level:
                stack.pop()
            if not (level == 1 and text.casefold() == document.title.casefold()):
                stack.append((level, text))
            path = tuple(text for _level, text in stack)
            current_line = number + 1
            block_start = number + 1
            continue
        if not line.strip() and not in_fence:
            end_block()
            block_start = number + 1
            continue
        if not current:
            block_start = number
        current.append(line)
    end_section()
    return sections


def _clean_heading(text: str) -> str:
    return LINK.sub(r"\1", text).replace("**", "").strip().strip('"')


def _pack(
    path: tuple[str, ...], blocks: list[tuple[str, int]], line: int, max_words: int
) -> list[_Piece]:
    """Greedily packs a section's blocks into pieces of at most ``max_words``."""
    units: list[tuple[str, int]] = []
    for text, start in blocks:
        if len(text.split()) <= max_words:
            units.append((text, start))
        else:
            units.extend((part, start) for part in _split_block(text, max_words))
    pieces: list[_Piece] = []
    buffer: list[str] = []
    buffer_line = line
    words = 0
    for text, start in units:
        count = len(text.split())
        if buffer and words + count > max_words:
            pieces.append(_Piece(path, "\n\n".join(buffer), buffer_line))
            buffer, words = [], 0
        if not buffer:
            buffer_line = start
        buffer.append(text)
        words += count
    if buffer:
        pieces.append(_Piece(path, "\n\n".join(buffer), buffer_line))
    return pieces


def _split_block(text: str, max_words: int) -> list[str]:
    """Splits one oversized block: tables by rows (header repeated), lists by
    items, code by lines, prose by sentences."""
    lines = text.splitlines()
    header: list[str] = []
    if lines[0].lstrip().startswith("|"):
        if len(lines) > 1 and TABLE_RULE.match(lines[1]):
            header, lines = lines[:2], lines[2:]
        units = lines
    elif LIST_ITEM.match(lines[0]):
        units = []
        for item in lines:
            if LIST_ITEM.match(item) or not units:
                units.append(item)
            else:
                units[-1] += "\n" + item
    elif FENCE.match(lines[0]):
        units = lines
    else:
        units = [part for part in SENTENCE_END.split(" ".join(lines)) if part.strip()]
    parts: list[str] = []
    buffer: list[str] = []
    header_words = len(" ".join(header).split())
    words = header_words
    joiner = " " if not (header or LIST_ITEM.match(lines[0]) or FENCE.match(lines[0])) else "\n"
    for unit in units:
        count = len(unit.split())
        if buffer and words + count > max_words:
            parts.append(joiner.join(header + buffer) if header else joiner.join(buffer))
            buffer, words = [], header_words
        buffer.append(unit)
        words += count
    if buffer:
        parts.append(joiner.join(header + buffer) if header else joiner.join(buffer))
    return parts


def _merge_small(pieces: list[_Piece], min_words: int, max_words: int) -> list[_Piece]:
    """Merges pieces under ``min_words`` with a neighbour when the result stays
    within ``max_words``: into the previous piece when it is a sub-section of it
    (or the same section), else into the next one, else into the previous one.
    The merged piece keeps the common heading path; sub-headings that are not
    in it stay in its text."""
    result: list[_Piece] = []
    carry: _Piece | None = None
    for piece in pieces:
        if carry is not None:
            if carry.words + piece.words <= max_words:
                piece = _join(carry, piece)
            else:
                result.append(carry)
            carry = None
        if piece.words >= min_words:
            result.append(piece)
            continue
        previous = result[-1] if result else None
        if (
            previous is not None
            and piece.path[: len(previous.path)] == previous.path
            and previous.words + piece.words <= max_words
        ):
            result[-1] = _join(previous, piece)
        else:
            carry = piece
    if carry is not None:
        if result and result[-1].words + carry.words <= max_words:
            result[-1] = _join(result[-1], carry)
        else:
            result.append(carry)
    return result


def _join(first: _Piece, second: _Piece) -> _Piece:
    common: list[str] = []
    for left, right in zip(first.path, second.path, strict=False):
        if left != right:
            break
        common.append(left)
    path = tuple(common)

    def with_headings(piece: _Piece) -> str:
        extra = piece.path[len(path) :]
        lead = [f"{'#' * (len(path) + 2 + depth)} {heading}" for depth, heading in enumerate(extra)]
        return "\n\n".join([*lead, piece.text])

    return _Piece(path, with_headings(first) + "\n\n" + with_headings(second), first.line)
