"""Pre-generated audio: build clips from the prompts, check them against the manifest, hear them.

The web process only imports ``manifest`` (stdlib); looking clips up and serving them is the web
layer's (``web.clips``, ``web.clip_files``). The build (``build``, ``engines``, ``process``) needs
``requirements-audio.txt`` and the listener (``listen``) ``requirements-listen.txt``; only the
commands (``cli.audio``) import them.

May import engine, content, basics and config (docs/architecture.md).
"""
