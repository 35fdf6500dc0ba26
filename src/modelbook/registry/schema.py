"""The registry's tables, as numbered migrations.

``meta.schema_version`` records the newest migration applied. A registry written by a newer
modelbook (a higher number than :data:`SCHEMA_VERSION`) is refused rather than misread.
"""

from __future__ import annotations

import re
from typing import Any

from modelbook.errors import RegistryVersionError

__all__ = ["SCHEMA_VERSION", "check_version", "current_version", "migrate", "postgres_ddl"]

_V1 = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);

-- One namespace for models and datasets, so a reference never means two things.
CREATE TABLE entries (
    name VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,              -- 'model' | 'dataset'
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE dataset_versions (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    fingerprint VARCHAR NOT NULL,       -- content identity: identical data is stored once
    blob VARCHAR NOT NULL,              -- sha256 of the Parquet file in objects/
    size_bytes BIGINT NOT NULL,
    n_rows BIGINT NOT NULL,
    n_columns INTEGER NOT NULL,
    source VARCHAR,                     -- 'pandas', 'polars', 'arrow', 'numpy', a file path
    target VARCHAR,                     -- name of the label column, when known
    tags VARCHAR NOT NULL,              -- JSON object
    notes VARCHAR,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE column_profiles (
    dataset VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    arrow_type VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    count BIGINT NOT NULL,
    nulls BIGINT NOT NULL,
    nan BIGINT NOT NULL,
    pos_inf BIGINT NOT NULL,
    neg_inf BIGINT NOT NULL,
    "distinct" BIGINT NOT NULL,
    min DOUBLE,
    max DOUBLE,
    mean DOUBLE,
    std DOUBLE,
    quantiles DOUBLE[] NOT NULL,
    hist_edges DOUBLE[] NOT NULL,
    hist_counts BIGINT[] NOT NULL,
    top_values VARCHAR[] NOT NULL,
    top_counts BIGINT[] NOT NULL,
    other_count BIGINT NOT NULL,
    PRIMARY KEY (dataset, version, position)
);

CREATE TABLE model_versions (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    flavor VARCHAR NOT NULL,            -- 'sklearn' | 'xgboost' | 'lightgbm' | 'pickle'
    class_name VARCHAR NOT NULL,
    blob VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    trusted BOOLEAN NOT NULL,           -- False: loading needs trust=True (pickle)
    params VARCHAR NOT NULL,            -- JSON
    metrics VARCHAR NOT NULL,           -- JSON
    signature VARCHAR,                  -- JSON, from the training data
    train_dataset VARCHAR,
    train_version INTEGER,
    environment VARCHAR NOT NULL,       -- JSON: python, platform, packages
    code VARCHAR,
    notebook VARCHAR,
    git_commit VARCHAR,
    git_dirty BOOLEAN,
    tags VARCHAR NOT NULL,
    notes VARCHAR,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE aliases (
    name VARCHAR NOT NULL,
    alias VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR NOT NULL,
    PRIMARY KEY (name, alias)
);

CREATE SEQUENCE alias_event_ids;
CREATE TABLE alias_events (
    id BIGINT PRIMARY KEY DEFAULT nextval('alias_event_ids'),
    name VARCHAR NOT NULL,
    alias VARCHAR NOT NULL,
    from_version INTEGER,               -- NULL: the alias was new
    to_version INTEGER,                 -- NULL: the alias was removed
    changed_at TIMESTAMP NOT NULL,
    changed_by VARCHAR NOT NULL
);

CREATE TABLE monitor_runs (
    id VARCHAR PRIMARY KEY,             -- uuid
    target VARCHAR NOT NULL,            -- name of the model or dataset monitored
    target_version INTEGER NOT NULL,
    reference VARCHAR,                  -- dataset name@version compared against
    status VARCHAR NOT NULL,            -- 'ok' | 'alert' | 'error'
    source VARCHAR NOT NULL,            -- 'interactive' | 'scheduled' | 'cli' | 'api'
    n_rows BIGINT,
    drift_share DOUBLE,
    n_alerts INTEGER NOT NULL,
    metrics VARCHAR NOT NULL,           -- JSON
    batch_dataset VARCHAR,              -- name@version when the batch was stored
    notebook VARCHAR,
    parameters VARCHAR,                 -- JSON: papermill parameters
    report VARCHAR NOT NULL,            -- JSON: the whole MonitorReport
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL
);
CREATE INDEX monitor_runs_target ON monitor_runs (target, started_at);

CREATE TABLE check_results (
    run_id VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    check_name VARCHAR NOT NULL,        -- e.g. 'drift', 'schema.missing', 'stability.nan'
    column_name VARCHAR,
    status VARCHAR NOT NULL,            -- 'ok' | 'alert' | 'error' | 'info'
    test VARCHAR,
    statistic DOUBLE,
    threshold DOUBLE,
    message VARCHAR NOT NULL,
    PRIMARY KEY (run_id, position)
);

CREATE TABLE reference_predictions (
    model VARCHAR NOT NULL,
    model_version INTEGER NOT NULL,
    dataset VARCHAR NOT NULL,
    dataset_version INTEGER NOT NULL,
    profile VARCHAR NOT NULL,           -- JSON ColumnProfile of the predictions
    PRIMARY KEY (model, model_version, dataset, dataset_version)
);
"""

# Issue 10: a model version's identity (class, parameters, learned state, training data), so an
# identical model registered again returns the stored version instead of a copy.
_V2 = """
ALTER TABLE model_versions ADD COLUMN identity VARCHAR;
"""

# Issues 11 and 14: a model's evaluation set and what estimation fitted on it; chunked runs as
# periods of one timeline; a dataset's multivariate (PCA) statistics, computed once and stored.
_V3 = """
ALTER TABLE model_versions ADD COLUMN eval_dataset VARCHAR;
ALTER TABLE model_versions ADD COLUMN eval_version INTEGER;
ALTER TABLE model_versions ADD COLUMN measured_metrics VARCHAR;  -- JSON: scored on the eval set
ALTER TABLE model_versions ADD COLUMN estimator VARCHAR;         -- sha256 blob: estimation state
ALTER TABLE model_versions ADD COLUMN loss_model VARCHAR;        -- sha256 blob: skops loss model
ALTER TABLE monitor_runs ADD COLUMN timeline VARCHAR;            -- id shared by a timeline's chunks
ALTER TABLE monitor_runs ADD COLUMN chunk_index INTEGER;
ALTER TABLE monitor_runs ADD COLUMN period_start TIMESTAMP;
ALTER TABLE monitor_runs ADD COLUMN period_end TIMESTAMP;
ALTER TABLE dataset_versions ADD COLUMN multivariate VARCHAR;    -- JSON: PCA reference statistics
"""

# Issue 12: the prediction log (one Parquet blob per run), late labels and what they realized,
# champion/challenger runs of one batch, the reason and trigger of an alias move, policy actions.
_V4 = """
CREATE TABLE prediction_logs (
    run_id VARCHAR PRIMARY KEY,         -- the monitor run whose rows these are
    model VARCHAR NOT NULL,
    model_version INTEGER NOT NULL,
    blob VARCHAR NOT NULL,              -- sha256 of the Parquet (zstd) log in objects/
    n_rows BIGINT NOT NULL,
    id_column VARCHAR NOT NULL,
    time_column VARCHAR,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX prediction_logs_model ON prediction_logs (model, created_at);

CREATE TABLE label_sets (
    model VARCHAR NOT NULL,             -- labels belong to the entity: one set per model name
    fingerprint VARCHAR NOT NULL,       -- content of the labels file: the same file twice is a no-op
    blob VARCHAR NOT NULL,              -- sha256 of the Parquet of the MATCHED labels (id, label)
    n_rows BIGINT NOT NULL,
    target VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (model, fingerprint)
);

CREATE TABLE feedback_results (
    id VARCHAR PRIMARY KEY,             -- uuid
    run_id VARCHAR NOT NULL,            -- the original run (never rewritten)
    labels_state VARCHAR NOT NULL,      -- fingerprint of all label sets applied: idempotence key
    predictions BIGINT NOT NULL,
    labelled BIGINT NOT NULL,
    metrics VARCHAR NOT NULL,           -- JSON: realized quality on the labelled rows
    report VARCHAR NOT NULL,            -- JSON: counts, conflicts, checks (source = 'feedback')
    status VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX feedback_results_run ON feedback_results (run_id, created_at);

ALTER TABLE monitor_runs ADD COLUMN batch_id VARCHAR;     -- shared by a champion and challenger
ALTER TABLE monitor_runs ADD COLUMN role VARCHAR;         -- 'champion' | 'challenger' | NULL
CREATE TABLE comparisons (
    batch_id VARCHAR PRIMARY KEY,
    champion_run VARCHAR NOT NULL,
    challenger_run VARCHAR NOT NULL,
    comparison VARCHAR NOT NULL,        -- JSON: disagreement, Δscore, quality with n, McNemar
    verdict VARCHAR NOT NULL,           -- 'better' | 'worse' | 'inconclusive'
    updated_at TIMESTAMP NOT NULL
);

ALTER TABLE alias_events ADD COLUMN reason VARCHAR;
ALTER TABLE alias_events ADD COLUMN trigger_runs VARCHAR;  -- JSON list of run ids

CREATE SEQUENCE policy_event_ids;
CREATE TABLE policy_events (
    id BIGINT PRIMARY KEY DEFAULT nextval('policy_event_ids'),
    policy VARCHAR NOT NULL,
    alias VARCHAR NOT NULL,             -- name@alias
    action VARCHAR NOT NULL,            -- 'rollback' | 'command' | 'notebook'
    status VARCHAR NOT NULL,            -- 'done' | 'failed' | 'dry_run' | 'refused'
    reason VARCHAR NOT NULL,
    trigger_runs VARCHAR NOT NULL,      -- JSON list of run ids
    exit_code INTEGER,
    output VARCHAR,                     -- output path / message
    created_at TIMESTAMP NOT NULL
);
"""

_V5 = """
-- Statistics derived from a stored version on first use and kept (monitoring/segments.py,
-- monitoring/fairness.py): the reference's per-segment profiles, a model's fairness baseline.
-- ``value`` holds small JSON; larger payloads go to a blob in objects/ (counted by gc and check).
CREATE TABLE derived_statistics (
    kind VARCHAR NOT NULL,              -- e.g. 'segment_profiles', 'fairness_baseline'
    name VARCHAR NOT NULL,              -- the dataset or model name
    version INTEGER NOT NULL,
    key VARCHAR NOT NULL,               -- what it was computed for (columns, settings)
    value VARCHAR,                      -- JSON
    blob VARCHAR,                       -- sha256 of a blob in objects/, when the value is large
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, name, version, key)
);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5)
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(con: Any) -> int:
    """The schema version of an open registry; 0 for an empty file (or database)."""
    if getattr(con, "dialect", "duckdb") == "postgres":
        # A failed statement would abort the transaction: ask the catalog first.
        found = con.execute("SELECT to_regclass('meta') IS NOT NULL").fetchall()
        if not found[0][0]:
            return 0
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        return int(rows[0][0]) if rows else 0
    import duckdb

    try:
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.CatalogException:  # no meta table: a new, empty file
        return 0
    return int(rows[0][0]) if rows else 0


def postgres_ddl(migration: str) -> str:
    """A migration in PostgreSQL's words: the same tables, keys and numbering as DuckDB's."""
    code = re.sub(r"--[^\n]*", "", migration)  # comments may hold ';'
    return re.sub(r"\bDOUBLE\b(?! PRECISION)", "DOUBLE PRECISION", code).replace("BLOB", "BYTEA")


# PostgreSQL only: the queries behind ``ls`` and ``history`` stay index scans at 10,000s of
# versions and runs (DuckDB scans are fast enough without them).
POSTGRES_INDEXES = (
    "CREATE INDEX IF NOT EXISTS monitor_runs_target_version "
    "ON monitor_runs (target, target_version, started_at)",
    "CREATE INDEX IF NOT EXISTS monitor_runs_started ON monitor_runs (started_at)",
    "CREATE INDEX IF NOT EXISTS alias_events_name ON alias_events (name, alias, id)",
    "CREATE INDEX IF NOT EXISTS dataset_versions_fingerprint "
    "ON dataset_versions (name, fingerprint)",
    "CREATE INDEX IF NOT EXISTS model_versions_identity ON model_versions (name, identity)",
)


def check_version(con: Any, where: str) -> int:
    version = current_version(con)
    if version > SCHEMA_VERSION:
        raise RegistryVersionError(
            f"the registry at {where} has schema version {version}, but this modelbook reads up "
            f"to version {SCHEMA_VERSION}: upgrade with `pip install -U modelbook`."
        )
    return version


def migrate(con: Any, *, from_version: int) -> None:
    """Bring a registry at ``from_version`` up to :data:`SCHEMA_VERSION` (inside a transaction)."""
    version = from_version
    postgres = getattr(con, "dialect", "duckdb") == "postgres"
    for number in range(version, SCHEMA_VERSION):
        if postgres:
            for statement in postgres_ddl(MIGRATIONS[number]).split(";"):
                if _sql(statement):
                    con.execute(statement)
        else:
            con.execute(MIGRATIONS[number])
    if version < SCHEMA_VERSION:
        if postgres:
            for statement in POSTGRES_INDEXES:
                con.execute(statement)
        con.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [str(SCHEMA_VERSION)],
        )


def _sql(statement: str) -> bool:
    """Whether a piece of a migration holds a statement (not only comments and blanks)."""
    return any(
        line.strip() and not line.strip().startswith("--") for line in statement.splitlines()
    )
