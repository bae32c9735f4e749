"""Module votes: who built the part of a repository a question is about.

The matching parts of a project (files, folders, commits) locate the module: a file or folder
stands for itself, a commit half for its author and half for the files it changed (each by how
much of that file's history matches: CHANGELOG.md, changed by every release, says little), and a
matching folder passes weight on to the matching units inside it. Half the vote goes by each
person's share of those units' commits (shrunk: one commit is weak evidence); half by their
commits to the module's core (its heaviest units, with the tests named after them), as the main
builder of a module is the one with most commits to its paths.
"""
from __future__ import annotations

import json
import mimetypes
import re
from collections import defaultdict
from typing import Any, Callable, Iterable

from connectors.common.identifiers import pieces
from connectors.common.stopwords import MODULE_QUESTION_STOPWORDS

from index.storage import documents as documents_store, people as people_store
from index.storage.sqlite.store import Store

COMMIT_AUTHOR_SHARE = 0.5  # share of a matching commit's weight kept by its author; the rest goes to the files it changed
UNIT_WEIGHT = {"folder": 1.0, "code_path": 1.0, "doc": 0.3, "commit": 0.5}  # prose (a CHANGELOG, a notebook) tells of
# a module more than it builds it; a commit is one event, a file or folder sums many
ASSET_WEIGHT = 0.1  # an image, a PDF, a data file: named after the module ('feature_importances.png') but made by
# whoever ran the code once; its history says little of who built the module
ASSET_TYPES = ("image/", "audio/", "video/", "application/pdf", "text/csv", "application/octet-stream")
SHRINK = 3.0  # pseudo-commits by others in every share: one commit to a file is weaker evidence than twenty
CORE_CUT = 0.3  # the module's core: units weighing at least this share of the heaviest
CORE_BLEND = 0.5  # share of the vote by commits pooled over the core (the rest: weighted shares over the locus)


def is_asset(path: str) -> bool:
    """A file the module produces or illustrates rather than is ('baseline_images/test_elbow.png', 'paper.pdf')."""
    kind = mimetypes.guess_type(path.rsplit("/", 1)[-1], strict=False)[0] or ""
    return kind.startswith(ASSET_TYPES) or path.rsplit(".", 1)[-1].casefold() in ("parquet", "joblib", "pkl", "npy", "npz")


ILLUSTRATION_FOLDER = re.compile(r"^(?:examples?|demos?|docs?|docsrc|documentation|notebooks?|tutorials?|gallery|paper)$", re.IGNORECASE)


def illustrates(path: str) -> bool:
    """A file under an examples, docs or notebooks folder shows a module in use; it is not the module."""
    return any(ILLUSTRATION_FOLDER.match(p) for p in path.split("/")[:-1])


def path_weight(path: str) -> float:
    """How much a changed file stands for the module it belongs to: an asset least, an example or a doc as prose."""
    return ASSET_WEIGHT if is_asset(path) else UNIT_WEIGHT["doc"] if illustrates(path) else 1.0


def unit_weight(doc: dict[str, Any]) -> float:
    """How much a matching unit stands for the module: by kind (prose and commits less than code), an asset least."""
    w = UNIT_WEIGHT.get(doc.get("kind") or "", 1.0)
    return w * path_weight(doc.get("path") or "") if doc.get("kind") in ("code_path", "folder") else w


def repository_prefix(doc_id: str, path: str = "") -> str:
    """What a repository's document ids start with: 'skopt:' for a git source's 'skopt:commit:1a2b' or
    'skopt:skopt/plots.py' (with its path), 'gh:alpha/' for a forge source's 'gh:alpha/commit:1a2b'."""
    if path and doc_id.endswith(path):
        return doc_id[:len(doc_id) - len(path)]
    cut = doc_id.rfind("commit:")
    return doc_id[:cut] if cut >= 0 else doc_id.split(":", 1)[0] + ":"


