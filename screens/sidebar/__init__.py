"""The section list every screen shows on its left."""
