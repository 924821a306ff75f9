"""Throughcare core: the case store, the protocol knowledge and engine, reports, the induction aid, staff access
and the delivery records the Telegram gateway keeps here. No Rasa or python-telegram-bot import: the gateways
(actions/, bot/, dashboard/) call in, never the other way."""
