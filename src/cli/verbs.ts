import { notImplemented } from "./not-implemented.ts";
import { ledgerOptions, manifestOptions, primaryOptions } from "./options.ts";
import type { Verb } from "./verb.ts";

export const planVerb: Verb = {
  name: "plan",
  summary: "read kpromo manifests and print the mirror groups (no network)",
  usage: "sigmirror plan (--thin-manifest-dir DIR | --manifest FILE)... [--primary HOST]... [--output text|json|jsonl]",
  description:
    "Reads the manifests and prints which (repository, digest) groups must be held by which hosts.\n" +
    "A group's repository is the destination registry's path after the host plus /IMAGE.\n" +
    "Bad entries (digest, tag, duplicate registry) are warnings on stderr and skipped; --strict makes them fatal.\n" +
    "Touches no registry.",
  options: {
    ...manifestOptions,
    ...primaryOptions,
    output: { type: "string", value: "FORMAT", help: "text (a summary), json (counts) or jsonl (one line per group)", default: "text" },
  },
  run: async (args, ctx) => (await import("./plan.ts")).plan(args, ctx),
};

export const replicateVerb: Verb = {
  name: "replicate",
  summary: "copy every primary signature to every mirror that lacks it",
  usage: "sigmirror replicate --thin-manifest-dir DIR --primary HOST --ledger state.db [flags]",
  description: "Copies each signature tag of the primary to every mirror of its group, checking what the ledger says is due.",
  options: { ...manifestOptions, ...primaryOptions, ...ledgerOptions },
  run: notImplemented("replicate"),
};

export const verifyVerb: Verb = {
  name: "verify",
  summary: "live audit: list every missing, stale or conflicting pair",
  usage: "sigmirror verify --thin-manifest-dir DIR --primary HOST [--ledger state.db] [flags]",
  description: "Checks every pair against the registries, ignoring the ledger's freshness. Writes to no registry.",
  options: { ...manifestOptions, ...primaryOptions, ...ledgerOptions },
  run: notImplemented("verify"),
};

export const ledgerVerb: Verb = {
  name: "ledger",
  summary: "inspect the ledger: stats, explain REPOSITORY@DIGEST",
  usage: "sigmirror ledger (stats | explain REPOSITORY@DIGEST) --ledger state.db",
  description: "Reads the ledger only; sends nothing to any registry.",
  options: { ...ledgerOptions },
  allowPositionals: true,
  run: notImplemented("ledger"),
};

export const verbs: readonly Verb[] = [planVerb, replicateVerb, verifyVerb, ledgerVerb];
