"""bot/engine/slot_copies.py: every slot of the product's domain and one of
every slot type, set and unset, is copied with ``Slot.__copy__`` and with the
copy module's own protocol, and the copies compared; a slot type with its own
pickling hook must still go through the copy module. In a fresh engine
process: installing replaces ``Slot.__copy__`` for the rest of the process."""

from __future__ import annotations

import copy
from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.slots import (
    AnySlot,
    BooleanSlot,
    CategoricalSlot,
    FloatSlot,
    ListSlot,
    Slot,
    TextSlot,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.engine import slot_copies
from tests.bot.engine.harness import ROOT, in_fresh_engine

SLOT_TYPES = ["AnySlot", "BooleanSlot", "CategoricalSlot", "FloatSlot", "ListSlot", "TextSlot"]
MAPPINGS = [{"type": "from_text"}]
VALUES = {"any": 1, "flag": True, "text": "x", "amount": 3.0, "items": ["a"], "colour": "red"}

hooked: list[str] = []


class PickledSlot(TextSlot):
    """A slot type with its own pickling hook."""

    def __getstate__(self) -> dict[str, Any]:
        hooked.append(self.name)
        return dict(self.__dict__, name=self.name + "-copy")


def all_slots() -> list[Slot]:
    """The domain's slots, one of each type unset, and the same six set."""
    slots = [
        *Domain.load(str(ROOT / "bot" / "domain")).slots,
        AnySlot("any", MAPPINGS),
        BooleanSlot("flag", MAPPINGS),
        TextSlot("text", MAPPINGS),
        FloatSlot("amount", MAPPINGS, max_value=10.0),
        ListSlot("items", MAPPINGS),
        CategoricalSlot("colour", MAPPINGS, values=["red", "blue"]),
    ]
    for slot in slots[-6:]:
        twin = copy.copy(slot)
        twin.value = VALUES[slot.name]
        slots.append(twin)
    return slots


def same_copy(slot: Slot) -> bool:
    ours, theirs = slot_copies.copy_slot(slot), slot_copies._copy_module_copy(slot)
    return (
        type(ours) is type(theirs) is type(slot)
        and ours is not slot
        and ours.__dict__ == theirs.__dict__ == slot.__dict__
        and all(ours.__dict__[k] is v for k, v in slot.__dict__.items())
        and ours.as_feature() == slot.as_feature()
    )


def copy_every_slot() -> dict[str, Any]:
    slots = all_slots()
    slot_copies.install()
    slot_copies.install()  # idempotent
    tracker = DialogueStateTracker("t", slots)
    pickled = copy.copy(PickledSlot("p", MAPPINGS))
    # a copy is independent: setting its value leaves the original alone
    original = slots[0]
    before = original.value
    copy.copy(original).value = "changed"
    return {
        "installed": Slot.__copy__ is slot_copies.copy_slot,
        "slots": len(slots),
        "types": sorted({type(s).__name__ for s in slots}),
        "same": [s.name for s in slots if not same_copy(s)],
        "tracker_slots_are_copies": all(
            tracker.slots[s.name] is not s and tracker.slots[s.name].__dict__ == s.__dict__
            for s in slots[:-12]  # the domain's
        ),
        "hooked_class_uses_its_hook": [hooked, pickled.name],
        "copied_directly": sorted(c.__name__ for c, p in slot_copies._plain_classes.items() if p),
        "original_unchanged": original.value == before,
    }


def test_slots_are_copied_as_the_copy_module_copies_them() -> None:
    report = in_fresh_engine(copy_every_slot)
    assert report.pop("slots") > 20  # the domain's slots and twelve more
    assert report == {
        "installed": True,
        "types": SLOT_TYPES,
        "same": [],
        "tracker_slots_are_copies": True,
        "hooked_class_uses_its_hook": [["p"], "p-copy"],
        "copied_directly": SLOT_TYPES,  # the hooked class is not among them
        "original_unchanged": True,
    }
