"""The rasa-sdk action server: thin actions that parse the message, call the core, and format the answer."""

from throughcare.knowledge.search import default_search

# rasa-sdk imports this package as the server starts, so the protocol is read and indexed there: knowledge that does
# not validate stops the server at start, and the first question staff ask does not wait a second and a half for it.
default_search()
