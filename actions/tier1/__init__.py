"""Tier 1 self-service: the routine requests the bot completes itself (issue 4).

One module per flow: ``password``, ``orders`` (status, cancel, change address),
``account`` (activation, status, deletion), ``subscription``, ``compatibility``.
The shared form machinery: ``base`` (``Flow``, the context of one action run),
``flow`` (validation and submit actions), ``verification``; reading messages:
``turn``, ``parsing``, ``typed_secrets``; around the flows: ``escalation``
(offering a person), ``stop``, ``fallback`` (low-confidence turns),
``outcomes``. ``README.md`` describes the flows and their rules.

rasa-sdk imports every module of ``actions``: nothing here does work at import
time; shared resources come from ``actions.deps``.
"""
