"""The end of the guide: the app's address, its targets' health, and what to do next."""
