"""bot/engine/graph_runner.py runs inside the Rasa engine (Python 3.10): a script run
with the engine's Python loads the product model and checks that the planned
runner gives exactly what Rasa's dask runner gives, for parsing and for
predicting actions, and the same errors; and that parsing on the NLU thread,
several messages at once, gives what Rasa's parse on the event loop gives."""

from __future__ import annotations

import textwrap
from pathlib import Path

from core.runtime import load_settings
from launcher.stack import StackSettings, train
from tests.bot.engine.harness import run_script

ENGINE_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, threading

    from rasa.core.agent import Agent
    from rasa.core.channels import UserMessage
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.engine import graph_runner
    from tests.bot.engine.values import plain

    TEXTS = [
        "hi", "where is my order BW-104233?", "my email is emma.devries@example.com",
        "I'd like to talk to a person please", "asdf qwerty", "thanks!!",
    ]
    HANDLER = "run_RegexMessageHandler"

    processor = Agent.load(sys.argv[1]).processor
    runner, domain = processor.graph_runner, processor.domain


    def conversation():
        # each message parsed, then the next action predicted after it
        tracker = DialogueStateTracker.from_events("c1", [ActionExecuted("action_listen")])
        turns = []
        for text in TEXTS:
            parsed = processor._parse_message_with_graph(UserMessage(text), tracker)
            tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed))
            prediction = processor._predict_next_with_tracker(tracker)
            turns.append([plain(parsed), prediction.policy_name, plain(prediction.probabilities)])
            tracker.update(ActionExecuted(domain.action_names_or_texts[prediction.max_confidence_index]))
            tracker.update(SlotSet("kb_query", text))
            tracker.update(ActionExecuted("action_listen"))
        return turns


    def error(inputs, targets):
        try:
            runner.run(inputs=inputs, targets=targets)
        except Exception as error:
            return [error.__class__.__name__, str(error)]
        return None


    threads = set()
    graph_parse = processor._parse_message_with_graph


    def parse_recording_thread(*args):
        threads.add(threading.current_thread().name)
        return graph_parse(*args)


    processor._parse_message_with_graph = parse_recording_thread


    async def parse_concurrently():
        # what Rasa's server does: several conversations' messages at once
        return await asyncio.gather(*(processor.parse_message(UserMessage(t)) for t in TEXTS))


    def everything():
        return {
            "parsed": plain(asyncio.run(parse_concurrently())),
            "turns": conversation(),
            "errors": [
                error({"__message__": "nlu_message_converter"}, [HANDLER]),
                error({}, ["no_such_node"]),
                error({"__message__": [UserMessage("hi")]}, ["run_RulePolicy1"]),
            ],
            "all": sorted(runner.run(inputs={}, targets=None)),
        }


    dask = everything()
    graph_runner.install()
    graph_runner.install()  # idempotent
    planned = everything()
    again = everything()  # with the plans made
    print(json.dumps({
        "same": [dask == planned, planned == again],
        "runner": DaskGraphRunner.run.__module__,
        "parse": type(processor).parse_message.__module__,
        "threads": sorted(threads),
        "plans": len(runner._frontline_plans),
        "errors": planned["errors"],
        # a real parse of each message (which intents depends on the model)
        "intents_known": [
            turn[0]["intent"]["name"] in {*domain.intents, "nlu_fallback"}
            for turn in planned["turns"]
        ],
    }))
    """
)


def run_in_engine(model: Path) -> dict:
    return run_script(ENGINE_SCRIPT, str(model), timeout=600)


def test_the_planned_runner_parses_and_predicts_as_dask_does() -> None:
    report = run_in_engine(train(load_settings(StackSettings, _env_file=None)))
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
