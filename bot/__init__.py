"""The Telegram gateway: approved staff chat with the assistant through Rasa's REST channel."""