def commit_paths(doc: dict[str, Any]) -> list[str]:
    """The paths a commit document changed (its metadata keeps up to MAX_COMMIT_PATHS)."""
    try:
        meta = json.loads(doc.get("metadata") or "{}")
    except ValueError:
        return []
    return [p for p in meta.get("paths") or [] if isinstance(p, str)]


def locus(parts: Iterable[str], doc_weight: dict[str, float], docs: dict[str, dict[str, Any]],
          author_share: float | None = None) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """(direct, via commits, commit weight) over unit doc ids: the files and folders the matching parts
    stand for. A matching file or folder stands for itself; a commit spreads its weight over the
    files it changed (keeping `author_share` for itself); `hits` sums, per file, the weight of the
    matching commits that changed it (for its precision)."""
    author_share = COMMIT_AUTHOR_SHARE if author_share is None else author_share
    direct: dict[str, float] = defaultdict(float)
    via: dict[str, float] = defaultdict(float)
    hits: dict[str, float] = defaultdict(float)
    for d in parts:
        doc = docs[d]
        w = doc_weight[d] * unit_weight(doc)
        if doc["kind"] != "commit":
            direct[d] += w
            continue
        paths = commit_paths(doc)
        if author_share > 0 or not paths:
            direct[d] += w * (author_share if paths else 1.0)
        for p in paths:
            via[repository_prefix(d) + p] += w * (1 - author_share) / len(paths) * path_weight(p)
            hits[repository_prefix(d) + p] += doc_weight[d]
    return dict(direct), dict(via), dict(hits)


TEST_FOLDER = re.compile(r"^(?:tests?|testing|__tests__|specs?|test_\w+|\w+_tests?)$", re.IGNORECASE)


def is_test_folder(unit: str) -> bool:
    """'pkg/split/tests/' or 'tests/test_encoding/': a folder of tests, which is not a module of its own."""
    return unit.endswith("/") and bool(TEST_FOLDER.match(unit.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]))


def drill_down(weights: dict[str, float], folders: Iterable[str]) -> dict[str, float]:
    """A matching folder passes weight on to the matching units inside it, in proportion to theirs
    (as much as they weigh against it): the folder matched partly through them ('holds: ...
    expandingcutoff ...'), so they are the module; a folder with nothing matching inside keeps its weight.
    A test folder passes all of it: it tests the modules its matching files are named after."""
    out = dict(weights)
    for f in sorted(folders, key=lambda u: -u.count("/")):  # deepest first: a subfolder passes on what it got
        inside = {u: w for u, w in out.items() if u != f and u.startswith(f) and w > 0}
        total = sum(inside.values())
        if not total or f not in out:
            continue
        passed = out[f] if is_test_folder(f) else out[f] * total / (out[f] + total)
        out[f] -= passed
        for u, w in inside.items():
            out[u] += passed * w / total
    return out


def unit_shares(store: Store, units: Iterable[str], fresh: Callable[[str | None], float]) -> dict[str, dict[str, list]]:
    """unit -> person -> [share of the unit's commits x recency, commits, first, last]."""
    rows = people_store.person_contributions(store, dict.fromkeys(units))
    totals: dict[str, float] = defaultdict(float)
    for r in rows:
        totals[r["doc_id"]] += r["count"] or 0
    out: dict[str, dict[str, list]] = defaultdict(dict)
    for r in rows:
        share = (r["count"] or 0) / (totals[r["doc_id"]] + SHRINK) if totals[r["doc_id"]] else 0.0
        s = out[r["doc_id"]].setdefault(r["person_id"], [0.0, 0, r["first_at"], r["last_at"]])
        s[0] += share * fresh(r["last_at"])
        s[1] += r["count"] or 0
        s[2] = min(x for x in (s[2], r["first_at"]) if x) if (s[2] or r["first_at"]) else None
        s[3] = max(x for x in (s[3], r["last_at"]) if x) if (s[3] or r["last_at"]) else None
    return out


