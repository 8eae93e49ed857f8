"""Clarion's infrastructure: what AWS builds."""
