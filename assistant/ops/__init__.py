"""Running Hearth: serve, the doctor, init, backup and restore, health and the container entrypoint."""
