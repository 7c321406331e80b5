"""The worker image: a build context from the runtime and skills, tagged by a hash of both."""

from __future__ import annotations

import hashlib
import io
import logging
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from assistant.sandbox.errors import EngineUnavailableError
from assistant.settings import DEFAULT_BASE_IMAGE, SKILLS_DIR, WORKER_DIR

logger = logging.getLogger(__name__)

IMAGE_REPOSITORY = "hearth-worker"
SKIPPED_NAMES = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache"})


def context_files(dockerfile: Path, trees: Mapping[str, Path]) -> Iterator[tuple[str, Path]]:
    """(name in the context, file on disk) for the Dockerfile and each tree, in a stable order."""
    yield "Dockerfile", dockerfile
    for prefix, root in sorted(trees.items()):
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            skipped = SKIPPED_NAMES.intersection(relative.parts) or path.suffix == ".pyc"
            if path.is_file() and not skipped:
                yield f"{prefix}/{relative.as_posix()}", path


def context_digest(dockerfile: Path, trees: Mapping[str, Path], base_image: str) -> str:
    """A short hash of everything that goes into the image, so any change means a new tag."""
    digest = hashlib.sha256(base_image.encode() + b"\0")
    for name, path in context_files(dockerfile, trees):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def context_tar(dockerfile: Path, trees: Mapping[str, Path]) -> bytes:
    """The build context as tar bytes, owned by root and world-readable, nothing writable."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, path in context_files(dockerfile, trees):
            info = tarfile.TarInfo(name)
            data = path.read_bytes()
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def worker_image_tag(
    base_image: str = DEFAULT_BASE_IMAGE,
    skills_dir: Path = SKILLS_DIR,
    worker_dir: Path = WORKER_DIR,
) -> str:
    """The tag the worker image has for this runtime, these skills and this base."""
    trees = {"runtime": worker_dir / "runtime", "skills": skills_dir}
    return f"{IMAGE_REPOSITORY}:{context_digest(worker_dir / 'Dockerfile', trees, base_image)}"


def ensure_image(
    client: Any,
    tag: str,
    dockerfile: Path,
    trees: Mapping[str, Path],
    buildargs: Mapping[str, str],
) -> bool:
    """Build `tag` unless present; True if built. Blocking; raises EngineUnavailableError."""
    import docker.errors

    try:
        client.images.get(tag)
        return False
    except docker.errors.ImageNotFound:
        pass
    logger.info("building image %s", tag)
    context = io.BytesIO(context_tar(dockerfile, trees))
    try:
        client.images.build(
            fileobj=context,
            custom_context=True,
            tag=tag,
            buildargs=dict(buildargs),
            pull=False,
            rm=True,
            forcerm=True,
            labels={"org.hearth.role": "worker"},
        )
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        raise EngineUnavailableError(f"building {tag} failed: {exc}") from exc
    return True


def ensure_worker_image(
    client: Any,
    base_image: str = DEFAULT_BASE_IMAGE,
    skills_dir: Path = SKILLS_DIR,
    worker_dir: Path = WORKER_DIR,
) -> str:
    """The worker image's tag, built first if missing. Blocking; raises EngineUnavailableError."""
    tag = worker_image_tag(base_image, skills_dir, worker_dir)
    trees = {"runtime": worker_dir / "runtime", "skills": skills_dir}
    ensure_image(client, tag, worker_dir / "Dockerfile", trees, {"BASE_IMAGE": base_image})
    return tag
