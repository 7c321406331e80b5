"""Who may talk to Hearth and what they may do: owners, members, pairing, rate limits."""
