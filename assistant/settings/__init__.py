"""One frozen Settings object, read once from HEARTH_* environment variables and an optional .env file."""

from assistant.settings.fields import Settings
from assistant.settings.load import env_name, load_settings, read_env_file
from assistant.settings.values import DEFAULT_BASE_IMAGE, SKILLS_DIR, WORKER_DIR, Secret, masked_url

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "SKILLS_DIR",
    "WORKER_DIR",
    "Secret",
    "Settings",
    "env_name",
    "load_settings",
    "masked_url",
    "read_env_file",
]
