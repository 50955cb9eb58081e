"""Rasa's model graph run in a fixed order, planned once per set of targets
(runs inside the Rasa engine).

Rasa runs the graph of a loaded model (NLU pipeline, policies) through
``DaskGraphRunner.run`` twice or more per customer message: once to parse
it, once per predicted action. Each call cuts the schema down to the
targets' ancestors, builds a dask graph and lets dask order and execute it
(about 7% of Rasa's CPU per message under load, measured with py-spy). The
graph is a fixed, acyclic, single-threaded pipeline, so ``run_planned``
computes the same order once per set of targets and then calls the nodes
one after the other, with what dask would have given them: each parent's
``(node name, output)``, the ``(name, value)`` of each input, or a need's
bare name when nothing provides it (``GraphNode`` then reports the missing
input itself, as under dask).

``parse_message_in_thread`` takes the parse of a customer's message (the
NLU pipeline, half of Rasa's CPU per message, most of it in onnxruntime,
which releases the GIL) off the event loop, onto one worker thread: while
one message is parsed, the event loop goes on with the other conversations
(loading trackers, predicting, calling the action server), so Rasa's
process can use a second core. Parses still run one at a time, in the order
they were asked for; each conversation's messages stay in order because
Rasa handles a conversation under its lock.

``install()`` puts them in place of ``DaskGraphRunner.run`` and
``MessageProcessor.parse_message``; it is called with
the other engine speed-ups (``bot.engine.speedups``), so in
the server only; training, in its own process, still runs on dask.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

# (node name, node, names of the nodes or inputs it needs, in order)
Step = tuple[str, Any, tuple[str, ...]]


def plan(runner: DaskGraphRunner, targets: tuple[str, ...]) -> list[Step]:
    """The targets' ancestors in an order where every node comes after what
    it needs (depth first, in the schema's order)."""
    schema = runner._graph_schema.minimal_graph_schema(list(targets))
    nodes = schema.nodes
    order: list[Step] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in placed or name not in nodes:
            return
        if name in visiting:
            raise GraphRunError(f"the model's graph has a cycle through '{name}'")
        visiting.add(name)
        needs = tuple(nodes[name].needs.values())
        for need in needs:
            visit(need)
        visiting.discard(name)
        placed.add(name)
        order.append((name, runner._instantiated_nodes[name], needs))

    for name in nodes:
        visit(name)
    return order


def run_planned(
    self: DaskGraphRunner,
    inputs: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """``DaskGraphRunner.run`` without dask: same inputs, same result."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    plans: dict[tuple[str, ...], list[Step]] = self.__dict__.setdefault("_frontline_plans", {})
    steps = plans.get(run_targets)
    if steps is None:
        steps = plans[run_targets] = plan(self, run_targets)
    values: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and (value in values or any(s[0] == value for s in steps)):
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        values[name] = (name, value)
    try:
        for name, node, needs in steps:
            values[name] = node(*(values.get(need, need) for need in needs))
    except RuntimeError as error:  # as DaskGraphRunner.run
        raise GraphRunError("Error running runner.") from error
    return dict(values[target] for target in run_targets)


@functools.cache
def nlu_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="frontline-nlu")


_rasa_parse_message = MessageProcessor.parse_message


async def parse_message_in_thread(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker | None = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """``MessageProcessor.parse_message`` with the model's graph run on the
    NLU thread; same result, same checks against the domain."""
    if self.http_interpreter is not None:
        return await _rasa_parse_message(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    parse_data: dict[str, Any] = await asyncio.get_running_loop().run_in_executor(
        nlu_thread(),
        self._parse_message_with_graph,
        message,
        tracker,
        only_output_properties,
    )
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


def install() -> None:
    """Idempotent."""
    if DaskGraphRunner.run is not run_planned:
        DaskGraphRunner.run = run_planned  # type: ignore[method-assign]
    if MessageProcessor.parse_message is not parse_message_in_thread:
        MessageProcessor.parse_message = parse_message_in_thread  # type: ignore[method-assign]
