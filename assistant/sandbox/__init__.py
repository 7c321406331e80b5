"""Skills in locked-down Docker containers, kept warm per (skill, chat)."""