def module_weights(store: Store, parts: list[str], doc_weight: dict[str, float], docs: dict[str, dict[str, Any]],
                   fresh: Callable[[str | None], float]) -> tuple[dict[str, float], dict[str, dict[str, list]]]:
    """The module's units with their weights, and each unit's people (unit_shares)."""
    direct, via, hits = locus(parts, doc_weight, docs)
    shares = unit_shares(store, set(direct) | set(via), fresh)
    sizes = {u: sum(c for _, c, _, _ in per.values()) for u, per in shares.items()}  # commits to the unit
    weights = dict(direct)
    for u, w in via.items():
        if sizes.get(u):
            # a file many other commits changed too (CHANGELOG.md, __init__.py) says little about the module
            weights[u] = weights.get(u, 0.0) + w * min(1.0, hits[u] / sizes[u])
    weights = drill_down(weights, [d for d in direct if docs.get(d, {}).get("kind") == "folder"])
    weights = {u: w for u, w in weights.items() if w > 0 and sizes.get(u)}  # a file deleted since, or with no known author
    for u, code in illustrated_code(store, weights, docs).items():
        if code not in shares:
            shares.update(unit_shares(store, [code], fresh))
        if shares.get(code):
            weights[code] = weights.get(code, 0.0) + weights.pop(u)
    return weights, shares


