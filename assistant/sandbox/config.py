"""The sandbox's settings, one frozen object the application fills from its own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.settings import DEFAULT_BASE_IMAGE, SKILLS_DIR, WORKER_DIR, Settings


@dataclass(frozen=True)
class SandboxConfig:
    """Where skills and workspaces live, how many containers stay warm, which images to use.

    `image` names a ready worker image and skips building; by default the tag is derived from a
    hash of the runtime and skills and built from `base_image` when missing. `instance` labels
    the containers so a restart removes only its own leftovers.
    """

    skills_dir: Path = SKILLS_DIR
    workspaces_dir: Path = Path("data/workspaces")
    idle_s: float = 300
    max_containers: int = 8
    base_image: str = DEFAULT_BASE_IMAGE
    image: str | None = None
    instance: str = "hearth"
    worker_dir: Path = WORKER_DIR
    workspace_max_mb: int = 100
    # HEARTH_SKILL_WORKSPACES: bind, volume, or auto (volume when DOCKER_HOST is another machine).
    skill_workspaces: str = "auto"
    # HEARTH_EGRESS_ALLOW's parts; names the egress proxy's /etc/hosts maps (tests only).
    egress_allow: tuple[str, ...] = ()
    egress_hosts: tuple[tuple[str, str], ...] = ()

    @property
    def egress_dir(self) -> Path:
        """The egress proxy's Dockerfile, beside the worker's."""
        return self.worker_dir.parent / "egress"


def sandbox_config(settings: Settings) -> SandboxConfig:
    return SandboxConfig(
        skills_dir=settings.skills_dir,
        workspaces_dir=settings.data_dir / "workspaces",
        idle_s=settings.sandbox_idle_s,
        max_containers=settings.sandbox_max_containers,
        base_image=settings.worker_base_image,
        image=settings.worker_image or None,
        worker_dir=settings.worker_dir,
        workspace_max_mb=settings.workspace_max_mb,
        skill_workspaces=settings.skill_workspaces,
        egress_allow=settings.egress_allow,
        instance=settings.instance,
    )
