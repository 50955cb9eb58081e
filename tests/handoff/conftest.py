"""Fixtures of the handoff tests: the imitation of Slack's Web API."""

from tests.handoff.mock_slack import slack_api  # noqa: F401
