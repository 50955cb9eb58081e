"""bot/engine/graph_runner.py: with the product model, the planned runner gives
exactly what Rasa's dask runner gives, for parsing and for predicting actions,
and the same errors; and parsing on the NLU thread, several messages at once,
gives what Rasa's parse on the event loop gives. In a fresh engine process:
Rasa's runner runs first, then ours is installed in its place."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.engine import graph_runner
from tests.bot.engine.harness import in_fresh_engine
from tests.bot.engine.values import plain

TEXTS = [
    "hi",
    "where is my order BW-104233?",
    "my email is emma.devries@example.com",
    "I'd like to talk to a person please",
    "asdf qwerty",
    "thanks!!",
]
HANDLER = "run_RegexMessageHandler"


class Run:
    """Parses, predicts and fails with one processor's graph runner,
    recording which threads parse."""

    def __init__(self, processor: MessageProcessor) -> None:
        self.processor = processor
        self.runner = processor.graph_runner
        self.domain = processor.domain
        self.threads: set[str] = set()
        graph_parse = processor._parse_message_with_graph

        def parse_recording_thread(*args: Any) -> Any:
            self.threads.add(threading.current_thread().name)
            return graph_parse(*args)

        processor._parse_message_with_graph = parse_recording_thread

    def conversation(self) -> list[list[Any]]:
        """Each message parsed, then the next action predicted after it."""
        tracker = DialogueStateTracker.from_events("c1", [ActionExecuted("action_listen")])
        turns = []
        for text in TEXTS:
            parsed = self.processor._parse_message_with_graph(UserMessage(text), tracker)
            tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed))
            prediction = self.processor._predict_next_with_tracker(tracker)
            turns.append([plain(parsed), prediction.policy_name, plain(prediction.probabilities)])
            action = self.domain.action_names_or_texts[prediction.max_confidence_index]
            tracker.update(ActionExecuted(action))
            tracker.update(SlotSet("kb_query", text))
            tracker.update(ActionExecuted("action_listen"))
        return turns

    def error(self, inputs: dict[str, Any], targets: list[str]) -> list[str] | None:
        try:
            self.runner.run(inputs=inputs, targets=targets)
        except Exception as error:
            return [error.__class__.__name__, str(error)]
        return None

    async def parse_concurrently(self) -> list[dict[str, Any]]:
        """What Rasa's server does: several conversations' messages at once."""
        return list(
            await asyncio.gather(*(self.processor.parse_message(UserMessage(t)) for t in TEXTS))
        )

    def everything(self) -> dict[str, Any]:
        return {
            "parsed": plain(asyncio.run(self.parse_concurrently())),
            "turns": self.conversation(),
            "errors": [
                self.error({"__message__": "nlu_message_converter"}, [HANDLER]),
                self.error({}, ["no_such_node"]),
                self.error({"__message__": [UserMessage("hi")]}, ["run_RulePolicy1"]),
            ],
            "all": sorted(self.runner.run(inputs={}, targets=None)),
        }


def compare_runners(model: str) -> dict[str, Any]:
    run = Run(Agent.load(model).processor)
    dask = run.everything()
    graph_runner.install()
    graph_runner.install()  # idempotent
    planned = run.everything()
    again = run.everything()  # with the plans made
    return {
        "same": [dask == planned, planned == again],
        "runner": DaskGraphRunner.run.__module__,
        "parse": type(run.processor).parse_message.__module__,
        "threads": sorted(run.threads),
        "plans": len(run.runner._frontline_plans),
        "errors": planned["errors"],
        # a real parse of each message (which intents depends on the model)
        "intents_known": [
            turn[0]["intent"]["name"] in {*run.domain.intents, "nlu_fallback"}
            for turn in planned["turns"]
        ],
    }


def test_the_planned_runner_parses_and_predicts_as_dask_does(product_model: Path) -> None:
    report = in_fresh_engine(compare_runners, str(product_model), timeout=600)
    assert report == {
        "same": [True, True],
        "runner": "bot.engine.graph_runner",
        "parse": "bot.engine.graph_runner",
        # Rasa's own parse on the event loop's thread, then on the NLU thread
        "threads": ["MainThread", "frontline-nlu_0"],
        # parsing (also the clash case's targets), predicting, everything (targets=None),
        # RulePolicy alone; none for an unknown target
        "plans": 5,
        "errors": [
            [
                "GraphRunError",
                "Input value 'nlu_message_converter' clashes with a node name. Make sure that "
                "none of the input names passed to the `run` method are the same as node names "
                "in the graph schema.",
            ],
            ["KeyError", "'no_such_node'"],
            [
                "GraphRunError",
                "Missing input to run node 'run_RulePolicy1'. Expected input '__tracker__' to "
                "provide parameter 'tracker'.",
            ],
        ],
        "intents_known": [True] * 6,
    }
