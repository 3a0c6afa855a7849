"""Dialogs: confirm a section's calls, explain an AWS error, confirm quitting mid-run."""
