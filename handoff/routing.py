"""Routing rules: which human queue gets an escalation, its priority, hours and SLA.

The rules live in a YAML file (``handoff/routing.yml`` by default) so that changing
routing needs no code change. ``load_routing(path)`` reads and validates the file
once, at start; every problem is reported at once, each with its path in the file
(``queues.tier2-billing.sla_minutes.P5: unknown priority (expected P1, P2, P3 or P4)``).

Errors: ``RoutingError`` (``source``, ``problems``) when the file is missing or
invalid; ``UnknownQueue`` (``name``) when asked for a queue the rules do not have.

The result is immutable and pure: ``Routing.route(category, text, verified,
repeat_contact)`` gives a ``Route``; ``Routing.is_open(queue, now)`` and
``Routing.sla_deadlines(queue, priority, since)`` answer from the queue's schedule.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from handoff.errors import HandoffError

__all__ = [
    "DEFAULT_ROUTING_FILE",
    "PRIORITIES",
    "TIERS",
    "PriorityRule",
    "Queue",
    "Route",
    "Routing",
    "RoutingError",
    "Schedule",
    "SlaDeadlines",
    "UnknownQueue",
    "load_routing",
    "parse_routing",
]

DEFAULT_ROUTING_FILE = Path(__file__).parent / "routing.yml"

Priority = Literal["P1", "P2", "P3", "P4"]
PRIORITIES: tuple[str, ...] = get_args(Priority)  # most urgent first
TIERS = (2, 3, 4)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead a schedule is searched for its next opening (closed_on lists
# could close a queue for long; a validated schedule opens at least weekly).
_SEARCH_DAYS = 3 * 366


class RoutingError(HandoffError):
    """The routing file is missing or invalid; ``problems`` lists every problem."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        listed = "\n".join(f"  - {problem}" for problem in self.problems)
        count = len(self.problems)
        super().__init__(
            f"{source}: {count} problem{'s' if count != 1 else ''} in the routing rules:\n{listed}"
        )


