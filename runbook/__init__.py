"""fargate-runbook: deploy the Flask Todo API to ECS Fargate, section by section."""

__version__ = "0.1.0"
