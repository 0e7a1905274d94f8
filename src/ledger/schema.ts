// The ledger's on-disk layout. Integers everywhere: hosts, repositories and digests are interned,
// so each ~920,000-row pair table stays small (registry-facts.md: ~25 MB for the full k8s shape).

/** `PRAGMA application_id`: "SGMR". A SQLite file without it is not ours. */
export const APPLICATION_ID = 0x53474d52;

/** Migrations, index i brings the schema from version i to i + 1. Never edit a released one. */
export const migrations: readonly string[] = [
  `
  CREATE TABLE hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE repositories (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  -- sha256 digests as their 32 raw bytes; any other algorithm as its text. Found by a 48-bit
  -- prefix index, not a unique index on the value: that would store every (incompressible) digest
  -- twice. The one writer (the run lock) looks before it inserts.
  CREATE TABLE digests (id INTEGER PRIMARY KEY, value BLOB NOT NULL, prefix INTEGER NOT NULL);
  CREATE INDEX digests_by_prefix ON digests (prefix);

  -- The primary's state of one (primary host, repository, digest). Times in epoch seconds.
  -- state: 0 missing on the primary, 1 present and unsigned, 2 signed.
  CREATE TABLE subjects (
    id INTEGER PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    repository_id INTEGER NOT NULL REFERENCES repositories(id),
    digest_id INTEGER NOT NULL REFERENCES digests(id),
    state INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    signed_at INTEGER,
    checked_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    -- A summary of its pairs (see pairs-key.ts), kept by every flush: a warm run reads no pair row.
    -- Which suffixes (bit 1 << suffix) were looked for on the primary: a run that asks for more
    -- re-reads the primary rather than take "no .att" from a run that never looked.
    families INTEGER NOT NULL DEFAULT 1,
    pairs_key INTEGER NOT NULL DEFAULT 0,
    pairs_due INTEGER NOT NULL DEFAULT 0,
    UNIQUE (host_id, repository_id, digest_id)
  );

  -- The signature-family tags the primary holds for a subject. suffix: 0 sig, 1 att, 2 sbom.
  CREATE TABLE subject_tags (
    subject_id INTEGER NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    suffix INTEGER NOT NULL,
    digest_id INTEGER NOT NULL REFERENCES digests(id),
    PRIMARY KEY (subject_id, suffix)
  ) WITHOUT ROWID;

  -- Children of an index, read once: content addressed, they never change.
  -- A digest known to be a plain manifest has a row in manifests_read with no children.
  CREATE TABLE manifests_read (digest_id INTEGER PRIMARY KEY REFERENCES digests(id), is_index INTEGER NOT NULL);
  CREATE TABLE children (
    parent_id INTEGER NOT NULL REFERENCES digests(id),
    position INTEGER NOT NULL,
    child_id INTEGER NOT NULL REFERENCES digests(id),
    PRIMARY KEY (parent_id, position)
  ) WITHOUT ROWID;

  -- A mirror seen, or made, to hold the subject's current suffix tag (the digest in
  -- subject_tags: a pair is deleted when that tag moves). Due at verified_at + due_in minutes.
  CREATE TABLE pairs (
    subject_id INTEGER NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    suffix INTEGER NOT NULL,
    verified_at INTEGER NOT NULL,
    due_in INTEGER NOT NULL,
    PRIMARY KEY (subject_id, host_id, suffix)
  ) WITHOUT ROWID;

  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    verb TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    summary TEXT NOT NULL DEFAULT '{}'
  );
  `,
  // 2: OCI 1.1 referrers (Sigstore bundles, attestations) beside the tag families.
  `
  CREATE TABLE artifact_types (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  -- The artifact-type selections runs looked for ("all", or the sorted types joined by ","):
  -- a run that asks for more re-reads the primary, as for tag families.
  CREATE TABLE referrer_selections (id INTEGER PRIMARY KEY, types TEXT NOT NULL UNIQUE);
  -- The primary's selected referrers of a subject, to depth 2: of_digest is the digest a referrer
  -- refers to (the subject's own, or a depth-1 referrer's).
  CREATE TABLE subject_referrers (
    subject_id INTEGER NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    digest_id INTEGER NOT NULL REFERENCES digests(id),
    of_digest_id INTEGER NOT NULL REFERENCES digests(id),
    type_id INTEGER NOT NULL REFERENCES artifact_types(id),
    PRIMARY KEY (subject_id, digest_id)
  ) WITHOUT ROWID;
  -- A mirror seen, or made, to serve the referrer by digest and list it (referrers API or
  -- fallback index). Deleted when the referrer leaves the subject's set.
  CREATE TABLE referrer_pairs (
    subject_id INTEGER NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    digest_id INTEGER NOT NULL REFERENCES digests(id),
    verified_at INTEGER NOT NULL,
    due_in INTEGER NOT NULL,
    PRIMARY KEY (subject_id, host_id, digest_id)
  ) WITHOUT ROWID;
  -- referrers_looked: the selection last looked for (0: never). referrers_due: when a subject
  -- never looked at is first looked at; ref_key: the summary of its referrer pairs.
  ALTER TABLE subjects ADD COLUMN referrers_looked INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE subjects ADD COLUMN referrers_due INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE subjects ADD COLUMN ref_key INTEGER NOT NULL DEFAULT 0;
  -- Subjects a version-1 ledger knew: their first referrer lookups spread over one default
  -- re-verify window (24h), not all in the first run after the upgrade.
  UPDATE subjects SET referrers_due = CAST(strftime('%s', 'now') AS INTEGER) + abs(random() % 86400);
  `,
];

export const SCHEMA_VERSION = migrations.length;
