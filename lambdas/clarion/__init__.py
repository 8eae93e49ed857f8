"""Clarion's Lambda code: handlers -> domain logic -> adapters."""
