"""Running engine code in a fresh process, for the engine's tests (Python
3.10, ``.venv/engine``).

Several engine modules replace Rasa internals when installed (``speedups``,
``graph_runner``, ``policy_states``, ...), and their tests compare Rasa's own
code with ours in one process. ``in_fresh_engine`` runs such a test's engine
part in a new process started with ``spawn`` (not ``fork``), so nothing that
this pytest process or an earlier test imported or replaced carries over: the
test function passes a module-level function and its arguments, gets its
return value back and asserts on it. An exception in the other process is
raised here with the other process's traceback as its cause.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[3]
T = TypeVar("T")


class EngineTraceback(Exception):
    """The traceback of an exception raised in the fresh engine process."""


class EngineProcessDied(RuntimeError):
    """The fresh engine process ended without returning or raising."""


def in_fresh_engine(function: Callable[..., T], *args: Any, timeout: float = 300) -> T:
    """``function(*args)`` in a new process of this Python, from the project's
    root; its return value (which must pickle). ``function`` must be defined
    at module level, so the new process can import it. Fails with
    ``TimeoutError`` (after killing the process) when it takes longer than
    ``timeout`` seconds."""
    __tracebackhide__ = True  # a failure shows the test and the other process's traceback
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_serve, args=(sender, function, args), name=f"engine:{function.__name__}"
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            process.kill()
            raise TimeoutError(f"{function.__qualname__} took longer than {timeout} s")
        outcome, value, text = receiver.recv()
    except EOFError:
        process.join(10)
        raise EngineProcessDied(
            f"{function.__qualname__}: the engine process ended with exit code "
            f"{process.exitcode} without an answer (see its output)"
        ) from None
    finally:
        receiver.close()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()
    if outcome == "raised":
        raise value from EngineTraceback(text)
    return value


def _serve(sender: Connection, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """In the new process: calls ``function`` and sends back what came of it."""
    os.chdir(ROOT)
    try:
        answer: tuple[str, Any, str] = ("returned", function(*args), "")
    except BaseException as error:  # everything goes back to the test
        answer = ("raised", _portable(error), traceback.format_exc())
    try:
        sender.send(answer)
    except Exception as error:  # a result that does not pickle
        sender.send(("raised", _portable(error), traceback.format_exc()))
    finally:
        sender.close()


def _portable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling, else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__qualname__}: {error}")
    return error
