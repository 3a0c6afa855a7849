"""One home per AWS resource kind the runbook makes, and the one registry that lists them.

Each module holds everything about its kind: the codes AWS answers when one is not there, how
to find one (by name after a lost create, by the deployment's tag), how it is deleted and in
what order, how it reads as CloudFormation, and AWS's rules for its calls. registry.py lists
the kinds; steps, teardown, the tag inventory, recovery, export and the rules read it there.
Adding a kind is one module here and its entry in registry.py's KINDS (with its import).
"""
