"""The S3-compatible blob store of a team registry, against a real S3 server (moto, over TCP).

Round trip, hashes verified on every read (a tampered object is refused), the local cache,
discard never deleting, gc's grace period, and a network fault in the middle of a registration
leaving nothing half-written (with PostgreSQL as the metadata store, when it is installed).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from modelbook.errors import ConfigError, IntegrityError, RegistryError
from modelbook.registry import remote_objects
from modelbook.registry.objects import BlobStore, ObjectStore, make_object_store
from modelbook.registry.remote_objects import S3ObjectStore, display_objects, parse_s3
from s3_server import CREDENTIALS, FaultyLink, client


def _store(objects: str, cache: Path) -> S3ObjectStore:
    store = make_object_store(objects, cache)
    assert isinstance(store, S3ObjectStore)
    return store


def _bucket_keys(objects: str) -> list[str]:
    where = parse_s3(objects)
    assert where.endpoint is not None
    listed = client(where.endpoint).list_objects_v2(Bucket=where.bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def _key(objects: str, digest: str) -> tuple[str, str]:
    where = parse_s3(objects)
    return where.bucket, where.key(digest).split("/", 1)[1]


def _commit(store: BlobStore, data: bytes) -> str:
    """Stage and install, as a registration does around its transaction."""
    digest = store.put_bytes(data)
    store.install(digest)
    store.discard(digest)
    return digest


def test_both_stores_satisfy_the_protocol(s3_objects: str, tmp_path: Path) -> None:
    assert isinstance(_store(s3_objects, tmp_path / "cache"), BlobStore)
    folder = make_object_store(str(tmp_path / "shared"), tmp_path / "cache")
    assert isinstance(folder, ObjectStore) and folder.root == tmp_path / "shared"
    assert isinstance(make_object_store(f"file://{tmp_path}/x", tmp_path), ObjectStore)


def test_round_trip_through_a_fresh_cache(s3_objects: str, tmp_path: Path) -> None:
    writer = _store(s3_objects, tmp_path / "writer")
    payload = os.urandom(300_000)
    digest = _commit(writer, payload)
    assert digest == hashlib.sha256(payload).hexdigest()
    _bucket, key = _key(s3_objects, digest)
    assert key == f"registry/{digest[:2]}/{digest[2:]}"  # same layout as a local objects/
    assert _bucket_keys(s3_objects) == [key]
    reader = _store(s3_objects, tmp_path / "reader")  # another machine: empty cache
    assert reader.exists(digest)
    assert reader.read_verified(digest) == payload
    path = reader.verified_path(digest)
    assert path.read_bytes() == payload and path.is_relative_to(tmp_path / "reader")
    assert [d for d, _ in reader.iter_digests()] == [digest]
    assert not reader.exists("0" * 64)


def test_multipart_upload_is_verified_by_its_etag(
    s3_objects: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above two part sizes s3fs uploads in parts; the predicted multipart ETag must match."""
    monkeypatch.setattr(remote_objects, "PART", 5 * 2**20)  # S3's smallest part
    store = _store(s3_objects, tmp_path / "cache")
    tmp = store.temp_path(".bin")
    tmp.write_bytes(os.urandom(11 * 2**20 + 12345))
    expected = hashlib.sha256(tmp.read_bytes()).hexdigest()
    digest = store.put_file(tmp)
    assert digest == expected and tmp.exists()  # staged (this process's) until the commit
    store.install(digest)
    assert not tmp.exists() and store.verified_path(digest).is_relative_to(tmp_path / "cache")
    bucket, key = _key(s3_objects, digest)
    etag = client(parse_s3(s3_objects).endpoint).head_object(Bucket=bucket, Key=key)["ETag"]
    assert etag.strip('"').endswith("-3")
    assert (
        _store(s3_objects, tmp_path / "other").read_verified(digest)
        == Path(store.verified_path(digest)).read_bytes()
    )


def test_tampered_object_is_refused(s3_objects: str, tmp_path: Path) -> None:
    digest = _commit(_store(s3_objects, tmp_path / "writer"), b"the real model bytes")
    bucket, key = _key(s3_objects, digest)
    client(parse_s3(s3_objects).endpoint).put_object(Bucket=bucket, Key=key, Body=b"evil bytes")
    reader = _store(s3_objects, tmp_path / "reader")
    for read in (reader.verified_path, reader.read_verified, reader.local_path):
        with pytest.raises(IntegrityError) as info:
            read(digest)
        message = str(info.value)
        assert message.startswith(f"artifact s3://{bucket}/{key} does not match its recorded hash")
        assert message.endswith("refusing to load it.") and "\n" not in message
    assert not any(p.is_file() for p in (tmp_path / "reader").rglob("*"))  # nothing cached


