"""The Rasa side of Frontline and the launcher of the whole stack.

``bot/`` holds the Rasa domain, endpoints and credentials, the customer channel
(``bot.channel`` and ``bot.stores``, which run inside the Rasa engine), the widget
and demo page (``bot.site``) and the launcher (``bot.stack``), which runs in the
application environment and starts every service.
"""
