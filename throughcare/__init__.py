"""Throughcare core: case store, protocol knowledge, protocol engine, reports. No Rasa or Telegram here."""