class UnknownQueue(HandoffError):
    """No queue has this name in the routing rules."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no queue named {name!r} in the routing rules")
        self.name = name


# --- The file's shape (pydantic) ----------------------------------------------

_CHANNEL = re.compile(r"^(?:[CG][A-Z0-9]{6,}|#[a-z0-9][a-z0-9._-]{0,79})$")
_RANGE = re.compile(r"^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SlaModel(_Model):
    P1: int = Field(gt=0)
    P2: int = Field(gt=0)
    P3: int = Field(gt=0)
    P4: int = Field(gt=0)


def _parse_ranges(value: str | list[str] | None) -> tuple[tuple[int, int], ...]:
    """``"08:00-12:00, 13:00-17:00"`` (or a list) as minutes of the day."""
    if value is None:
        return ()
    parts = [p for item in ([value] if isinstance(value, str) else value) for p in item.split(",")]
    ranges: list[tuple[int, int]] = []
    for part in (p.strip() for p in parts):
        if part.lower() == "closed":
            continue
        match = _RANGE.match(part)
        if match is None:
            raise ValueError(f"{part!r} is not a time range like 08:00-17:30")
        sh, sm, eh, em = (int(g) for g in match.groups())
        start, end = sh * 60 + sm, eh * 60 + em
        if sh > 23 or sm > 59 or em > 59 or end > 24 * 60:
            raise ValueError(f"{part!r} is not a time of day (00:00 to 24:00)")
        if end <= start:
            raise ValueError(f"{part!r} ends before it starts; split ranges at midnight")
        ranges.append((start, end))
    ranges.sort()
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start < end:
            raise ValueError(f"time ranges overlap in {value!r}")
    return tuple(ranges)


class _ScheduleModel(_Model):
    timezone: str
    mon: str | list[str] | None = None
    tue: str | list[str] | None = None
    wed: str | list[str] | None = None
    thu: str | list[str] | None = None
    fri: str | list[str] | None = None
    sat: str | list[str] | None = None
    sun: str | list[str] | None = None
    closed_on: list[date] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Amsterdam)"
            ) from None
        return value

    @field_validator(*WEEKDAYS)
    @classmethod
    def _valid_ranges(cls, value: str | list[str] | None) -> str | list[str] | None:
        _parse_ranges(value)
        return value


def _check_channel(value: str) -> str:
    if not _CHANNEL.match(value):
        raise ValueError(f"{value!r} is neither a Slack channel id (C0123ABCD) nor a #channel-name")
    return value


class _QueueModel(_Model):
    tier: Literal[2, 3, 4]
    channel: str
    team: str = Field(min_length=1, max_length=80)
    hours: str
    sla_minutes: _SlaModel
    usual_wait_minutes: int = Field(gt=0)

    _channel = field_validator("channel")(_check_channel)


def _check_words(words: list[str]) -> list[str]:
    for word in words:
        if not word.strip():
            raise ValueError("words must not be empty")
        if "*" in word.rstrip("*") or word.endswith("**"):
            raise ValueError(f"{word!r}: '*' is allowed once, at the end of a word")
    return words


class _PriorityRuleModel(_Model):
    name: str = Field(min_length=1)
    priority: Priority
    words: list[str] = []
    categories: list[str] = []

    _words = field_validator("words")(_check_words)


class _RaiseModel(_Model):
    urgent_words: list[str] = []
    verified_customer: bool = True
    repeat_contact: bool = True
    limit: Priority = "P2"

    _words = field_validator("urgent_words")(_check_words)


class _PriorityModel(_Model):
    default: Priority = "P3"
    rules: list[_PriorityRuleModel] = []
    raise_one_step: _RaiseModel = _RaiseModel()


class _CategoryKeywordsModel(_Model):
    category: str
    words: list[str] = Field(min_length=1)
    hand_over: bool = False

    _words = field_validator("words")(_check_words)


class _SlaSettingsModel(_Model):
    lead_channel: str
    lead_after: float = Field(2.0, ge=1.0)
    business_minutes: bool = True

    _channel = field_validator("lead_channel")(_check_channel)


class _RoutingModel(_Model):
    version: Literal[1]
    sla: _SlaSettingsModel
    schedules: dict[str, _ScheduleModel] = Field(min_length=1)
    queues: dict[str, _QueueModel] = Field(min_length=1)
    tiers: dict[int, str]
    default_queue: str
    categories: dict[str, str] = {}
    category_keywords: list[_CategoryKeywordsModel] = []
    priority: _PriorityModel = _PriorityModel()


# --- The validated rules ------------------------------------------------------


@lru_cache(maxsize=512)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any of ``words`` as whole words.

    A phrase matches across any whitespace; a trailing ``*`` matches any ending
    (``burn*``: burn, burns, burnt, burning).
    """
    if not words:
        return None
    alternatives = []
    for word in words:
        tokens = word.casefold().split()
        parts = [
            re.escape(token[:-1]) + r"\w*" if token.endswith("*") else re.escape(token)
            for token in tokens
        ]
        alternatives.append(r"\s+".join(parts))
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Schedule:
    """Opening hours of a queue: minute ranges per weekday (0 = Monday) in a zone."""

    name: str
    timezone: ZoneInfo
    week: Mapping[int, tuple[tuple[int, int], ...]]
    closed_on: frozenset[date] = frozenset()

    def open_periods(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open periods (UTC, merged where they touch) that end after ``since``,
        the first one clipped to start at ``since``."""
        since = _aware(since).astimezone(UTC)
        first_day = since.astimezone(self.timezone).date() - timedelta(days=1)
        pending: tuple[datetime, datetime] | None = None
        for offset in range(_SEARCH_DAYS):
            day = first_day + timedelta(days=offset)
            if day in self.closed_on:
                continue
            for start_minute, end_minute in self.week.get(day.weekday(), ()):
                start = self._at(day, start_minute)
                end = self._at(day, end_minute)
                if end <= since:
                    continue
                start = max(start, since)
                if pending is not None and start <= pending[1]:
                    pending = (pending[0], max(end, pending[1]))
                    continue
                if pending is not None:
                    yield pending
                pending = (start, end)
        if pending is not None:
            yield pending

    def is_open(self, now: datetime) -> tuple[bool, datetime | None]:
        """Whether the queue is staffed at ``now``; if not, when it next opens (UTC)."""
        now = _aware(now).astimezone(UTC)
        for start, _ in self.open_periods(now):
            return (True, None) if start <= now else (False, start)
        return False, None

    def add_open_minutes(self, since: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` of opening time have passed after ``since`` (UTC)."""
        remaining = timedelta(minutes=minutes)
        for start, end in self.open_periods(since):
            if end - start >= remaining:
                return start + remaining
            remaining -= end - start
        raise ValueError(f"schedule {self.name!r} does not open in the next {_SEARCH_DAYS} days")

    def _at(self, day: date, minute: int) -> datetime:
        if minute >= 24 * 60:
            day, minute = day + timedelta(days=1), minute - 24 * 60
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.timezone)
        return local.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware datetime")
    return moment


