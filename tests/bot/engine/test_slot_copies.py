"""bot/engine/slot_copies.py runs inside the Rasa engine (Python 3.10): a script run
with the engine's Python copies every slot of the product's domain and one of
every slot type, set and unset, with ``Slot.__copy__`` and with the copy
module's own protocol, and compares the copies; a slot type with its own
pickling hook must still go through the copy module."""

from __future__ import annotations

import textwrap

from tests.bot.engine.harness import run_script

ENGINE_SCRIPT = textwrap.dedent(
    """
    import copy, json

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.slots import (
        AnySlot, BooleanSlot, CategoricalSlot, FloatSlot, ListSlot, Slot, TextSlot,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.engine import slot_copies

    def by_copy_module(slot):
        return slot_copies._copy_module_copy(slot)

    mappings = [{"type": "from_text"}]
    slots = list(Domain.load("bot/domain").slots) + [
        AnySlot("any", mappings), BooleanSlot("flag", mappings), TextSlot("text", mappings),
        FloatSlot("amount", mappings, max_value=10.0), ListSlot("items", mappings),
        CategoricalSlot("colour", mappings, values=["red", "blue"]),
    ]
    for slot in slots[-6:]:
        twin = copy.copy(slot)
        twin.value = {"any": 1, "flag": True, "text": "x", "amount": 3.0,
                      "items": ["a"], "colour": "red"}[slot.name]
        slots.append(twin)

    def same_copy(slot):
        ours, theirs = slot_copies.copy_slot(slot), by_copy_module(slot)
        return (
            type(ours) is type(theirs) is type(slot)
            and ours is not slot
            and ours.__dict__ == theirs.__dict__ == slot.__dict__
            and all(ours.__dict__[k] is v for k, v in slot.__dict__.items())
            and ours.as_feature() == slot.as_feature()
        )

    hooked = []

    class PickledSlot(TextSlot):
        def __getstate__(self):
            hooked.append(self.name)
            return dict(self.__dict__, name=self.name + "-copy")

    slot_copies.install()
    slot_copies.install()  # idempotent
    tracker = DialogueStateTracker("t", slots)
    pickled = copy.copy(PickledSlot("p", mappings))
    # a copy is independent: setting its value leaves the original alone
    original = slots[0]
    before = original.value
    copy.copy(original).value = "changed"
    print(json.dumps({
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
    }))
    """
)


SLOT_TYPES = ["AnySlot", "BooleanSlot", "CategoricalSlot", "FloatSlot", "ListSlot", "TextSlot"]


def test_slots_are_copied_as_the_copy_module_copies_them() -> None:
    report = run_script(ENGINE_SCRIPT)
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
