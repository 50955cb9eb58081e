"""Frontline's custom actions, served by the rasa-sdk action server.

rasa-sdk imports every module of this package and instantiates every concrete
``Action`` subclass with no arguments, so no module here may do work at import
time. Start the server with ``python -m actions.server`` (see ``actions.server``).
"""
