"""The web layer: the voice and SMS webhooks, TwiML, Twilio signatures, browser security, health
and absolute URLs, and what create_app loads for every request. May import the engine, content,
storage, audio, basics and config; nothing imports it except admin, simulator, cli and the factory."""
