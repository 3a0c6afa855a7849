"""A section's screen and the widgets it is made of."""
