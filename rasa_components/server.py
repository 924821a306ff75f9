"""Rasa's server, `rasa run`, started with one correction to what Rasa 3.6 spends on each message.

    .venv-rasa/bin/python -m rasa_components.server --port 5005 --endpoints endpoints.yml ...

takes the options of `rasa run`; scripts/serve, scripts/production and the tests start Rasa this way.

Rasa validates every reply of the action server with `jsonschema.validate`, which first checks Rasa's fixed
reply schema against JSON Schema's own metaschema, on every call: 6 of the 35 ms of CPU Rasa spent on a message
(py-spy, docs/benchmarks.md). Here that schema is checked once, at start, and each reply is still validated
against it: a reply that does not fit raises the same ValidationError Rasa raises. Rasa 3.6 is the last
open-source line, so this cannot be fixed upstream; it refuses to start on any other Rasa.
"""

import sys
from typing import Any, Dict, Text

import rasa
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

WRITTEN_FOR = "3.6."


def check_replies_against_a_schema_checked_once() -> None:
    """Replace RemoteAction's reply validation with one whose schema was checked at start."""
    schema = RemoteAction.action_response_format_spec()
    # What jsonschema.validate does on every call: choose the validator, check the schema, make the validator.
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def validate_action_result(action: RemoteAction, result: Dict[Text, Any]) -> bool:
        error: ValidationError | None = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += f". The action server's reply to '{action.name()}' does not fit Rasa's reply format."
            raise error
        return True

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def main() -> None:
    if not rasa.__version__.startswith(WRITTEN_FOR):
        sys.exit(f"rasa_components/server.py was written for Rasa {WRITTEN_FOR}x, not {rasa.__version__}: check it.")
    check_replies_against_a_schema_checked_once()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", "run", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
