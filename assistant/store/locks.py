"""The PostgreSQL advisory locks Hearth takes, as (namespace, key) pairs in one namespace of its own
(the four bytes "HRTH"), so they can never meet another application's locks or one another."""

from __future__ import annotations

NAMESPACE = 0x48525448
# Replicas starting together migrate one at a time (a transaction lock).
MIGRATE = (NAMESPACE, 0)
# The scheduler's leader holds this one (a session lock, on a connection of its own).
LEADER = (NAMESPACE, 1)
# Replicas claim replies to send one at a time (a transaction lock).
CLAIM = (NAMESPACE, 2)