def test_cache_hit_and_a_tampered_cache_copy(s3_objects: str, tmp_path: Path) -> None:
    store = _store(s3_objects, tmp_path / "cache")
    digest = _commit(store, b"cached bytes")
    bucket, key = _key(s3_objects, digest)
    s3 = client(parse_s3(s3_objects).endpoint)
    s3.delete_object(Bucket=bucket, Key=key)  # only the cache holds the bytes now
    assert store.read_verified(digest) == b"cached bytes"  # served (and hashed) from the cache
    cached = store.verified_path(digest)
    cached.write_bytes(b"corrupted cache")
    with pytest.raises(IntegrityError, match="is missing from the object store"):
        store.read_verified(digest)  # the bad copy is dropped, never returned
    assert not cached.exists()
    s3.put_object(Bucket=bucket, Key=key, Body=b"cached bytes")
    assert store.verified_path(digest).read_bytes() == b"cached bytes"  # downloaded again


def test_discard_never_deletes(s3_objects: str, tmp_path: Path) -> None:
    """Two writers stage the same content; one gives up: the other's commit still holds."""
    first = _store(s3_objects, tmp_path / "a")
    second = _store(s3_objects, tmp_path / "b")
    digest = first.put_bytes(b"same content")
    assert second.put_bytes(b"same content") == digest
    first.discard(digest)  # e.g. identical data was found already stored
    assert first.exists(digest)
    second.install(digest)  # the commit that names it
    second.discard(digest)
    assert _bucket_keys(s3_objects) == [_key(s3_objects, digest)[1]]


def test_install_uploads_again_what_gc_removed(s3_objects: str, tmp_path: Path) -> None:
    store = _store(s3_objects, tmp_path / "cache")
    digest = store.put_bytes(b"staged while gc ran")
    assert store.collect(set(), grace_seconds=0) == (1, len(b"staged while gc ran"))
    assert not store.exists(digest)
    store.install(digest)  # under the writers' lock: the staged copy goes up again
    assert store.exists(digest)


def test_gc_keeps_referenced_and_young_objects(s3_objects: str, tmp_path: Path) -> None:
    store = _store(s3_objects, tmp_path / "cache")
    kept = _commit(store, b"named by a version")
    orphan = _commit(store, b"left by a killed writer")
    foreign = client(parse_s3(s3_objects).endpoint)
    bucket = parse_s3(s3_objects).bucket
    foreign.put_object(Bucket=bucket, Key="registry/README.txt", Body=b"not a blob")
    assert store.collect({kept}, grace_seconds=3600) == (0, 0)  # too young
    assert store.exists(orphan)
    assert store.collect({kept}, grace_seconds=0) == (1, len(b"left by a killed writer"))
    assert store.exists(kept) and not store.exists(orphan)
    assert "registry/README.txt" in _bucket_keys(s3_objects)  # not ours: left alone
    assert not store.verified_path(kept).parent.joinpath(orphan[2:]).exists()  # cache pruned


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        ("s3://", "'s3://' is not an object store URL: write s3://bucket/prefix"),
        ("s3://AKIA:Hunter2pw@bucket/p", "put no credentials in the object store URL"),
        ("s3://bucket/p?acl=public", "unknown option 'acl' in the object store URL"),
        ("gs://bucket/p", "object store 'gs://bucket/p': only s3://bucket/prefix"),
    ],
)
def test_bad_locations(objects: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        make_object_store(objects, tmp_path)
    assert str(info.value).startswith(message) and "Hunter2pw" not in str(info.value)


def test_display_has_no_credentials_or_query() -> None:
    assert display_objects("s3://bucket/team/reg?endpoint=http://x:9000") == "s3://bucket/team/reg"
    assert display_objects("/mnt/team/objects") == "/mnt/team/objects"


def test_errors_are_classified_and_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelbook.registry.s3_location import denied, reason, transient

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "Zq9-secret-value")
    dropped = OSError("POST http://user:pw@127.0.0.1:40359/b failed: Zq9-secret-value\nmore")
    assert not denied(dropped) and transient(dropped)  # a port with 403 in it is no refusal
    text = reason(dropped)
    assert text == "OSError: POST http://127.0.0.1:40359/b failed: ***"
    refused = PermissionError("Access Denied")
    assert denied(refused) and not transient(refused)
    assert not transient(FileNotFoundError("gone")) and not transient(ConfigError("bad"))


