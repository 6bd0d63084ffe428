"""The use cases of SMS Bridge: send, inbound, balance, admin. They take adapters as arguments."""
