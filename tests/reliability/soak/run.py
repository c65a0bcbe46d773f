"""One soak run against the Procfile's web process: used by the quick test and by `make soak`."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import create_engine, select

from service.storage.models import ProcessedMessage

from .crowd import Crowd, check
from .harness import WebProcess, app_env, release

FULL_NUMBER = re.compile(r"\+?44 ?7400 ?1\d{5}|074001\d{5}")


def soak(database_url: str, tmp: Path, callers: int, texters: int, seconds: float, workers: int = 2) -> dict:
    env = app_env(database_url, tmp)
    release(env)
    with WebProcess(env, tmp / "web.log", workers=workers) as web:
        crowd = Crowd(web.port, callers=callers, texters=texters, seconds=seconds)
        tally = crowd.run()
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            processed = set(conn.scalars(select(ProcessedMessage.message_sid)))
    finally:
        engine.dispose()
    log = web.log()
    problems = check(tally, crowd.sent_sids, processed)
    leaked = FULL_NUMBER.findall(log)
    if leaked:
        problems.append(f"the web log holds {len(leaked)} full caller numbers, e.g. {leaked[:2]}")
    if "Traceback" in log:
        problems.append("the web log holds a traceback: " + log[log.index("Traceback"):][:4000])
    return {"problems": problems, "summary": tally.summary(), "texts": len(crowd.sent_sids)}
