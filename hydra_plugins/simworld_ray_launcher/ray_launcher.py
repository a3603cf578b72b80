"""A Hydra launcher that runs each job of a multirun as a `ray.remote` task.

    simworld eval --multirun hydra/launcher=ray hydra.launcher.address=auto generator=oracle,noise suite=core

`address`: a running cluster (`auto`, `HOST:6379`, or `ray://HOST:10001` through Ray Client), or null to start
Ray on this machine for the sweep. Each job asks Ray for `num_cpus` CPUs (and `num_gpus` GPUs); inside it,
`simworld eval` runs at most that many analysis processes (SIMWORLD_JOB_CPUS). Jobs run in the directory the
sweep was launched from when the node has it (a shared file system, as on SLURM), so relative paths such as
`runs_dir=runs` mean the same on every node; otherwise give absolute paths.

We do not use `hydra-ray-launcher`: it pins `ray[default]<3` and `cloudpickle<3`, needs boto3 and mainly drives
AWS clusters; this one needs only `ray` and works with any cluster `ray.init` reaches.
(No `from __future__ import annotations` here: Hydra imports plugins outside sys.modules, where dataclasses
cannot resolve string annotations.)
"""

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

log = logging.getLogger(__name__)


@dataclass
class RayLauncherConf:
    _target_: str = "hydra_plugins.simworld_ray_launcher.ray_launcher.RayLauncher"
    address: Optional[str] = None  # a cluster (auto, HOST:6379, ray://HOST:10001); null: start Ray on this machine
    num_cpus: float = 1  # CPUs each job asks for (its analysis processes)
    num_gpus: float = 0  # GPUs each job asks for (a model generator on a GPU)
    max_retries: int = 0  # reruns of a job whose node died (a rerun resumes: finished work is kept)
    init: Dict[str, Any] = field(default_factory=dict)  # further ray.init arguments (runtime_env, num_cpus, ...)


ConfigStore.instance().store(group="hydra/launcher", name="ray", node=RayLauncherConf, provider="simworld")


def run_job_on_node(hydra_context: HydraContext, task_function: TaskFunction, sweep_config: DictConfig,
                    singleton_state: dict, cwd: str, cpus: float) -> JobReturn:
    """The Ray task: one Hydra job, in the sweep's directory when this node has it."""
    from hydra.core.hydra_config import HydraConfig

    if Path(cwd).is_dir():
        os.chdir(cwd)
    os.environ["SIMWORLD_JOB_CPUS"] = str(max(1, int(cpus)))
    setup_globals()
    Singleton.set_state(singleton_state)
    HydraConfig.instance().set_config(sweep_config)
    try:
        return run_job(hydra_context=hydra_context, task_function=task_function, config=sweep_config,
                       job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
    except SystemExit as exit_:  # the command's own error exit (its message is already on stderr)
        if exit_.code in (0, None):
            raise RuntimeError(f"job {sweep_config.hydra.job.num} exited without a result") from None
        raise RuntimeError(f"job {sweep_config.hydra.job.num} ({' '.join(sweep_config.hydra.overrides.task)}) "
                           f"failed with exit status {exit_.code}") from None


class RayLauncher(Launcher):
    def __init__(self, address: Optional[str] = None, num_cpus: float = 1, num_gpus: float = 0, max_retries: int = 0,
                 init: Optional[dict] = None) -> None:
        self.address, self.num_cpus, self.num_gpus, self.max_retries = address, num_cpus, num_gpus, max_retries
        self.init = OmegaConf.to_container(init, resolve=True) if OmegaConf.is_config(init) else dict(init or {})
        self.config: Optional[DictConfig] = None
        self.hydra_context: Optional[HydraContext] = None
        self.task_function: Optional[TaskFunction] = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        try:
            import ray
        except ImportError:
            raise ImportError("hydra/launcher=ray needs Ray: pip install 'simworld[ray]' (or pip install ray)") from None

        assert self.config is not None and self.hydra_context is not None and self.task_function is not None
        setup_globals()
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address, **self.init)
        remote = ray.remote(num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=self.max_retries)(
            run_job_on_node)
        log.info(f"Ray launcher: {len(job_overrides)} jobs on {self.address or 'a local Ray'}; sweep dir {sweep_dir}")
        pending = []
        for number, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{number} : {' '.join(filter_overrides(overrides))}")
            sweep_config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            with open_dict(sweep_config):
                sweep_config.hydra.job.id = f"ray_{number}"
                sweep_config.hydra.job.num = number
            pending.append(remote.remote(self.hydra_context, self.task_function, sweep_config,
                                         Singleton.get_state(), os.getcwd(), self.num_cpus))
        try:
            returns = []
            for reference, overrides in zip(pending, job_overrides):
                try:
                    returns.append(ray.get(reference))
                except ray.exceptions.RayError as err:  # Hydra raises it when the sweep reads the job's result
                    cause = getattr(err, "cause", None) or err
                    returns.append(JobReturn(overrides=list(overrides), status=JobStatus.FAILED,
                                             _return_value=RuntimeError(f"{type(cause).__name__}: {cause}")))
            return returns
        finally:
            if started_here:
                ray.shutdown()
