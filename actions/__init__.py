"""The rasa-sdk action server: thin actions that parse the message, call the core, and format the answer."""

from throughcare import clock
from throughcare.cases.dates import parse_date
from throughcare.knowledge.search import default_search

# rasa-sdk imports this package as the server starts, so the protocol is read and indexed there: knowledge that does
# not validate stops the server at start, and the first question staff ask does not wait a second and a half for it.
default_search()
# dateparser compiles its patterns on first use: 0.15 s the first time a date is given, paid here instead.
parse_date("next tuesday", clock.today(), "past")
