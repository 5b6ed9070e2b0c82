"""Guided self-help (programmes, worksheets, weekly check-ins).

Reserved for the guided self-help work that follows the open issues; nothing is registered yet,
so no half-built pages are reachable.
"""
