"""The model manifest: per-file SHA-256, the model-signing root digest, and manifest diffs."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.errors import LimitExceeded, UsageError
from garrison.supplychain.provenance.manifest import (
    BUFFER_BYTES,
    Manifest,
    Resource,
    build_manifest,
    diff_manifests,
    hash_file,
)

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected_root(digests: dict[str, str]) -> str:
    """model-signing's subject digest, computed without the code under test."""
    hasher = hashlib.sha256()
    for name in sorted(digests):
        hasher.update(bytes.fromhex(digests[name]))
    return hasher.hexdigest()


@pytest.fixture
def model(tmp_path: Path) -> Path:
    root = tmp_path / "bert-tiny"
    (root / "tokenizer" / "extra").mkdir(parents=True)
    (root / "config.json").write_bytes(b'{"model_type": "bert"}')
    (root / "model.safetensors").write_bytes(bytes(range(256)) * 300)
    (root / "tokenizer" / "vocab.txt").write_bytes(b"[PAD]\n[UNK]\n")
    (root / "tokenizer" / "extra" / "merges.txt").write_bytes(b"a b\n")
    return root


FILES = {
    "config.json": b'{"model_type": "bert"}',
    "model.safetensors": bytes(range(256)) * 300,
    "tokenizer/vocab.txt": b"[PAD]\n[UNK]\n",
    "tokenizer/extra/merges.txt": b"a b\n",
}


def test_digests_sizes_and_posix_names_match_hashlib(model: Path) -> None:
    manifest = build_manifest(model)
    assert manifest.model_name == "bert-tiny"
    assert manifest.digests() == {name: sha256(data) for name, data in FILES.items()}
    assert {r.name: r.size for r in manifest.resources} == {n: len(d) for n, d in FILES.items()}
    assert manifest.total_bytes == sum(len(d) for d in FILES.values())
    assert [r.name for r in manifest.resources] == sorted(FILES)


def test_root_digest_is_sha256_of_raw_digests_in_name_order(model: Path) -> None:
    manifest = build_manifest(model)
    assert manifest.root_digest == expected_root(manifest.digests())
    # Order of the resources given does not matter: the manifest sorts by name.
    shuffled = Manifest("m", tuple(reversed(manifest.resources)))
    assert shuffled.root_digest == manifest.root_digest


def test_parallel_and_serial_hashing_agree(model: Path) -> None:
    assert build_manifest(model, jobs=1) == build_manifest(model, jobs=4)


