"""The bot as a long-running service: its life from start to stop, and what it reports.

``runner`` runs it (polling or webhook) and stops it in order; ``startup`` retries what
may pass and explains what will not; ``polling`` turns getUpdates errors into one line
each; ``api_watch`` observes every Bot API answer; ``heartbeat`` writes the bot's pulse
and ``health`` judges it (``newsdigest health``); ``metrics`` serves Prometheus figures;
``sd_notify`` tells systemd it is ready.
"""
