"""'Did this help?' for the console: the answers per topic and per day, from the feedback table
(which holds no number and no call id, only the topic, the answer and the London day)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..storage.models import Feedback


@dataclass(frozen=True)
class HelpedRow:
    topic: str
    label: str
    yes: int
    no: int

    @property
    def answers(self) -> int:
        return self.yes + self.no

    @property
    def yes_share(self) -> float | None:
        return round(100 * self.yes / self.answers, 1) if self.answers else None


def _counts():
    return (func.sum(case((Feedback.helped.is_(True), 1), else_=0)),
            func.sum(case((Feedback.helped.is_(False), 1), else_=0)))


def by_topic(session: Session, first_day: dt.date, label) -> list[HelpedRow]:
    """Answers since ``first_day`` per topic heard last, most answered first; ``label(topic)`` names it."""
    rows = session.execute(select(Feedback.topic, *_counts()).where(Feedback.day >= first_day)
                           .group_by(Feedback.topic)).all()
    found = [HelpedRow(topic, label(topic), int(yes or 0), int(no or 0)) for topic, yes, no in rows]
    return sorted(found, key=lambda row: (-row.answers, row.label))


def by_day(session: Session, first_day: dt.date) -> dict[dt.date, tuple[int, int]]:
    """(yes, no) per London day since ``first_day``."""
    rows = session.execute(select(Feedback.day, *_counts()).where(Feedback.day >= first_day)
                           .group_by(Feedback.day)).all()
    return {day: (int(yes or 0), int(no or 0)) for day, yes, no in rows}