@dataclass(frozen=True)
class Queue:
    """A human queue: one Slack channel, staffed by one team of one tier."""

    name: str
    tier: int
    channel: str
    team: str
    schedule: Schedule
    sla_minutes: Mapping[str, int]
    usual_wait_minutes: int


@dataclass(frozen=True)
class Route:
    """Where an escalation goes and how urgent it is.

    ``category`` is the category routed (a keyword rule may have refined the one
    given); ``reasons`` say why the priority is what it is, e.g. ``("safety: smoke",
    "verified customer")``.
    """

    tier: int
    queue: str
    channel: str
    team: str
    priority: str
    sla_minutes: int
    usual_wait_minutes: int
    category: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlaDeadlines:
    """When an unclaimed escalation gets a reminder in its queue and a post to the leads."""

    reminder_at: datetime
    lead_at: datetime


@dataclass(frozen=True)
class PriorityRule:
    """Sets the priority when a word matches the text or the category is listed."""

    name: str
    priority: str
    words: tuple[str, ...] = ()
    categories: frozenset[str] = frozenset()

    def match(self, category: str, text: str) -> str | None:
        """What matched (the word as written, or the category), or ``None``."""
        if category in self.categories:
            return category
        pattern = _word_pattern(self.words)
        found = pattern.search(text) if pattern else None
        return found.group(0).casefold() if found else None


@dataclass(frozen=True)
class _CategoryKeywords:
    category: str
    words: tuple[str, ...]
    # The words show a request only a person can handle: the bot hands it over
    # instead of trying self-service, and it goes to this category's queue
    # whatever the bot understood.
    hand_over: bool = False

    def matches(self, text: str) -> bool:
        pattern = _word_pattern(self.words)
        return pattern is not None and pattern.search(text) is not None


