"""The first screen: where it deploys, saved progress, and the checks before we start."""
