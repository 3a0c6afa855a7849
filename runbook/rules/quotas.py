"""AWS's service quotas the rules and the command line's help both state.

No imports: `runbook --help` reads these without loading the rules.
"""

# ECS's "Tasks per service" quota (Amazon ECS service quotas): 5,000 by default. A service, and
# so Auto Scaling's maximum for it, runs no more without a raised quota.
TASKS_PER_SERVICE = 5000
