"""Pre-generated audio: build clips from the prompts, check them, look them up, serve them.

The web process only imports ``manifest``, ``clips`` and ``serve`` (stdlib and Flask). The
build (``build``, ``engines``, ``process``) needs the packages in
``requirements-audio.txt`` and is imported only by ``flask audio build``.
"""
