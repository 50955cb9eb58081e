"""A turn holds a typed password when the channel masked one, or when its text
still looks like one (messages that did not come through the channel)."""

from __future__ import annotations

from actions.tier1.turn import Turn
from actions.tier1.typed_secrets import typed_password
from core.typed_secrets import MASK, MASKED_METADATA


def test_a_message_the_channel_masked_holds_a_password() -> None:
    assert typed_password(Turn(text=MASK, metadata={MASKED_METADATA: True}))


def test_a_password_in_the_text_counts_without_the_channel() -> None:
    assert typed_password(Turn(text="my password is Hunter2!"))
    assert typed_password(Turn(text="Hunter2!"), bare=True)


def test_ordinary_messages_hold_no_password() -> None:
    assert not typed_password(Turn(text=MASK))
    assert not typed_password(Turn(text="Hunter2!"))
    assert not typed_password(Turn(text="I forgot my password", metadata={"message_id": "m1"}))
