"""Data-parallel training under torchrun: `torchrun --nproc_per_node=N -m simworld.cli train model=...`.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; each rank then takes a contiguous share of every global batch
(the batch one process would draw for that step, so the data and its random draws stay a pure function of
(seed, step)), gradients are averaged over the ranks after each backward pass (gloo on CPU, NCCL on GPU), and
only rank 0 writes logs, samples and checkpoints. Without those variables, or with one rank, nothing here does
anything and training is exactly the single-process loop.

Gradients are averaged with one all-reduce of the flattened gradients rather than by wrapping the model in
DistributedDataParallel: the VAE's loss is a method of the model, not its forward, which DDP's hooks need, and
one flat all-reduce per step is what DDP's bucketing amounts to for models of this size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterable

import torch


@dataclass(frozen=True)
class Ranks:
    """This process's place among the training processes (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls, device_type: str) -> "Ranks":
        """Join the process group torchrun describes in the environment; a single process when it describes
        none (or one rank)."""
        if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) <= 1:
            return cls()
        import torch.distributed as dist

        ranks = cls(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]),
                    int(os.environ.get("LOCAL_RANK", os.environ["RANK"])))
        if not dist.is_initialized():
            if device_type == "cuda":
                torch.cuda.set_device(ranks.local_rank)
            # rank 0 evaluates, samples and saves while the others wait in the next step's all-reduce
            dist.init_process_group("nccl" if device_type == "cuda" else "gloo", timeout=timedelta(hours=2))
        return ranks

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        """The rank that writes files and prints."""
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """One GPU per rank on a node: cuda:LOCAL_RANK."""
        if self.enabled and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    def shard(self, count: int) -> slice:
        """This rank's contiguous share of a global batch of `count` items (sizes differ by at most one)."""
        if count < self.world:
            raise ValueError(f"a global batch of {count} clips cannot be shared by {self.world} ranks; raise "
                             f"model.batch or use fewer processes")
        return slice(self.rank * count // self.world, (self.rank + 1) * count // self.world)

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """Every rank ends with the mean of the ranks' gradients (what DDP does)."""
        import torch.distributed as dist

        params = [p for p in parameters if p.requires_grad]
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        flat = torch.cat([p.grad.reshape(-1) for p in params])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for p in params:
            p.grad.copy_(flat[offset:offset + p.numel()].view_as(p.grad))
            offset += p.numel()

    def broadcast_parameters(self, module: torch.nn.Module) -> None:
        """Rank 0's weights on every rank (they start equal from the same seed; this makes sure)."""
        import torch.distributed as dist

        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)

    def sum(self, values: list[float], device: torch.device) -> list[float]:
        import torch.distributed as dist

        tensor = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def barrier(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()

    def close(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()
            dist.destroy_process_group()
