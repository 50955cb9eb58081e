"""Slots copied in two steps instead of through the copy module's generic
protocol (runs inside the Rasa engine).

Each new tracker copies every slot of the domain with ``copy.copy``, and Rasa
makes new trackers often: the copy handed to each action, each form's
temporary trackers, each replay of a conversation. For an object with no
copying hooks of its own, ``copy.copy`` asks ``__reduce_ex__(4)`` for a recipe,
then follows it: a new instance through ``copyreg.__newobj__``, and its
``__dict__`` updated from the original's. ``Slot.__copy__`` here takes those
two steps directly, so the copy is the same shallow copy, in about a third of
the time. Under load, slot copies were 4% of the Rasa process's time holding
the GIL (py-spy ``--gil``, see docs/benchmarks.md).

A slot class with a hook that changes how it is copied or pickled
(``__reduce__``, ``__reduce_ex__``, ``__getstate__``, ``__setstate__`` or
non-empty ``__slots__``; a custom slot type could have one) is copied by the copy module
as before; one that defines ``__copy__`` itself never reaches this one.

``install()`` sets ``Slot.__copy__``; it is called with the other engine
speed-ups (``bot.engine.speedups``).
"""

from __future__ import annotations

import copy
from typing import Any

from rasa.shared.core.slots import Slot

_plain_classes: dict[type, bool] = {}


def _is_plain(cls: type) -> bool:
    """Whether ``copy.copy`` treats instances of ``cls`` as plain objects."""
    return (
        cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and getattr(cls, "__getstate__", None) is getattr(object, "__getstate__", None)
        and not hasattr(cls, "__setstate__")
        # abc.ABC, Slot's base, declares empty slots: they add no state
        and not any(vars(klass).get("__slots__") for klass in cls.__mro__)
    )


def copy_slot(self: Slot) -> Slot:
    """``copy.copy(slot)``: a new instance of the slot's class sharing the
    slot's attribute values."""
    cls = type(self)
    plain = _plain_classes.get(cls)
    if plain is None:
        plain = _plain_classes[cls] = _is_plain(cls)
    if not plain:
        return _copy_module_copy(self)
    new = cls.__new__(cls)  # type: ignore[call-overload]  # any slot class: as copy.copy does
    new.__dict__.update(self.__dict__)
    return new


def _copy_module_copy(slot: Slot) -> Any:
    """What ``copy.copy`` does for an object without ``__copy__``."""
    return copy._reconstruct(slot, None, *slot.__reduce_ex__(4))  # type: ignore[attr-defined]


def install() -> None:
    """Idempotent."""
    if getattr(Slot, "__copy__", None) is not copy_slot:
        Slot.__copy__ = copy_slot  # type: ignore[attr-defined]
