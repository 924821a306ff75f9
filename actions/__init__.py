"""The rasa-sdk action server: thin actions that parse the message, call the core, and format the answer."""
