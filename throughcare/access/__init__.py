"""Who may use the assistant: signed staff identities, Telegram accounts and dashboard links, the gateway's delivery
records, input budgets, and the first administrator."""
