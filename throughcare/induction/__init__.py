"""The induction aid for new starters: tours, scenarios, the glossary drill, training records."""
