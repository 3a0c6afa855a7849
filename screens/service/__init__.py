"""Day two, from the summary: the running service (deployments, tasks, events) and its logs."""
