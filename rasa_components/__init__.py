"""Our own Rasa graph components (run inside .venv-rasa)."""
