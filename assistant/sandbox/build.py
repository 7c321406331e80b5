"""`python -m assistant.sandbox.build`: make sure the worker and egress proxy images exist and print
their tags."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.errors import SandboxError
from assistant.sandbox.service import build_images
from assistant.settings import DEFAULT_BASE_IMAGE, SKILLS_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-image", default=DEFAULT_BASE_IMAGE)
    parser.add_argument("--skills-dir", type=Path, default=SKILLS_DIR)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = SandboxConfig(skills_dir=options.skills_dir, base_image=options.base_image)
    try:
        tags = build_images(config)
    except SandboxError as exc:
        print(f"could not build the images: {exc}", file=sys.stderr)
        return 1
    print("\n".join(tags))
    return 0


if __name__ == "__main__":
    sys.exit(main())
