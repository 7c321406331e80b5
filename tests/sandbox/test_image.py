"""The worker image's build context and the tag derived from it."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

from assistant.sandbox.image import context_tar, worker_image_tag
from assistant.settings import SKILLS_DIR, WORKER_DIR


def copy_tree(tmp_path: Path) -> tuple[Path, Path]:
    worker = shutil.copytree(WORKER_DIR, tmp_path / "worker")
    skills = shutil.copytree(SKILLS_DIR, tmp_path / "skills")
    return worker, skills


def test_the_tag_follows_the_runtime_the_skills_and_the_base(tmp_path: Path) -> None:
    worker, skills = copy_tree(tmp_path)
    tag = worker_image_tag("base:1", skills, worker)
    assert tag.startswith("hearth-worker:")
    assert worker_image_tag("base:1", skills, worker) == tag
    assert worker_image_tag("base:2", skills, worker) != tag
    (skills / "notes" / "__pycache__").mkdir()
    (skills / "notes" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"junk")
    assert worker_image_tag("base:1", skills, worker) == tag
    (skills / "notes" / "main.py").write_text("# changed\n")
    changed = worker_image_tag("base:1", skills, worker)
    assert changed != tag
    (worker / "runtime" / "hearth_worker.py").write_text("# changed\n")
    assert worker_image_tag("base:1", skills, worker) not in {tag, changed}


def test_the_context_holds_the_dockerfile_runtime_and_skills_read_only() -> None:
    trees = {"runtime": WORKER_DIR / "runtime", "skills": SKILLS_DIR}
    data = context_tar(WORKER_DIR / "Dockerfile", trees)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = {m.name: m for m in archive.getmembers()}
    assert "Dockerfile" in members
    assert "runtime/hearth_worker.py" in members
    assert {"skills/python/main.py", "skills/fetch/skill.toml", "skills/notes/main.py"} <= set(members)
    assert {m.mode for m in members.values()} == {0o644}
    assert not any("__pycache__" in name for name in members)
