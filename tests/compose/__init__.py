"""The self-hosting set-up, run end to end with Docker Compose."""
