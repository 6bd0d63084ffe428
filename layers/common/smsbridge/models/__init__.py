"""Pydantic models of the public interface: queue message, provider configuration, statuses."""
