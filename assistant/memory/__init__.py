"""Memory: a chat's facts, its running summary, and the history that fits the model's context."""