def test_git_metadata_and_signature_files_are_ignored_but_other_dotfiles_kept(
    model: Path,
) -> None:
    (model / ".git" / "objects").mkdir(parents=True)
    (model / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")
    (model / ".git" / "objects" / "ab").write_bytes(b"blob")
    (model / ".gitignore").write_bytes(b"*.tmp\n")
    (model / "model.sig").write_bytes(b"{}")
    (model / "model.scan.sig").write_bytes(b"{}")
    (model / ".env.example").write_bytes(b"A=1\n")
    (model / "tokenizer" / ".hidden").write_bytes(b"x")

    names = set(build_manifest(model).digests())

    assert names == set(FILES) | {".env.example", "tokenizer/.hidden"}


def test_explicit_ignore_paths_replace_the_defaults(model: Path) -> None:
    (model / ".gitignore").write_bytes(b"*.tmp\n")
    manifest = build_manifest(model, ignore_paths=["tokenizer"])
    assert set(manifest.digests()) == {"config.json", "model.safetensors", ".gitignore"}
    assert manifest.ignore_paths == ("tokenizer",)
    assert manifest.serialization()["ignore_paths"] == ["tokenizer"]


def test_a_symlinked_file_inside_the_model_is_refused(model: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"elsewhere")
    (model / "link.bin").symlink_to(outside)

    with pytest.raises(UsageError, match="symbolic link"):
        build_manifest(model)

    followed = build_manifest(model, allow_symlinks=True)
    assert followed.digests()["link.bin"] == sha256(b"elsewhere")
    assert followed.serialization()["allow_symlinks"] is True


def test_a_symlinked_directory_inside_the_model_is_refused(model: Path, tmp_path: Path) -> None:
    outside = tmp_path / "shared"
    outside.mkdir()
    (outside / "weights.bin").write_bytes(b"w")
    (model / "shared").symlink_to(outside, target_is_directory=True)

    with pytest.raises(UsageError, match="symbolic link"):
        build_manifest(model)

    followed = build_manifest(model, allow_symlinks=True)
    assert followed.digests()["shared/weights.bin"] == sha256(b"w")


def test_a_symlinked_model_root_is_refused(model: Path, tmp_path: Path) -> None:
    link = tmp_path / "alias"
    link.symlink_to(model, target_is_directory=True)
    with pytest.raises(UsageError, match="symbolic link"):
        build_manifest(link)
    assert build_manifest(link, allow_symlinks=True).digests() == build_manifest(model).digests()


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or directory"):
        build_manifest(tmp_path / "nope")


def test_the_file_count_limit_is_enforced(model: Path) -> None:
    with pytest.raises(LimitExceeded) as caught:
        build_manifest(model, max_files=3)
    assert caught.value.maximum == 3
    assert len(build_manifest(model, max_files=4).resources) == 4


def test_an_empty_directory_has_no_resources_and_the_empty_root(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    manifest = build_manifest(empty)
    assert manifest.resources == ()
    assert manifest.root_digest == EMPTY_SHA256


def test_a_single_file_model_is_named_by_its_file_name(tmp_path: Path) -> None:
    single = tmp_path / "model.gguf"
    single.write_bytes(b"GGUF" + bytes(100))
    manifest = build_manifest(single)
    assert manifest.model_name == "model.gguf"
    assert [r.name for r in manifest.resources] == ["model.gguf"]
    assert manifest.ignore_paths == ()
    assert manifest.root_digest == expected_root({"model.gguf": sha256(b"GGUF" + bytes(100))})


def test_hash_file_streams_files_larger_than_its_buffer(tmp_path: Path) -> None:
    data = os.urandom(3 * BUFFER_BYTES + BUFFER_BYTES // 2)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert hash_file(path) == (sha256(data), len(data))
    assert hash_file(path, buffer_bytes=4096) == (sha256(data), len(data))


def test_hash_file_of_an_unreadable_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        hash_file(tmp_path / "missing.bin")


def test_hashing_a_large_file_uses_constant_memory(tmp_path: Path) -> None:
    size = 64 * 1024 * 1024
    path = tmp_path / "sparse.bin"
    with path.open("wb") as out:
        out.truncate(size)  # sparse: cheap to create, still 64 MB to read
    expected = hashlib.sha256()
    chunk = bytes(BUFFER_BYTES)
    for _ in range(size // BUFFER_BYTES):
        expected.update(chunk)

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        digest, seen = hash_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (digest, seen) == (expected.hexdigest(), size)
    assert peak - before < 4 * 1024 * 1024


def manifest_of(digests: dict[str, str]) -> Manifest:
    return Manifest("m", tuple(Resource(n, d) for n, d in digests.items()))


def digest_of(text: str) -> str:
    return sha256(text.encode())


def test_diff_names_changed_added_removed_and_renamed() -> None:
    before = {"a.bin": digest_of("a"), "b.bin": digest_of("b"), "c.bin": digest_of("c")}
    after = {
        "a.bin": digest_of("A"),  # changed
        "c2.bin": digest_of("c"),  # renamed from c.bin
        "d.bin": digest_of("d"),  # added; b.bin removed
    }
    diff = diff_manifests(manifest_of(before), manifest_of(after))
    assert diff.changed == ("a.bin",)
    assert diff.added == ("d.bin",)
    assert diff.removed == ("b.bin",)
    assert diff.renamed == (("c.bin", "c2.bin"),)
    assert diff.describe() == (
        "changed: a.bin; added: d.bin; removed: b.bin; renamed: c.bin -> c2.bin"
    )


def test_identical_manifests_have_an_empty_diff() -> None:
    same = {"a": digest_of("a")}
    diff = diff_manifests(manifest_of(same), manifest_of(same))
    assert not diff
    assert diff.describe() == ""


def test_describe_truncates_long_lists() -> None:
    before = {f"f{i}.bin": digest_of(str(i)) for i in range(8)}
    after = {name: digest_of("x" + name) for name in before}
    text = diff_manifests(manifest_of(before), manifest_of(after)).describe()
    assert text == "changed: f0.bin, f1.bin, f2.bin, f3.bin, f4.bin (+3 more)"


def test_describe_shows_exactly_five_without_a_suffix() -> None:
    before = {f"f{i}.bin": digest_of(str(i)) for i in range(5)}
    text = diff_manifests(manifest_of(before), manifest_of({})).describe()
    assert text == "removed: f0.bin, f1.bin, f2.bin, f3.bin, f4.bin"


names = st.text(alphabet="abcdefgh/._-", min_size=1, max_size=8)


@st.composite
def edited_models(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """A name->digest map, a random set of edits to it, and what those edits were."""
    counter = iter(range(10_000))

    def fresh() -> str:  # a digest no other file has
        return digest_of(f"content-{next(counter)}")

    before = {name: fresh() for name in draw(st.sets(names, max_size=12))}
    after = dict(before)
    existing = sorted(before)
    to_remove = draw(
        st.sets(st.sampled_from(existing), max_size=len(existing)) if existing else st.just(set())
    )
    rest = [n for n in existing if n not in to_remove]
    to_change = draw(st.sets(st.sampled_from(rest), max_size=len(rest)) if rest else st.just(set()))
    new_names = draw(st.sets(names.filter(lambda n: n not in before), max_size=6))
    to_add = set(new_names)
    renamed: set[str] = set()
    for name in to_remove:
        del after[name]
    for name in to_change:
        after[name] = fresh()
    # Some removed files reappear under a new name with their old digest: a rename.
    for old, new in zip(sorted(to_remove), sorted(to_add), strict=False):
        if draw(st.booleans()):
            after[new] = before[old]
            renamed.add(f"{old}->{new}")
    renamed_old = {r.split("->")[0] for r in renamed}
    renamed_new = {r.split("->")[1] for r in renamed}
    for name in to_add - renamed_new:
        after[name] = fresh()
    edits = {
        "removed": set(to_remove) - renamed_old,
        "added": to_add - renamed_new,
        "changed": set(to_change),
        "renamed": renamed,
    }
    return before, after, edits


@given(edited_models())
@settings(max_examples=200, deadline=None)
def test_diff_reports_exactly_the_edits(
    case: tuple[dict[str, str], dict[str, str], dict[str, set[str]]],
) -> None:
    before, after, edits = case
    diff = diff_manifests(manifest_of(before), manifest_of(after))
    assert set(diff.removed) == edits["removed"]
    assert set(diff.added) == edits["added"]
    assert set(diff.changed) == edits["changed"]
    assert {f"{old}->{new}" for old, new in diff.renamed} == edits["renamed"]
    assert bool(diff) == any(edits.values())
