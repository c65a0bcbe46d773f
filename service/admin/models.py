"""The console's accounts. Kept beside the console; on the line's shared ``Base`` so that
Alembic and the migration check see it (``service.models`` imports this module)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now as clock_now
from ..models import Base, UTCDateTime


class AdminUser(Base):
    """A person who may use the operator console. Only a password hash is stored."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock_now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # In every login session's cookie; logging out replaces it, so a copied cookie stops working.
    session_token: Mapped[str] = mapped_column(String(64), default="", server_default="")

    # Flask-Login's user protocol; every stored account may log in.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        # Flask-Login's "alternative token": the id alone would outlive a logout.
        return f"{self.id}:{self.session_token}"
