"""Teams: a lead agent hands parts of a task to sub-agents, each under its own role."""
