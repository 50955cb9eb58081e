"""What the bot's intents mean to the Tier 1 flows (plain data)."""

from __future__ import annotations

from core.contract import SERVICE_INTENTS

# Topic intents (bot/domain/support.yml): each has (or will have) its own rule,
# so inside a form they interrupt it; the form resumes afterwards.
TOPIC_INTENTS = frozenset(
    {
        "password_reset", "order_status", "delivery_options", "cancel_order", "change_order",
        "change_shipping_address", "returns_policy", "start_return", "refund_status",
        "account_activation", "account_status", "cancel_subscription", "delete_account",
        "compatibility", "app_feature_question", "troubleshooting", "payment_methods",
        "payment_failed", "double_charge", "invoice_request", "warranty_claim", "damaged_item",
        "human_handoff", "complaint",
    }
)  # fmt: skip

# Small talk and meta intents with their own rules: answered, then the form resumes.
CHAT_INTENTS = frozenset(
    {"greet", "goodbye", "thanks", "bot_challenge", "help", "out_of_scope", "other_language"}
)

# These end the flow whatever else the message contains.
LEAVING_INTENTS = frozenset({"stop", "human_handoff", "complaint"})

# Never typed by customers; their rules must run even mid-form.
# Not a customer's topic: the handoff service's intents and a CSAT rating.
SERVICE_AND_RATING_INTENTS = SERVICE_INTENTS | {"csat"}

INTERRUPTING_INTENTS = TOPIC_INTENTS | CHAT_INTENTS | LEAVING_INTENTS | SERVICE_AND_RATING_INTENTS

# Below this confidence an interrupting intent is read as an answer to the
# form's question instead (a street name can look like a topic to NLU).
INTERRUPT_CONFIDENCE = 0.6

# What a customer sees on a clarification button for each intent.
INTENT_TITLES: dict[str, str] = {
    "password_reset": "Reset my password",
    "order_status": "Where is my order?",
    "delivery_options": "Delivery options and times",
    "cancel_order": "Cancel an order",
    "change_order": "Change an order",
    "change_shipping_address": "Change the delivery address",
    "returns_policy": "Returns policy",
    "start_return": "Return something",
    "refund_status": "Where is my refund?",
    "account_activation": "Activate my account",
    "account_status": "My account status",
    "cancel_subscription": "Cancel Brightwave Plus",
    "delete_account": "Delete my account",
    "compatibility": "Does it work with my device?",
    "app_feature_question": "Using the Brightwave app",
    "troubleshooting": "Fix a problem with a device",
    "payment_methods": "Payment methods",
    "payment_failed": "My payment failed",
    "double_charge": "I was charged twice",
    "invoice_request": "Get an invoice",
    "warranty_claim": "Warranty claim",
    "damaged_item": "Damaged or faulty item",
    "human_handoff": "Talk to a person",
    "complaint": "Make a complaint",
    "help": "What can you do?",
    "bot_challenge": "Am I talking to a bot?",
}
