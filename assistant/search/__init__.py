"""Web search on a self-hosted SearXNG."""
