"""Clarion on a laptop: bridges between the real handlers and an AWS emulator.

Never part of the Lambda asset. Tests and the local runtime use it.
"""