@dataclass(frozen=True)
class Routing:
    """Validated routing rules (see ``routing.yml`` for what each part means)."""

    queues: Mapping[str, Queue]
    tier_queues: Mapping[int, str]
    default_queue: str
    categories: Mapping[str, str]
    category_keywords: tuple[_CategoryKeywords, ...]
    default_priority: str
    priority_rules: tuple[PriorityRule, ...]
    urgent_words: tuple[str, ...]
    raise_for_verified: bool
    raise_for_repeat_contact: bool
    raise_limit: str
    lead_channel: str
    lead_after: float
    business_minutes: bool

    def queue(self, name: str) -> Queue:
        """The queue called ``name``; ``UnknownQueue`` if there is none."""
        try:
            return self.queues[name]
        except KeyError:
            raise UnknownQueue(name) from None

    def queue_for_tier(self, tier: int) -> Queue:
        """The queue a case goes to when an agent escalates it to ``tier``."""
        if tier not in self.tier_queues:
            raise ValueError(f"tier must be one of {TIERS}, not {tier!r}")
        return self.queues[self.tier_queues[tier]]

    def route(self, category: str, text: str, verified: bool, repeat_contact: bool) -> Route:
        """The queue and priority for an escalation of ``category`` whose customer
        wrote ``text`` (the customer's messages, joined)."""
        category = self._refine(category, text)
        queue = self.queues[self.categories.get(category, self.default_queue)]
        priority, reasons = self._priority(category, text, verified, repeat_contact)
        return Route(
            tier=queue.tier,
            queue=queue.name,
            channel=queue.channel,
            team=queue.team,
            priority=priority,
            sla_minutes=queue.sla_minutes[priority],
            usual_wait_minutes=queue.usual_wait_minutes,
            category=category,
            reasons=tuple(reasons),
        )

    def is_open(self, queue: Queue | str, now: datetime) -> tuple[bool, datetime | None]:
        """Whether ``queue`` is staffed at ``now`` and, if not, when it opens next (UTC)."""
        return self._queue(queue).schedule.is_open(now)

    def sla_deadlines(self, queue: Queue | str, priority: str, since: datetime) -> SlaDeadlines:
        """Reminder and lead deadlines of a case queued at ``since``; with
        ``sla.business_minutes`` only minutes while the queue is open count."""
        resolved = self._queue(queue)
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, not {priority!r}")
        minutes = resolved.sla_minutes[priority]
        if not self.business_minutes:
            start = _aware(since).astimezone(UTC)
            return SlaDeadlines(
                start + timedelta(minutes=minutes),
                start + timedelta(minutes=minutes * self.lead_after),
            )
        return SlaDeadlines(
            resolved.schedule.add_open_minutes(since, minutes),
            resolved.schedule.add_open_minutes(since, minutes * self.lead_after),
        )

    def _queue(self, queue: Queue | str) -> Queue:
        return self.queue(queue) if isinstance(queue, str) else queue

    def triage(self, text: str) -> str | None:
        """The category of the first ``hand_over`` keyword rule ``text`` matches:
        a request that needs a person by its nature (a data-protection request,
        a legal threat, a hacked account...); None if there is none."""
        for rule in self.category_keywords:
            if rule.hand_over and rule.matches(text):
                return rule.category
        return None

    def _refine(self, category: str, text: str) -> str:
        needs_person = self.triage(text)
        if needs_person is not None:
            return needs_person
        if self.categories.get(category, self.default_queue) != self.default_queue:
            return category
        for rule in self.category_keywords:
            if rule.matches(text):
                return rule.category
        return category

    def _priority(
        self, category: str, text: str, verified: bool, repeat_contact: bool
    ) -> tuple[str, list[str]]:
        # The most urgent matching rule sets the priority (a P4 rule such as
        # "no rush" therefore only counts when nothing more urgent matched).
        levels: list[int] = []
        reasons: list[str] = []
        for rule in self.priority_rules:
            matched = rule.match(category, text)
            if matched is not None:
                levels.append(PRIORITIES.index(rule.priority))
                reasons.append(f"{rule.name}: {matched}")
        level = min(levels) if levels else PRIORITIES.index(self.default_priority)
        limit = PRIORITIES.index(self.raise_limit)
        raises: list[str] = []
        urgent = _word_pattern(self.urgent_words)
        found = urgent.search(text) if urgent else None
        if found:
            raises.append(f"urgent: {found.group(0).casefold()}")
        if verified and self.raise_for_verified:
            raises.append("verified customer")
        if repeat_contact and self.raise_for_repeat_contact:
            raises.append("repeat contact")
        for reason in raises:
            reasons.append(reason)
            if level > limit:
                level -= 1
        return PRIORITIES[level], reasons


# --- Loading and validation ---------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses duplicate keys (PyYAML keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def load_routing(path: str | Path = DEFAULT_ROUTING_FILE) -> Routing:
    """Reads and validates the routing file; ``RoutingError`` lists every problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise RoutingError(source, [f"cannot read the file: {error.strerror or error}"]) from None
    return parse_routing(text, source=source)


def parse_routing(text: str, *, source: str = "<routing>") -> Routing:
    """Validates routing rules given as YAML text (``source`` names it in errors)."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RoutingError(source, [f"{where}{problem}"]) from None
    if not isinstance(data, dict):
        raise RoutingError(source, ["the file must be a mapping (version, sla, queues, ...)"])
    problems: list[str] = []
    model: _RoutingModel | None = None
    try:
        model = _RoutingModel.model_validate(data)
    except ValidationError as error:
        problems.extend(_describe(error))
    problems.extend(_cross_check(data))
    if problems or model is None:
        raise RoutingError(source, problems)
    return _build(model)


