"""Markup to text."""
import json

import pytest

from connectors.common.text import html_to_text, markdown_title, markdown_to_text, notebook_to_text, path_words, prose_to_text, rst_to_text


def test_html_drops_navigation_scripts_and_styles():
    text, meta = html_to_text("<html><head><title>T</title><meta name='author' content='Ada'><style>p{}</style></head>"
                              "<body><nav>Home | Search</nav><main><h1>Heading</h1><p>Body text.</p></main>"
                              "<script>alert(1)</script><footer>(c) corp</footer></body></html>")
    assert "Body text." in text and "Heading" in text
    assert "Home | Search" not in text and "alert" not in text and "(c) corp" not in text and "p{}" not in text
    assert meta["title"] == "T" and meta["author"] == "Ada"


def test_markdown_front_matter_and_title():
    title, text, meta = prose_to_text("markdown", "---\ntitle: Hello\nauthor: Ada\n---\n# Other\n\n**bold** [link](http://x)\n")
    assert title == "Hello" and meta["author"] == "Ada"
    assert "bold link" in text and "**" not in text and "http://x" not in text


def test_rst_headings_roles_and_directives():
    text = rst_to_text("Title\n=====\n\n.. image:: x.png\n   :width: 10\n\nUse :func:`fit` and ``predict``.\n")
    assert "Title" in text and "Use fit and predict." in text
    assert "=====" not in text and "image" not in text and ":width:" not in text


def test_notebook_markdown_cells_only():
    nb = {"cells": [{"cell_type": "markdown", "source": ["# Intro\n", "Some *prose*."]},
                    {"cell_type": "code", "source": "print('secret code')"}]}
    text = notebook_to_text(json.dumps(nb))
    assert "Some prose." in text and "secret code" not in text
    assert prose_to_text("notebook", "{not json")[1] == ""


def test_path_words_split_names():
    assert "drift monitor KS Test py" in path_words("src/drift_monitor/KSTest.py") or \
        "drift monitor" in path_words("src/drift_monitor/KSTest.py")
    assert markdown_to_text("plain") == "plain"


def test_data_dumps_saved_as_text_are_not_prose():
    from connectors.common.text import looks_like_prose

    dump = "\n".join(f"tree={i}\nsplit_feature=3 7 12\nthreshold=0.{i}25 1.5e-3 7\nleaf_value=-0.{i} 0.31" for i in range(50))
    assert not looks_like_prose(dump)
    title, text, meta = prose_to_text("text", dump)
    assert text == "" and "not prose" in meta["skipped"]
    changelog = "\n".join(f"v0.{i}.0 (2021-0{i % 9 + 1}-01)\n- Fixed the sampler when the search space is empty." for i in range(30))
    assert looks_like_prose(changelog)


def test_chunks_are_capped_per_document():
    from index.ingest.chunking import chunk_text
    from index.embedding.embedder import Embedder

    chunks = chunk_text("Big", "word " * 200_000, Embedder().tokenizer, max_chunks=5)
    assert len(chunks) == 5


def test_decoration_runs_are_dropped_but_numbers_kept():
    from connectors.common.text import drop_repeats

    assert drop_repeats("Title ==========").split() == ["Title"]
    assert drop_repeats("Bench ab.cd@x.orgab.cd@x.orgab.cd@x.org rest").split() == ["Bench", "rest"]
    assert drop_repeats("w1111 1000000 2020-01-01 aaaa") == "w1111 1000000 2020-01-01 aaaa"


def test_rst_read_by_docutils_keeps_prose_and_drops_markup():
    from connectors.common.text import rst_document

    rst = ("Population stability index\n==========================\n\n:orphan:\n\n"
           "Use :py:func:`~drift.psi` and :ref:`the guide <guide>`; see ``bins``.\n\n"
           ".. note:: Bins are **quantiles**.\n\n.. code-block:: python\n\n   psi = compute(a, b)\n\n"
           ".. toctree::\n   :maxdepth: 2\n\n   intro\n\n.. a comment nobody reads\n\n.. _guide:\n\n"
           "Usage\n-----\n\n* `Link text <http://x>`_ here\n")
    title, text = rst_document(rst)
    assert title == "Population stability index"
    assert "Use drift.psi and the guide; see bins." in text and "Bins are quantiles." in text
    assert "psi = compute(a, b)" in text and "Usage" in text and "Link text here" in text
    for markup in (":py:func:", ":ref:", "``", "**", "maxdepth", "comment nobody", "http://x", ":orphan:", "===="):
        assert markup not in text


def test_rst_that_docutils_cannot_parse_cleanly_still_gives_its_words():
    title, text, _ = prose_to_text("rst", "no title\n\n`unclosed\n\n.. bogus-directive::\n\n===\nbad\n\n+--+\n| x\n")
    assert "no title" in text and "unclosed" in text and "bogus" not in text


def test_outlines_of_markdown_and_restructuredtext_name_headings_as_the_text_reads_them():
    from connectors.common.text import prose_to_text

    title, text, meta = prose_to_text("markdown", "# Guide\n\nIntro.\n\n## Install `pkg`\n\nSteps.\n\n### On *Linux*\n\nApt.")
    assert meta["outline"] == [[1, "Guide"], [2, "Install pkg"], [3, "On Linux"]]
    assert all(h in text.splitlines() for _, h in meta["outline"])
    title, text, meta = prose_to_text("rst", "Guide\n=====\n\nIntro.\n\nInstall\n-------\n\nSteps.\n\nLinux\n~~~~~\n\nApt.\n")
    assert title == "Guide" and meta["outline"] == [[1, "Install"], [2, "Linux"]]
    assert all(h in text.splitlines() for _, h in meta["outline"])
    assert "outline" not in prose_to_text("markdown", "No headings here.")[2]


@pytest.mark.parametrize("md, title", [
    ("## Installation<a id=\"installation\"></a>\n\npip install acme\n", "Installation"),
    ("```bash\n# install the CPU package\npip install acme\n```\n\n## Usage\n", "Usage"),
    ("# **Acme** [docs]\n", "Acme docs"),
])
def test_a_markdown_title_is_a_heading_outside_code_in_words(md, title):
    assert markdown_title(md) == title
