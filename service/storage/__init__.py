"""Storage: the tables, the database, its migrations, and one module per thing the line keeps
(outbox, inbound texts, SMS places, returning callers, usage, callbacks, subscriptions, feedback,
the STOP spool). May import basics, content and config; never the web layer or the engine."""
