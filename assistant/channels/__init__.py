"""Provider-facing parts of the channels: webhook checks, payload parsing and senders."""
