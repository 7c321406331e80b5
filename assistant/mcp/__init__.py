"""MCP servers: someone else's tools, in locked-down containers (stdio) or at a URL the owner named."""
