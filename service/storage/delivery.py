"""Twilio's reports on the texts the sender sent (the StatusCallback), and what a carrier's
"unsubscribed" means for the line: the number has opted out."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import subscriptions
from .models import OutboxMessage

UNSUBSCRIBED = 21610  # Twilio: the recipient has opted out (STOP) at the carrier.
DELIVERY_STATES = frozenset({"queued", "sending", "sent", "delivered", "undelivered", "failed", "read"})


def record_status(session: Session, message_sid: str, status: str, error_code: str) -> None:
    """Note a delivery report on the outbox row that sent ``message_sid`` (if it is ours)."""
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.twilio_sid == message_sid)).first()
    if message is None:
        return
    message.delivery_status = status
    if error_code:
        message.last_error = f"Twilio error {error_code[:10]} ({status})"
        if error_code == str(UNSUBSCRIBED):
            subscriptions.opt_out(session, message.to_number)
