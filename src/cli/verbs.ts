import { ledgerOptions, manifestOptions, primaryOptions } from "./options.ts";
import { credentialsHelp } from "../registry/credentials/help.ts";
import { registryOptions } from "./registry-options.ts";
import { replicateOnlyOptions, scopeOptions, verifyOnlyOptions } from "./replicate-options.ts";
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

const engineDescription =
  "Reads the manifests, then for every group with a primary: the signature-family tags the primary holds\n" +
  "for the digest (and for each child of an index) are made to exist on every mirror at the same digest.\n" +
  "The ledger remembers verified pairs, so a run where nothing is due sends no request at all.\n" +
  "A mirror's tag at another digest is replaced only when the primary's manifest holds every signature\n" +
  "layer the mirror's holds (re-signing appends); otherwise it is a conflict, reported, never overwritten.\n" +
  "Nothing on a mirror is ever deleted, and no tag is written without reading it on that mirror first.\n" +
  "--max-duration D ends the run by D + --wind-down (30s): pairs left are 'not reached' (exit 0); a mirror\n" +
  "that never answered is failed (exit 1).\n\n" +
  credentialsHelp.trimEnd();

export const replicateVerb: Verb = {
  name: "replicate",
  summary: "copy every primary signature to every mirror that lacks it",
  usage: "sigmirror replicate (--thin-manifest-dir DIR | --manifest FILE)... --primary HOST --ledger state.db [flags]",
  description: engineDescription,
  options: {
    ...manifestOptions,
    ...primaryOptions,
    ...ledgerOptions,
    ...replicateOnlyOptions,
    ...scopeOptions,
    ...registryOptions,
  },
  run: async (args, ctx) => (await import("./replicate.ts")).replicate(args, ctx),
};

export const verifyVerb: Verb = {
  name: "verify",
  summary: "live audit: list every missing, stale or conflicting pair",
  usage: "sigmirror verify (--thin-manifest-dir DIR | --manifest FILE)... --primary HOST [--ledger state.db] [flags]",
  description:
    "Checks every pair against the registries, whatever the ledger says is due, and lists each missing,\n" +
    "stale or conflicting one on stderr, in replicate's words: a mirror's tag at another digest is stale when\n" +
    "the primary's manifest supersedes it (replicate would replace it) and a conflict when it holds signatures\n" +
    "the primary lacks (replicate keeps it). Writes to no registry and no ledger. Exit 1 if there is any.",
  options: { ...manifestOptions, ...primaryOptions, ...ledgerOptions, ...verifyOnlyOptions, ...scopeOptions, ...registryOptions },
  run: async (args, ctx) => (await import("./replicate.ts")).verify(args, ctx),
};

export const ledgerVerb: Verb = {
  name: "ledger",
  summary: "inspect the ledger: stats, explain REPOSITORY@DIGEST",
  usage: "sigmirror ledger stats --ledger state.db\n  sigmirror ledger explain REPOSITORY@DIGEST --ledger state.db",
  description:
    "stats: entries by state, pairs per host, oldest verification, what is due now, the last run.\n" +
    "explain: for each host, which tag at which digest, when verified, when due next.\n" +
    "Reads the ledger only (no lock); sends nothing to any registry.",
  options: { ...ledgerOptions, output: { type: "string", value: "FORMAT", help: "text or json", default: "text" } },
  allowPositionals: true,
  run: async (args, ctx) => (await import("./ledger.ts")).ledgerCommand(args, ctx),
};

export const verbs: readonly Verb[] = [planVerb, replicateVerb, verifyVerb, ledgerVerb];
