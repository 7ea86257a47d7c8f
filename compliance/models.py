"""Models arrive with this app's issue; the app exists so the layout of DESIGN.md holds from the start."""
