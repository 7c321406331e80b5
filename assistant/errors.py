"""The few exceptions Hearth raises on purpose."""


class HearthError(Exception):
    """Base of Hearth's own errors."""


class SettingsError(HearthError):
    """A setting is missing or has a value Hearth cannot use; the message names the variable."""


class ModelUnavailable(HearthError):
    """Ollama could not be reached, failed, or timed out; the turn is retried later."""


class ModelMissing(HearthError):
    """The configured model is not on the Ollama server."""


class ServerFailing(ModelUnavailable):
    """One Ollama server refused the connection, answered 5xx or timed out; another may answer."""