def test_unreachable_store_fails_in_one_bounded_line(
    s3_objects: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    dead = s3_objects.split("?")[0] + "?endpoint=http://127.0.0.1:9"
    store = _store(dead, tmp_path)
    started = time.monotonic()
    with pytest.raises(RegistryError) as info:
        store.put_bytes(b"x")
    assert time.monotonic() - started < 30  # bounded backoff, not botocore's defaults
    message = str(info.value)
    assert message.startswith(f"the object store {dead.split('?')[0]} at http://127.0.0.1:9 ")
    assert "after 4 attempts" in message and "\n" not in message
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in message
    assert not list((tmp_path / "tmp").iterdir())  # the staged file went too
    missing = "s3://no-such-bucket/registry?" + s3_objects.split("?")[1]
    with pytest.raises(RegistryError, match=r"has no bucket 'no-such-bucket': create it, or fix"):
        _store(missing, tmp_path).put_bytes(b"x")


# -- a registration over a failing link, with PostgreSQL holding the metadata --------------------


@pytest.fixture
def pg(pg_server: Any) -> Any:
    """The session's PostgreSQL server (tests/conftest.py; skipped with the reason when the
    binaries are missing)."""
    return pg_server


def test_store_error_mid_registration_leaves_nothing_half_written(
    pg: Any, s3_endpoint: str, s3_objects: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd
    from sklearn.datasets import load_wine
    from sklearn.tree import DecisionTreeClassifier

    import modelbook as mb

    X, y = load_wine(return_X_y=True, as_frame=True)
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    url = pg.url(pg.fresh_database())
    bucket = parse_s3(s3_objects).bucket
    link = FaultyLink(s3_endpoint, puts=1)  # the training data goes up, then the link dies
    monkeypatch.setenv("MODELBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MODELBOOK_OBJECTS", f"s3://{bucket}/registry?endpoint={link.endpoint}")
    try:
        with pytest.raises(RegistryError) as info:
            mb.register(model, name="wine", data=X, target=pd.Series(y), registry=url)
    finally:
        link.close()
    message = str(info.value)
    assert message.startswith(f"the object store s3://{bucket}/registry at {link.endpoint} ")
    assert "could not" in message and "\n" not in message
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in message and "s3cret" not in message
    assert link.seen >= 2  # it failed in the middle: after one blob was stored
    tables = ("entries", "model_versions", "dataset_versions", "column_profiles")
    for table in tables:  # no row at all, so none that names a missing blob
        assert pg.admin(f"SELECT count(*) FROM {table}", url.rsplit("/", 1)[1]) == [(0,)]
    assert len(_bucket_keys(s3_objects)) == 1  # the orphan upload: gc's to remove
    monkeypatch.setenv("MODELBOOK_OBJECTS", s3_objects)  # the link is back
    assert mb.gc(grace_seconds=0, registry=url).removed_files == 1
    assert _bucket_keys(s3_objects) == []
    again = mb.register(model, name="wine", data=X, target=pd.Series(y), registry=url)
    assert again.version == 1
    assert (mb.load("wine@1", registry=url).predict(X) == model.predict(X)).all()


def test_check_verifies_every_object_of_a_team_registry(
    pg: Any, s3_objects: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import modelbook as mb

    X, y = load_iris(return_X_y=True, as_frame=True)
    url = pg.url(pg.fresh_database())
    monkeypatch.setenv("MODELBOOK_OBJECTS", s3_objects)
    monkeypatch.setenv("MODELBOOK_CACHE", str(tmp_path / "writer"))
    mb.register(LogisticRegression(max_iter=500).fit(X, y), name="iris", data=X, registry=url)
    monkeypatch.setenv("MODELBOOK_CACHE", str(tmp_path / "checker"))  # another machine
    report = mb.check(registry=url)
    assert report.ok and report.files_checked == 2, report
    model_blob = str(pg.admin("SELECT blob FROM model_versions", url.rsplit("/", 1)[1])[0][0])
    bucket, key = _key(s3_objects, model_blob)
    client(parse_s3(s3_objects).endpoint).put_object(Bucket=bucket, Key=key, Body=b"tampered")
    monkeypatch.setenv("MODELBOOK_CACHE", str(tmp_path / "third"))
    report = mb.check(registry=url)
    assert [p.check for p in report.problems] == ["blob.corrupt"]
    assert "model iris@1" in report.problems[0].subject
    with pytest.raises(IntegrityError, match="does not match its recorded hash"):
        mb.load("iris@1", registry=url)