def _path(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def _describe(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        loc = [p for p in item["loc"] if p not in ("[key]",)]
        kind = item["type"]
        parent = loc[-2] if len(loc) >= 2 else None
        if kind == "missing":
            message = "required"
        elif kind == "extra_forbidden" and parent == "sla_minutes":
            message = "unknown priority (expected P1, P2, P3 or P4)"
        elif kind == "extra_forbidden" and len(loc) == 3 and loc[0] == "schedules":
            message = f"unknown key (weekdays are {', '.join(WEEKDAYS)}; also timezone, closed_on)"
        elif kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "value_error":
            message = str(item["msg"]).removeprefix("Value error, ")
        else:
            message = str(item["msg"])
            shown = item.get("input")
            if isinstance(shown, str | int | float | bool) or shown is None:
                message += f" (got {shown!r})"
        problems.append(f"{_path(loc)}: {message}")
    # A union (str | list | None) reports one error per member; keep each line once.
    return list(dict.fromkeys(problems))


def _cross_check(data: Mapping[str, Any]) -> list[str]:
    """Checks between sections; tolerant of shapes pydantic already reports."""
    problems: list[str] = []
    queues = data.get("queues") if isinstance(data.get("queues"), dict) else {}
    schedules = data.get("schedules") if isinstance(data.get("schedules"), dict) else {}
    assert isinstance(queues, dict) and isinstance(schedules, dict)

    for name, queue in queues.items():
        hours = queue.get("hours") if isinstance(queue, dict) else None
        if isinstance(hours, str) and hours not in schedules:
            problems.append(f"queues.{name}.hours: no schedule named {queue['hours']!r}")

    def queue_exists(value: Any, where: str) -> bool:
        if isinstance(value, str) and value not in queues:
            problems.append(f"{where}: no queue named {value!r}")
            return False
        return isinstance(value, str)

    tiers = data.get("tiers")
    if isinstance(tiers, dict):
        for tier, name in tiers.items():
            where = _path(["tiers", tier])
            if not isinstance(tier, int):
                continue  # pydantic reports keys that are not numbers
            if tier not in TIERS:
                problems.append(f"{where}: unknown tier (expected 2, 3 or 4)")
                continue
            if queue_exists(name, where):
                queue_tier = queues[name].get("tier") if isinstance(queues[name], dict) else None
                if queue_tier in TIERS and queue_tier != tier:
                    problems.append(f"{where}: queue {name!r} is tier {queue_tier}, not {tier}")
        for tier in TIERS:
            if tier not in tiers:
                problems.append(
                    f"tiers[{tier}]: required (the queue for escalations to tier {tier})"
                )

    queue_exists(data.get("default_queue"), "default_queue")
    categories = data.get("categories")
    if isinstance(categories, dict):
        for category, name in categories.items():
            queue_exists(name, f"categories.{category}")
    routed = set(categories) if isinstance(categories, dict) else set()
    keywords = data.get("category_keywords")
    if isinstance(keywords, list):
        for index, rule in enumerate(keywords):
            category = rule.get("category") if isinstance(rule, dict) else None
            if isinstance(category, str) and category not in routed:
                problems.append(
                    f"category_keywords[{index}].category: {category!r} has no queue in categories"
                )
    priority = data.get("priority")
    rules = priority.get("rules") if isinstance(priority, dict) else None
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            if isinstance(rule, dict) and not rule.get("words") and not rule.get("categories"):
                problems.append(f"priority.rules[{index}]: needs words or categories to match")
    return problems


def _build(model: _RoutingModel) -> Routing:
    schedules = {
        name: Schedule(
            name=name,
            timezone=ZoneInfo(schedule.timezone),
            week={
                index: _parse_ranges(getattr(schedule, day))
                for index, day in enumerate(WEEKDAYS)
                if _parse_ranges(getattr(schedule, day))
            },
            closed_on=frozenset(schedule.closed_on),
        )
        for name, schedule in model.schedules.items()
    }
    queues = {
        name: Queue(
            name=name,
            tier=queue.tier,
            channel=queue.channel,
            team=queue.team,
            schedule=schedules[queue.hours],
            sla_minutes=queue.sla_minutes.model_dump(),
            usual_wait_minutes=queue.usual_wait_minutes,
        )
        for name, queue in model.queues.items()
    }
    raising = model.priority.raise_one_step
    return Routing(
        queues=queues,
        tier_queues=dict(model.tiers),
        default_queue=model.default_queue,
        categories=dict(model.categories),
        category_keywords=tuple(
            _CategoryKeywords(rule.category, tuple(rule.words), rule.hand_over)
            for rule in model.category_keywords
        ),
        default_priority=model.priority.default,
        priority_rules=tuple(
            PriorityRule(rule.name, rule.priority, tuple(rule.words), frozenset(rule.categories))
            for rule in model.priority.rules
        ),
        urgent_words=tuple(raising.urgent_words),
        raise_for_verified=raising.verified_customer,
        raise_for_repeat_contact=raising.repeat_contact,
        raise_limit=raising.limit,
        lead_channel=model.sla.lead_channel,
        lead_after=model.sla.lead_after,
        business_minutes=model.sla.business_minutes,
    )
