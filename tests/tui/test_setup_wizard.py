"""Walk `nanobot setup` end to end: fixed hardware, downloads from a local HTTP server laid out
like Hugging Face, a written config that `nanobot config check` accepts, and a real test prompt
answered by the bundled model."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, ProgressBar, Static

from app.core.models.hardware import fixed_snapshot
from app.core.models.model_catalog import load_catalog
from app.tui.screens.setup import STEPS, SetupScreen
from app.tui.setup_app import SetupApp
from tests.cli.test_cli import nanobot
from tests.file_server import FileHost, file_server
from tests.gguf_fixture import write_gguf
from tests.pilot_wait import click_button, until


def host_catalog_file(host: FileHost, ref: str, tmp: Path) -> bytes:
    model_id, quant = ref.split(":")
    model = load_catalog().models[model_id]
    f = model.quants[quant]
    data = write_gguf(tmp / f.file, layers=8, layer_bytes=64 * 1024, name=model.title).read_bytes()
    host.add(f"{model.repo}/resolve/main/{f.file}", data)
    return data


def at_step(app: SetupApp, name: str) -> bool:
    """The wizard shows step ``name`` and has finished building it."""
    screen = app.screen
    return isinstance(screen, SetupScreen) and STEPS[screen.step] == name and not screen.busy


def text(app: SetupApp, selector: str) -> str:
    """What the widget shows, or "" while the current step has no such widget."""
    found = app.screen.query(selector)
    return str(found.first(Static).render()) if found else ""


@pytest.mark.model
async def test_setup_end_to_end(model_path: Path, nanobot_home: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    src = tmp_path / "src"
    src.mkdir()
    with file_server() as host:
        rlm = host_catalog_file(host, "nanbeige4.1-3b:Q4_K_M", src)
        memory = host_catalog_file(host, "qwen3-0.6b:Q4_K_M", src)
        host.cut_after["/mradermacher/Nanbeige4.1-3B-GGUF/resolve/main/"
                       "Nanbeige4.1-3B.Q4_K_M.gguf"] = 100_000  # one dropped connection
        app = SetupApp(hardware=fixed_snapshot(ram_gib=24, ram_available_gib=20),
                       models_dir=models, mirror=host.base)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert "Tier: Sweet" in text(app, "#hw-summary")
            await click_button(pilot, "#next")
            await until(pilot, lambda: at_step(app, "models"), what="the models step")
            screen = app.screen
            assert [c.slot for c in screen.choices] == ["main", "rlm", "memory"]
            assert [c.kind for c in screen.choices] == ["embedded", "download", "download"]
            url = screen.query_one("#url-rlm", Input).value
            assert url.startswith(host.base + "/mradermacher/")
            assert screen.query_one("#dl-memory", Checkbox).value is True

            await click_button(pilot, "#next")  # starts the downloads
            await until(pilot, lambda: at_step(app, "download"), what="the download step")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.downloads_ok, text(app, "#dl-status")
            assert "checksum verified" in text(app, "#dl-status")
            assert screen.query_one("#bar-rlm", ProgressBar).percentage == 1.0
            assert (models / "Nanbeige4.1-3B.Q4_K_M.gguf").read_bytes() == rlm
            assert (models / "Qwen3-0.6B-Q4_K_M.gguf").read_bytes() == memory
            ranges = [r for (_m, p, r) in host.requests if "Nanbeige" in p]
            assert ranges[0] == "" and ranges[1].startswith("bytes=")  # resumed, not redone

            await click_button(pilot, "#next")
            await until(pilot, lambda: at_step(app, "write"), what="the config step")
            assert "[local.rlm]" in text(app, "#config-preview")
            assert app.screen.query_one("#next").disabled  # must write first
            await click_button(pilot, "#write")
            await pilot.pause()
            cfg_path = nanobot_home / "config" / "config.toml"
            assert cfg_path.is_file() and "wrote" in text(app, "#write-status")

            await click_button(pilot, "#next")
            await until(pilot, lambda: at_step(app, "test"), what="the test step")
            await click_button(pilot, "#test")
            await app.workers.wait_for_complete()
            await pilot.pause()
            out = text(app, "#test-output")
            assert out.startswith("You: Reply with one short friendly sentence.\nNanobot: ")
            assert screen.reply.strip()
            await click_button(pilot, "#next")  # Finish
            await pilot.pause()
        assert app.return_value is True

    cfg = tomllib.loads(cfg_path.read_text())
    assert cfg["local"]["main"]["model"] == "qwen2.5-coder-0.5b"
    assert cfg["local"]["rlm"]["path"] == str(models / "Nanbeige4.1-3B.Q4_K_M.gguf")
    assert cfg["local"]["memory"]["path"] == str(models / "Qwen3-0.6B-Q4_K_M.gguf")
    check = nanobot("config", "check", env={"NANOBOT_HOME": str(nanobot_home)})
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith(f"ok: {cfg_path}") and "warning" not in check.stdout


async def test_skipping_a_download_uses_the_embedded_model(nanobot_home: Path,
                                                           tmp_path: Path) -> None:
    app = SetupApp(hardware=fixed_snapshot(ram_gib=24), models_dir=tmp_path / "m",
                   mirror="http://127.0.0.1:9")
    async with app.run_test(size=(120, 40)) as pilot:
        await click_button(pilot, "#next")
        await until(pilot, lambda: at_step(app, "models"), what="the models step")
        app.screen.query_one("#dl-rlm", Checkbox).value = False
        app.screen.query_one("#dl-memory", Checkbox).value = False
        await click_button(pilot, "#next")
        await until(pilot, lambda: "Nothing to download." in text(app, "#dl-status"),
                    what="the download step to finish")
        await click_button(pilot, "#next")
        await until(pilot, lambda: at_step(app, "write"), what="the config step")
        preview = text(app, "#config-preview")
        assert "shares the main slot's model" in preview and "path =" not in preview
        await pilot.press("escape")
        await until(pilot, lambda: app.return_value is not None or not app.is_running,
                    what="the wizard to close")
    assert app.return_value is False
    assert not (nanobot_home / "config" / "config.toml").exists()  # quitting writes nothing


async def test_a_failed_download_keeps_next_disabled(nanobot_home: Path, tmp_path: Path) -> None:
    with file_server() as host:  # serves nothing: every download is a 404
        app = SetupApp(hardware=fixed_snapshot(ram_gib=24), models_dir=tmp_path / "m",
                       mirror=host.base)
        async with app.run_test(size=(120, 40)) as pilot:
            await click_button(pilot, "#next")
            await until(pilot, lambda: at_step(app, "models"), what="the models step")
            await click_button(pilot, "#next")
            await until(pilot, lambda: "Press Back" in text(app, "#dl-status"),
                        what="the downloads to fail")
            assert "HTTP 404" in text(app, "#dl-status")
            assert app.screen.query_one("#next").disabled


async def test_an_unwritable_models_directory_is_reported(nanobot_home: Path,
                                                          tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the models directory should be")
    with file_server() as host:
        app = SetupApp(hardware=fixed_snapshot(ram_gib=24), models_dir=blocker / "models",
                       mirror=host.base)
        async with app.run_test(size=(120, 40)) as pilot:
            await click_button(pilot, "#next")
            await until(pilot, lambda: at_step(app, "models"), what="the models step")
            await click_button(pilot, "#next")
            await until(pilot, lambda: "Press Back" in text(app, "#dl-status"),
                        what="the download to fail")
            assert "cannot write to" in text(app, "#dl-status")
            assert "Downloading" not in text(app, "#dl-status")
            assert app.screen.query_one("#next").disabled
