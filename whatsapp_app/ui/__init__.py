"""Shared UI: design tokens, the session State, the app shell and small components."""
