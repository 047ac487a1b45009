"""One folder per feature: ``page.py`` (composition) and ``state.py`` (the feature's State)."""