def illustrated_code(store: Store, units: Iterable[str], docs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """unit -> the code file it illustrates: a doc page, example, notebook or image named exactly after one
    code file of its repository ('docsrc/reference/domain_reduction.rst', 'examples/domain_reduction.ipynb'
    for 'bayes_opt/domain_reduction.py'), or in a folder so named ('docsrc/reference/acquisition/
    ExpectedImprovement.rst' for 'bayes_opt/acquisition.py'), or else named like exactly one code file but
    for its last word ('examples/mixture_cure_model.py' for 'fitters/mixture_cure_fitter.py'), stands for
    that file, as the module is its code, not its illustrations."""
    units = list(units)
    known = {**store.documents(u for u in units if u not in docs), **docs}
    out: dict[str, str] = {}
    for u in units:
        d = known.get(u) or {}
        path, kind = d.get("path") or "", d.get("kind")
        if "/" not in path.rstrip("/") or not (kind == "doc" or (kind in ("code_path", "folder") and (illustrates(path) or is_asset(path)))):
            continue  # an illustration, in a folder
        own = base_name(path)
        folder = path.rstrip("/").split("/")[-2]
        # (the name looked for, whether a code file's name is it): its own name; else its folder's, as API pages sit
        # by module ('reference/acquisition/ExpectedImprovement.rst' documents a class of 'acquisition.py'), unless
        # the folder is one of illustrations ('docs', 'examples'); else its kin, all its words but the last
        tries: list[tuple[str, Callable[[str], bool]]] = [(own, own.__eq__)]
        if not ILLUSTRATION_FOLDER.match(folder):
            tries.append((folder.casefold(), folder.casefold().__eq__))
        if own.count("_") >= 2:
            kin = own.rsplit("_", 1)[0]
            tries.append((kin, lambda n, kin=kin: n.startswith(kin + "_") and n.count("_") == kin.count("_") + 1))
        for name, same in tries:
            code = _one_code_file(store, d.get("source") or "", repository_prefix(u, path), u, name, same) if len(name) >= 4 else None
            if code:
                out[u] = code
                break
    return out


def _one_code_file(store: Store, source: str, prefix: str, unit: str, name: str, same: Callable[[str], bool]) -> str | None:
    """The one code file of the repository (`prefix`) whose name (no folder, no extension) is `same`, looked up by
    `name`; None when there is none or several. Illustrations, assets and tests are not code files here."""
    code = {r["id"] for r in documents_store.code_paths_with_stem(store, source, name)
            if r["id"].startswith(prefix) and r["id"] != unit and same(base_name(r["path"] or ""))
            and not illustrates(r["path"] or "") and not is_asset(r["path"] or "") and not is_test_path(r["path"] or "")}
    return code.pop() if len(code) == 1 else None


def is_test_path(path: str) -> bool:
    """A file under a test folder ('tests/test_x.py', 'pkg/tests/x.py')."""
    return any(TEST_FOLDER.match(p) for p in path.split("/")[:-1])


def module_votes(store: Store, parts: list[str], doc_weight: dict[str, float], docs: dict[str, dict[str, Any]],
                 fresh: Callable[[str | None], float]) -> dict[str, list]:
    """person -> [vote, best unit, their commits there, first, last, all commits there]: the votes sum to at most 1."""
    weights, shares = module_weights(store, parts, doc_weight, docs, fresh)
    known = docs if all(u in docs for u in weights) else {**store.documents(u for u in weights if u not in docs), **docs}
    core = core_units(weights, known) if weights else []
    weights = fold_commits(weights, core, known)
    total = sum(weights.values())
    out: dict[str, list] = {}
    for u, w in weights.items():
        for pid, (share, count, first, last) in shares[u].items():
            vote = w * share / total
            row = out.setdefault(pid, [0.0, u, count, first, last, -1.0])
            row[0] += vote
            # the evidence shown: the person's best file or folder here, a single commit only when there is none
            rank = (known.get(u, {}).get("kind") != "commit", vote)
            if rank > (known.get(row[1], {}).get("kind") != "commit", row[5]):
                row[1:6] = [u, count, first, last, vote]
    if core:  # the core's builders by their commits to it, as the module's main builder is named
        top = max(weights[u] for u in core)
        weight = {u: weights[u] / top for u in core}  # a unit's commits count as much as it weighs against the heaviest
        extra = {c: u for c, u in companions(store, core, known).items() if c not in weight}
        shares.update(unit_shares(store, [c for c in extra if c not in shares], fresh))
        weight.update({c: weight[u] for c, u in extra.items() if c in shares})
        pooled: dict[str, float] = defaultdict(float)
        for u, k in weight.items():
            for pid, (_, count, _, _) in shares[u].items():
                pooled[pid] += k * count
        size = sum(pooled.values())
        for pid in set(out) | set(pooled):
            row = out.setdefault(pid, [0.0, next(iter(core)), 0, None, None, -1.0])
            row[0] = (1 - CORE_BLEND) * row[0] + CORE_BLEND * (pooled.get(pid, 0.0) / size if size else 0.0)
    size_of = {u: sum(c for _, c, _, _ in per.values()) for u, per in shares.items()}
    return {pid: row[:5] + [size_of.get(row[1], 0)] for pid, row in out.items()}


def fold_commits(weights: dict[str, float], core: list[str], docs: dict[str, dict[str, Any]]) -> dict[str, float]:
    """A matching commit that changed the module's core is evidence of where the module is, not a part of it:
    its weight joins the core units it changed, whose people are counted by all their commits there."""
    out = dict(weights)
    for c, w in weights.items():
        doc = docs.get(c) or {}
        if doc.get("kind") != "commit":
            continue
        prefix = repository_prefix(c)
        paths = [prefix + p for p in commit_paths(doc)]
        touched = [u for u in core if any(p == u or (u.endswith("/") and p.startswith(u)) for p in paths)]
        if touched:
            del out[c]
            for u in touched:
                out[u] += w / len(touched)
    return out


def core_units(weights: dict[str, float], docs: dict[str, dict[str, Any]], cut: float = CORE_CUT) -> list[str]:
    """The module itself: the files and folders weighing at least `cut` of the heaviest one, a file
    left out when a folder of the core holds it (the folder counts each of its commits once)."""
    files = {u: w for u, w in weights.items() if docs.get(u, {}).get("kind") != "commit"}
    if not files:
        return []
    top = max(files.values())
    core = [u for u, w in files.items() if w >= cut * top]
    folders = [u for u in core if u.endswith("/")]
    return [u for u in core if not any(u != f and u.startswith(f) for f in folders)]


def base_name(path: str) -> str:
    """'docs/reference/Acquisition.rst' -> 'acquisition', 'pkg/grf/' -> 'grf': a file's or folder's own name,
    lower-cased, without its extensions."""
    return path.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0].casefold()


