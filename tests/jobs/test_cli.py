"""`hearth jobs` adds, lists, pauses, resumes and cancels jobs for any chat."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from assistant.store import Store
from assistant.store.tables import Job
from tests.process import hearth_env, run_hearth


async def test_add_list_pause_resume_cancel(tmp_path: Path) -> None:
    env = hearth_env(tmp_path / "data", "http://127.0.0.1:9", HEARTH_TIMEZONE="Europe/Berlin")

    async def hearth(*args: str) -> tuple[int, str, str]:
        return await run_hearth("jobs", *args, env=env, cwd=tmp_path)

    code, out, err = await hearth(
        "add", "--chat", "api:ann", "--text", "stretch", "--cron", "0 8 * * mon-fri"
    )
    assert code == 0, err
    assert out.startswith('added #1 reminder "stretch" every weekday at 08:00 (Europe/Berlin); next ')
    code, out, _ = await hearth("add", "--chat", "api:bob", "--prompt", "news?", "--every", "1d")
    assert code == 0
    code, out, _ = await hearth("list", "--chat", "api:ann")
    assert out.splitlines() == [out.splitlines()[0]]
    assert out.startswith('#1 reminder "stretch"')
    assert (await hearth("pause", "1"))[1].startswith('pause: #1 reminder "stretch" every weekday')
    assert "; paused" in (await hearth("list"))[1].splitlines()[0]
    assert (await hearth("resume", "1"))[0] == 0
    assert (await hearth("cancel", "2"))[0] == 0
    assert len((await hearth("list"))[1].splitlines()) == 1


async def test_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    env = hearth_env(tmp_path / "data", "http://127.0.0.1:9")
    code, _, err = await run_hearth("jobs", "cancel", "7", env=env, cwd=tmp_path)
    assert (code, err.strip().splitlines()[-1]) == (2, "hearth jobs: there is no job 7")
    args = ("jobs", "add", "--chat", "api:ann", "--text", "x", "--cron", "61 * * * *")
    code, _, err = await run_hearth(*args, env=env, cwd=tmp_path)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("hearth jobs: cron minute field '61' is not valid")


async def test_allow_grants_a_task_tools_for_its_unattended_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "policy.toml").write_text('[owner]\ndeny = ["forget"]\n')
    env = hearth_env(data, "http://127.0.0.1:9")

    async def hearth(*args: str) -> tuple[int, str, str]:
        return await run_hearth("jobs", *args, env=env, cwd=tmp_path)

    base = ("add", "--chat", "api:ann", "--prompt", "note the bill", "--every", "1d")
    code, out, err = await hearth(*base, "--allow", "remember", "--allow", "notes", "--allow", "remember")
    assert code == 0, err
    assert out.splitlines()[0].endswith("; may use notes, remember on its own")
    assert (await hearth(*base))[0] == 0
    store = await Store.open(f"sqlite:///{data / 'hearth.db'}")
    try:
        rows = await store.read(lambda s: list(s.exec(select(Job).order_by(col(Job.id)))))
    finally:
        await store.close()
    assert [job.approved_tools for job in rows] == [["notes", "remember"], []]
    assert "may use notes, remember on its own" in (await hearth("list"))[1].splitlines()[0]

    refused = [
        (("--allow", "forget"), "hearth jobs: the owner policy does not let api:ann use forget"),
        (
            ("--chat", "whatsapp:+15550009999", "--allow", "remember"),
            "hearth jobs: whatsapp:+15550009999 has no access, so its tasks may use no tools",
        ),
    ]
    for extra, message in refused:
        code, _, err = await hearth(*base, *extra)
        assert (code, err.strip().splitlines()[-1]) == (2, message)
    reminder = ("add", "--chat", "api:ann", "--text", "x", "--every", "1d", "--allow", "remember")
    code, _, err = await hearth(*reminder)
    assert code == 2
    assert "--allow is for a task (--prompt)" in err
    assert len((await hearth("list"))[1].splitlines()) == 2
