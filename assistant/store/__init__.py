"""Durable state: chats, the inbox, the outbox and turns."""
