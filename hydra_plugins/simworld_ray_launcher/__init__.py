"""simworld's Hydra launcher for Ray: `simworld eval --multirun hydra/launcher=ray ...` runs each job of a sweep as a
Ray task, on an existing cluster (`hydra.launcher.address=HOST:6379`) or on a Ray started on this machine."""
