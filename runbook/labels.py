"""Each settings field in the guide's words, for every front end (app forms, line prompts)."""

from __future__ import annotations

LABELS: dict[tuple[str, str], str] = {
    ("security_groups", "elb_sg"): "Load balancer group",
    ("security_groups", "ecs_sg"): "App tasks group",
    ("security_groups", "db_sg"): "Database group",
    ("security_groups", "listener_port"): "Listener port",
    ("security_groups", "app_port"): "App port",
    ("security_groups", "db_port"): "Database port",
    ("load_balancer", "name"): "Load balancer",
    ("load_balancer", "target_group"): "Target group",
    ("load_balancer", "health_check_path"): "Health check path",
    ("load_balancer", "health_check_interval"): "Check every (s)",
    ("load_balancer", "healthy_threshold"): "Healthy after (n)",
    ("load_balancer", "deregistration_delay"): "Draining (s)",
    ("cluster", "name"): "Cluster",
    ("cluster", "log_group"): "Log group",
    ("cluster", "log_retention_days"): "Keep logs (days)",
    ("database", "identifier"): "DB identifier",
    ("database", "instance_class"): "Instance class",
    ("database", "engine_version"): "PostgreSQL version",
    ("database", "db_name"): "Database name",
    ("database", "master_username"): "Master user",
    ("database", "allocated_storage"): "Storage (GiB)",
    ("task_definition", "family"): "Family",
    ("task_definition", "container_name"): "Container",
    ("task_definition", "image"): "Image",
    ("task_definition", "cpu"): "CPU units",
    ("task_definition", "memory"): "Memory (MiB)",
    ("task_definition", "cpu_architecture"): "CPU architecture",
    ("task_definition", "container_memory"): "Hard limit (MiB)",
    ("task_definition", "container_memory_reservation"): "Soft limit (MiB)",
    ("task_definition", "execution_role"): "Execution role",
    ("task_definition", "task_role"): "Task role",
    ("task_definition", "flask_app"): "FLASK_APP",
    ("task_definition", "flask_env"): "FLASK_ENV",
    ("service", "name"): "Service",
    ("service", "desired_count"): "Tasks to run",
    ("service", "health_check_grace_period"): "Grace period (s)",
    ("service", "assign_public_ip"): "Public IP",
    ("domain", "name"): "Domain name",
    ("domain", "hosted_zone"): "Hosted zone",
    ("auto_scaling", "max_tasks"): "Max tasks (0: off)",
    ("auto_scaling", "target_cpu"): "Target CPU (%)",
}

PLACEHOLDERS: dict[tuple[str, str], str] = {
    ("task_definition", "image"): "empty: built from todo_app/, tagged with its version",
    ("task_definition", "cpu_architecture"): "X86_64 or ARM64",
    ("domain", "name"): "empty: plain HTTP, as the guide",
    ("domain", "hosted_zone"): "empty: the zone the name ends with",
}


def label(section: str, name: str) -> str:
    return LABELS.get((section, name), name.replace("_", " ").capitalize())
