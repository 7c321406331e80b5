"""One module per dashboard area, each with its ROUTES."""