def stem(path: str) -> str:
    """'pkg/tests/test_target_encoder.py' -> 'target_encoder': a file's name without its extension
    and without the test marks ('test_', '_test', '_tests', '.test', '.spec')."""
    return re.sub(r"^tests?_|_tests?$|\.(?:test|spec)$", "", base_name(path))


def companions(store: Store, core: list[str], docs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The files of the same repositories named after a core file, each with that core file: its tests
    ('test_hashing.py' for 'hashing.py') or, from a test, the file it tests; for a core folder, the
    tests outside it named after it ('tests/test_grf_python.py' for 'grf/'). Who built a module wrote its tests too."""
    out: dict[str, str] = {}
    for u in core:
        d = docs.get(u) or {}
        path, source = d.get("path") or "", d.get("source") or ""
        prefix = repository_prefix(u, path)  # a forge source holds many repositories: the module's own only
        if path.endswith("/") and d.get("kind") == "folder" and not is_test_folder(path):
            out.update({t: u for t in folder_tests(store, source, path) if t not in out and t.startswith(prefix)})
        if not path or path.endswith("/") or d.get("kind") not in ("code_path", None):
            continue
        s = stem(path)
        if len(s) < 4:
            continue
        for r in documents_store.code_paths_with_stem(store, source, s):
            if r["id"] != u and stem(r["path"]) == s and r["id"].startswith(prefix):
                out.setdefault(r["id"], u)
    return out


def folder_tests(store: Store, source: str, folder: str) -> list[str]:
    """The test files outside `folder` named after it: 'test_grf.py' or 'test_grf_cython.py' for 'pkg/grf/',
    beside it (under its parent folder) or in a top-level test folder, as tests sit; a 'base/' elsewhere is another module's."""
    name = folder.rstrip("/").rsplit("/", 1)[-1].casefold()
    parent = folder.rstrip("/").rsplit("/", 1)[0] + "/" if "/" in folder.rstrip("/") else ""
    if len(name) < 3:
        return []
    out = []
    for r in documents_store.code_paths_containing(store, source, name):
        p = r["path"] or ""
        base = base_name(p)
        s = stem(p)
        beside = p.startswith(parent) or is_test_folder(p.split("/", 1)[0] + "/")
        if beside and not p.startswith(folder) and base != s and (s == name or s.startswith(name + "_")):
            out.append(r["id"])
    return out


def name_span(topic: str, name: str) -> tuple[int, int] | None:
    """Where the question names the project ('... in tslearn', 'the category encoders package'), as a range of
    its words (re.findall(r"[a-z0-9]+")): its name, letters and digits only, is one word or several written together."""
    key = re.sub(r"[^a-z0-9]", "", name.casefold())
    words = re.findall(r"[a-z0-9]+", topic.casefold())
    if len(key) < 4:
        return None
    return next(((i, j) for i in range(len(words)) for j in range(i + 1, min(len(words), i + 4) + 1)
                 if "".join(words[i:j]) == key), None)


def names_project(topic: str, name: str) -> bool:
    """Does the question name the project (name_span)?"""
    return name_span(topic, name) is not None


def without_name(topic: str, name: str) -> str:
    """The question without the project's name: 'support for constraints in' for 'support for constraints in Bayesian
    optimization' and the project 'BayesianOptimization'."""
    span = name_span(topic, name)
    words = re.findall(r"[a-z0-9]+", topic.casefold())
    return " ".join(words[:span[0]] + words[span[1]:]) if span else topic


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def names_part(topic: str, path: str) -> bool:
    """Does the question name this file or folder ('the smoothing in the target encoder' and
    'target_encoder.py')? Its name, two words or more, stands in the question word for word."""
    name = [w for w in pieces(path.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0]) if w.isalpha()]
    name = [_singular(w) for w in name[name[:1] in (["test"], ["tests"]):len(name) - (name[-1:] in (["test"], ["tests"], ["spec"]))]]
    if len(name) < 2:
        return False
    words = [_singular(w) for w in re.findall(r"[a-z0-9]+", topic.casefold())]
    return any(words[i:i + len(name)] == name for i in range(len(words) - len(name) + 1))


