"""Pure functions of the send and inbound paths: rendering, encoding, auth, classification (no I/O)."""
