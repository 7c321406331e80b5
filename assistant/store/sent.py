"""Provider messages sent for replies: progress of split replies, and status callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from assistant.store import Store, outbox
from assistant.store.tables import Chat, Reply, SentPart

# A later status never moves a reply back (statuses may arrive out of order).
RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}
FAILED = frozenset({"failed", "undelivered"})


@dataclass(frozen=True)
class Target:
    """The reply a status update is about, with what the channel needs to act on it: its status
    now, and whether this update is what made it fail."""

    reply_id: int
    chat_id: int
    status: str
    failed_now: bool = False


async def record_part(
    store: Store,
    channel: str,
    reply_id: int,
    provider_id: str,
    parts_sent: int,
    at: datetime,
    meta: dict[str, str] | None = None,
) -> None:
    """Note that part `parts_sent` of the reply went out as `provider_id`, durably, so a retry
    after a crash or a later failure starts with the next part; waits out a locked database."""

    def record(session: Session) -> None:
        session.add(
            SentPart(reply_id=reply_id, channel=channel, provider_id=provider_id, part=parts_sent, sent_at=at)
        )
        reply = session.get(Reply, reply_id)
        if reply is not None:
            reply.meta = {**reply.meta, **(meta or {}), "parts_sent": str(parts_sent)}
            reply.provider_id = provider_id

    # The provider has taken this part: losing the record to a locked database would send it again.
    await store.write_waiting(record)


def _reply_context(session: Session, reply_id: int) -> tuple[Reply, Chat] | None:
    reply = session.get(Reply, reply_id)
    chat = session.get(Chat, reply.chat_id) if reply is not None else None
    return (reply, chat) if reply is not None and chat is not None else None


async def reply_context(store: Store, reply_id: int) -> tuple[Reply, Chat] | None:
    """The reply and its chat (for the last inbound time) as stored now."""
    return await store.read(lambda s: _reply_context(s, reply_id))


def next_status(current: str, update: str) -> str | None:
    """The reply's status after `update`, or None when it should stay as it is."""
    if update in FAILED:
        return "failed" if current != "failed" else None
    if update not in RANK or current not in RANK:
        return None
    return update if RANK[update] > RANK[current] else None


def _apply_status(
    session: Session, channel: str, provider_id: str, status: str, error: str | None, template: bool
) -> Target | None:
    query = select(SentPart).where(SentPart.channel == channel, SentPart.provider_id == provider_id)
    part = session.exec(query).first()
    reply_id = part.reply_id if part is not None else _by_reply_column(session, provider_id)
    # Locked, so the outbox settling this reply on another replica waits for this to commit.
    reply = session.get(Reply, reply_id, with_for_update=True) if reply_id is not None else None
    if reply is None or reply.id is None:
        return None
    unchanged = Target(reply.id, reply.chat_id, reply.status)
    if part is not None:
        part.status, part.error = status, error or part.error
    if not _current(reply, part):
        return unchanged
    if reply.status == "pending":
        # Still going out: the outbox applies a failure when the reply settles.
        if status in FAILED and outbox.LATE_FAILURE not in reply.meta:
            late = {outbox.LATE_FAILURE: error or status, **({outbox.LATE_TEMPLATE: "1"} if template else {})}
            reply.meta = {**reply.meta, **late}
        return unchanged
    changed = next_status(reply.status, status)
    if changed is None:
        return unchanged
    reply.status = changed
    reply.error = error if changed == "failed" else reply.error
    return Target(reply.id, reply.chat_id, reply.status, failed_now=changed == "failed")


def _current(reply: Reply, part: SentPart | None) -> bool:
    """Whether news of `part` is news of the reply: once a reply goes again as the template, only
    the template's own message speaks for it, not the parts sent before."""
    if part is None or reply.meta.get("via") != "template":
        return True
    return reply.meta.get("parts_sent", "0") != "0" and part.provider_id == reply.provider_id


async def apply_status(
    store: Store, channel: str, provider_id: str, status: str, error: str | None, template: bool = False
) -> Target | None:
    """Record the provider's news about one sent message on its part and its reply.

    A failure that arrives while the reply's parts still go out is kept for the outbox to apply
    when the reply settles (`template`: it should then go again as the template). News of a part a
    template has since replaced changes nothing. Returns the reply it belongs
    to, or None for an id we never sent.
    """
    return await store.write(lambda s: _apply_status(s, channel, provider_id, status, error, template))


def _by_reply_column(session: Session, provider_id: str) -> int | None:
    query = select(Reply.id).where(Reply.provider_id == provider_id)
    return session.exec(query).first()


async def send_again_as_template(store: Store, reply_id: int, at: datetime) -> None:
    """Put a reply refused for the 24-hour window back in the outbox, to go out as a template."""

    def again(session: Session) -> None:
        reply = session.get(Reply, reply_id)
        if reply is None or reply.meta.get("via") == "template":
            return
        reply.meta = {**reply.meta, "via": "template", "parts_sent": "0"}
        reply.status, reply.next_attempt_at = "pending", at

    await store.write(again)


async def last_failure(store: Store) -> str | None:
    """`<reason> (reply <id>)` for the most recent reply that failed for good, for /status."""
    query = select(Reply.id, Reply.error).where(Reply.status == "failed").order_by(col(Reply.id).desc())
    row = await store.read(lambda s: s.exec(query.limit(1)).first())
    return None if row is None else f"{row[1] or 'no reason recorded'} (reply {row[0]})"