STOP = MODULE_QUESTION_STOPWORDS
MIN_INITIALS = 3  # 'rf' or 'dl' could stand for anything


LINKS = frozenset("of and for on in to".split())  # may stand inside a name, its initial taken or not ('weight of evidence': woe)


def initialisms(topic: str) -> dict[str, list[str]]:
    """'the generalized random forest code' -> {'grf': ['generalized', 'random', 'forest'], ...}: the
    initials of every run of 3 to 5 consecutive content words, and of runs with a linking word inside
    ('weight of evidence': 'woe' and 'we'; another stop word ends a run). Each with the words it stands for."""
    out: dict[str, list[str]] = {}
    words = re.findall(r"[a-z][a-z0-9]*", topic.casefold())
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + 7) + 1):
            span = words[i:j]
            if any(w in STOP and w not in LINKS for w in span):
                break
            content = [w for w in span if w not in LINKS]
            if span[0] in LINKS or span[-1] in LINKS or len(content) > 5:
                continue
            for short in ("".join(w[0] for w in content), "".join(w[0] for w in span)):
                if len(short) >= MIN_INITIALS:
                    out.setdefault(short, span)
    return out


def parts_named_by_initials(store: Store, topic: str) -> list[str]:
    """The folders and files named by the initials of words in the question ('econml/grf/' for "the
    generalized random forest"), where the repository itself writes those words together somewhere
    (a commit subject, a file's name or text: 'Generalized Random Forests.ipynb'), so that a folder
    whose name happens to spell the initials of unrelated words is not taken."""
    found: list[str] = []
    named = initialisms(topic)
    if not named:
        return found
    patterns = [p for short in named for p in (f"%/{short}/", f"{short}/", f"%/{short}.%", f"{short}.%")]
    rows = documents_store.parts_with_paths_like(store, patterns)  # one scan
    for short, words in named.items():
        hits = [r for r in rows if base_name(r["path"] or "") == short]
        phrase = "%" + "_".join(w.rstrip("s") if len(w) > 3 else w for w in words) + "%"
        for source in sorted({r["source"] for r in hits}):
            if documents_store.source_mentions(store, source, phrase):
                found += [r["id"] for r in hits if r["source"] == source]
    return found


def named_by_initials(store: Store, topic: str, doc_scores: dict[str, float]) -> dict[str, float]:
    """The parts named by the question's initials (parts_named_by_initials), each scored as its
    repository's best-matching part (a README is the whole): so named, it is the module asked about,
    if the question is about a part of that repository at all (one with no part hit gets none)."""
    named = parts_named_by_initials(store, topic)
    sources = {d.split(":", 1)[0] for d in named}
    hits = [d for d in doc_scores if d.split(":", 1)[0] in sources]
    kinds = {d: r["kind"] for d, r in store.documents(hits).items()} if hits else {}
    best: dict[str, float] = {}
    for d in hits:
        if kinds.get(d, "readme") != "readme":
            source = d.split(":", 1)[0]
            best[source] = max(best.get(source, 0.0), doc_scores[d])
    out = {}
    for d in named:
        source = d.split(":", 1)[0]
        if source in best and doc_scores.get(d, 0.0) < best[source]:
            out[d] = best[source]
    return out
