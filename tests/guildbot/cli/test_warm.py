"""A question's model starts loading while the command line imports the rest, and only on a sure guess."""
from __future__ import annotations

import threading

from guildbot.cli import warm
from index.embedding import embedder


def config(tmp_path, text: str = ""):
    path = tmp_path / "guild.toml"
    path.write_text(f'[guild]\nname = "T"\n{text}')
    return path


def test_the_guess_follows_the_command_the_config_and_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("GUILDBOT_BACKEND", raising=False)
    path = config(tmp_path, 'data_dir = "state"\n')
    assert warm.guess(["--config", str(path), "who", "drift"]) == ("all-MiniLM-L6-v2", "onnx", tmp_path / "state")
    assert warm.guess([f"--config={path}", "search", "x"])[1] == "onnx"  # bf16 documents, ONNX questions
    assert warm.guess(["--config", str(path), "crawl"]) is None  # only questions load the model first
    monkeypatch.setenv("GUILDBOT_BACKEND", "onnx-int8")
    assert warm.guess(["--config", str(path), "who", "x"])[1] == "onnx-int8"
    monkeypatch.setenv("GUILDBOT_BACKEND", "torch")
    assert warm.guess(["--config", str(path), "who", "x"]) is None  # torch questions run in the documents' model
    monkeypatch.delenv("GUILDBOT_BACKEND")
    assert warm.guess(["--config", str(tmp_path / "missing.toml"), "who", "x"]) is None
    (tmp_path / "bad.toml").write_text("[guild\n")
    assert warm.guess(["--config", str(tmp_path / "bad.toml"), "who", "x"]) is None  # the command reports it


def test_a_guess_never_exports_and_threads_asking_at_once_load_once(tmp_path, monkeypatch):
    assert embedder.load_onnx("all-MiniLM-L6-v2", "onnx", str(tmp_path / "empty"), export=False) is None
    assert not (tmp_path / "empty").exists()
    inside, most = [0], [0]

    def slow_load(*args):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        threading.Event().wait(0.05)
        inside[0] -= 1
        return object()

    monkeypatch.setattr(embedder, "_load_onnx", slow_load)
    threads = [threading.Thread(target=embedder.load_onnx, args=("m", "onnx", str(tmp_path))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1  # one load at a time: the warm-up's and the command's never run side by side
