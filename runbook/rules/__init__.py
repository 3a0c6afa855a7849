"""AWS's rules as data: how a rule reads (core, spec), how one is built from CloudFormation's
schemas or AWS's API reference (kinds, cfn, combinations, common), and botocore's limits
(shapes). Each resource kind (runbook/resources) states its calls' rules with these;
runbook.aws_rules checks every planned call against them before it can leave the machine.
"""

CODE = "RefusedByAwsRules"  # the Problem code of a call AWS's rules refuse
