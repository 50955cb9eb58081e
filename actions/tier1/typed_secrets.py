"""Passwords customers type into the chat: the warning, and whether a turn held one.

The bot never asks for a password. The channel (``bot.engine.channel``) masks one
before Rasa sees the message and flags the message's metadata
(``core.typed_secrets.MASKED_METADATA``); the flows then warn the customer, and
the text they read holds only the mask. The detector itself lives in
``core.typed_secrets`` (the Rasa engine runs it too); here it is applied again to
messages that did not come through the channel (Rasa's REST API, tests).
"""

from __future__ import annotations

from actions.tier1.turn import Turn
from core.typed_secrets import MASKED_METADATA, looks_like_password

__all__ = ["WARNING", "looks_like_password", "typed_password"]

WARNING = (
    "That looks like it could be a password, so I haven't used it. Please never type your "
    "password here: I will never ask for it, and nobody at Brightwave will. If it was your "
    "real password, please change it soon."
)


def typed_password(turn: Turn, *, bare: bool = False) -> bool:
    """Whether the customer's message held a password: the channel masked one,
    or the text still looks like one (``looks_like_password``)."""
    return bool(turn.metadata.get(MASKED_METADATA)) or looks_like_password(turn.text, bare=bare)
