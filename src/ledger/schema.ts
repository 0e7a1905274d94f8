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
  // 3: room to grow. Digests stored where they are used (no digests table: its lookup index stored
  // an incompressible prefix per digest), no 53-bit summary hashes, and a subject whose pairs are
  // the full product (every host of a set holds every tag and every referrer) keeps them as one
  // mirror-set id on its row instead of a row per pair: the stored ledger shrinks ~4x at k8s scale.
  // Old rows are copied over; open.ts then folds every subject's pairs (settle.ts).
  `
  CREATE TABLE mirror_sets (id INTEGER PRIMARY KEY, hosts TEXT NOT NULL UNIQUE);
  CREATE TABLE mirror_set_hosts (
    set_id INTEGER NOT NULL REFERENCES mirror_sets(id),
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    PRIMARY KEY (set_id, host_id)
  ) WITHOUT ROWID;
  -- digest: 32 raw bytes for sha256, any other algorithm as its text. No unique index on
  -- (host, repository, digest): it would store every digest twice; the one writer (the run lock)
  -- holds every subject in memory and looks there. settled_set: every host of that mirror set
  -- holds every tag and referrer of the subject, verified at settled_at, due at pairs_due
  -- (0: the pairs, if any, are rows). pairs_due: the earliest due time of all its pairs.
  CREATE TABLE subjects_3 (
    id INTEGER PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    repository_id INTEGER NOT NULL REFERENCES repositories(id),
    digest BLOB NOT NULL,
    state INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    signed_at INTEGER,
    checked_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    families INTEGER NOT NULL DEFAULT 1,
    referrers_looked INTEGER NOT NULL DEFAULT 0,
    referrers_due INTEGER NOT NULL DEFAULT 0,
    pairs_due INTEGER NOT NULL DEFAULT 0,
    settled_set INTEGER NOT NULL DEFAULT 0,
    settled_at INTEGER NOT NULL DEFAULT 0,
    -- Its manifest as read on the primary (content addressed, read once): 0 not yet, 1 a plain
    -- manifest, 2 an index (its children in manifests_read). Here, not in a table keyed by the
    -- digest: that would store every digest a second time.
    manifest INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO subjects_3 (id, host_id, repository_id, digest, state, first_seen, signed_at, checked_at, due_at, families, referrers_looked, referrers_due, pairs_due, manifest)
    SELECT s.id, s.host_id, s.repository_id, d.value, s.state, s.first_seen, s.signed_at, s.checked_at, s.due_at, s.families, s.referrers_looked, s.referrers_due, s.pairs_due,
      coalesce((SELECT 1 + m.is_index FROM manifests_read m WHERE m.digest_id = s.digest_id), 0)
    FROM subjects s JOIN digests d ON d.id = s.digest_id;
  CREATE TABLE subject_tags_3 (
    subject_id INTEGER NOT NULL REFERENCES subjects_3(id) ON DELETE CASCADE,
    suffix INTEGER NOT NULL,
    digest BLOB NOT NULL,
    PRIMARY KEY (subject_id, suffix)
  ) WITHOUT ROWID;
  INSERT INTO subject_tags_3 SELECT t.subject_id, t.suffix, d.value FROM subject_tags t JOIN digests d ON d.id = t.digest_id;
  -- of_digest: NULL when the referrer refers to the subject itself (depth 1, nearly all).
  CREATE TABLE subject_referrers_3 (
    subject_id INTEGER NOT NULL REFERENCES subjects_3(id) ON DELETE CASCADE,
    digest BLOB NOT NULL,
    of_digest BLOB,
    type_id INTEGER NOT NULL REFERENCES artifact_types(id),
    PRIMARY KEY (subject_id, digest)
  ) WITHOUT ROWID;
  INSERT INTO subject_referrers_3
    SELECT r.subject_id, d.value, CASE WHEN r.of_digest_id = s.digest_id THEN NULL ELSE o.value END, r.type_id
    FROM subject_referrers r JOIN subjects s ON s.id = r.subject_id JOIN digests d ON d.id = r.digest_id JOIN digests o ON o.id = r.of_digest_id;
  CREATE TABLE pairs_3 (
    subject_id INTEGER NOT NULL REFERENCES subjects_3(id) ON DELETE CASCADE,
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    suffix INTEGER NOT NULL,
    verified_at INTEGER NOT NULL,
    due_in INTEGER NOT NULL,
    PRIMARY KEY (subject_id, host_id, suffix)
  ) WITHOUT ROWID;
  INSERT INTO pairs_3 SELECT subject_id, host_id, suffix, verified_at, due_in FROM pairs;
  CREATE TABLE referrer_pairs_3 (
    subject_id INTEGER NOT NULL REFERENCES subjects_3(id) ON DELETE CASCADE,
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    digest BLOB NOT NULL,
    verified_at INTEGER NOT NULL,
    due_in INTEGER NOT NULL,
    PRIMARY KEY (subject_id, host_id, digest)
  ) WITHOUT ROWID;
  INSERT INTO referrer_pairs_3 SELECT p.subject_id, p.host_id, d.value, p.verified_at, p.due_in FROM referrer_pairs p JOIN digests d ON d.id = p.digest_id;
  -- Indexes read: the child digests in order, each as its 32 bytes when every one is sha256, else
  -- their texts joined by newlines (a TEXT value).
  CREATE TABLE manifests_read_3 (digest BLOB PRIMARY KEY, children BLOB NOT NULL) WITHOUT ROWID;
  INSERT INTO manifests_read_3
    SELECT d.value, CASE WHEN (SELECT count(*) FROM children k JOIN digests c ON c.id = k.child_id WHERE k.parent_id = m.digest_id AND length(c.value) <> 32) > 0
        THEN (SELECT group_concat(CASE WHEN length(c.value) = 32 THEN 'sha256:' || lower(hex(c.value)) ELSE CAST(c.value AS TEXT) END, char(10)) FROM (SELECT c.value FROM children k JOIN digests c ON c.id = k.child_id WHERE k.parent_id = m.digest_id ORDER BY k.position) c)
      ELSE coalesce((SELECT unhex(group_concat(hex(c.value), '')) FROM (SELECT c.value FROM children k JOIN digests c ON c.id = k.child_id WHERE k.parent_id = m.digest_id ORDER BY k.position) c), x'')
    END
    FROM manifests_read m JOIN digests d ON d.id = m.digest_id WHERE m.is_index = 1;
  DROP TABLE children; DROP TABLE manifests_read; DROP TABLE referrer_pairs; DROP TABLE pairs;
  DROP TABLE subject_referrers; DROP TABLE subject_tags; DROP TABLE subjects; DROP TABLE digests;
  ALTER TABLE subjects_3 RENAME TO subjects;
  ALTER TABLE subject_tags_3 RENAME TO subject_tags;
  ALTER TABLE subject_referrers_3 RENAME TO subject_referrers;
  ALTER TABLE pairs_3 RENAME TO pairs;
  ALTER TABLE referrer_pairs_3 RENAME TO referrer_pairs;
  ALTER TABLE manifests_read_3 RENAME TO manifests_read;
  -- Every tag pair, folded or not, for counting (ledger stats).
  CREATE VIEW tag_pairs AS
    SELECT subject_id, host_id, suffix, verified_at, verified_at + due_in * 60 AS due_at FROM pairs
    UNION ALL
    SELECT s.id, h.host_id, t.suffix, s.settled_at, s.pairs_due
    FROM subjects s JOIN mirror_set_hosts h ON h.set_id = s.settled_set JOIN subject_tags t ON t.subject_id = s.id
    WHERE s.settled_set <> 0;
  `,
];

export const SCHEMA_VERSION = migrations.length;
