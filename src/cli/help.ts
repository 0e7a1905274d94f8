import { formatOptions, type Verb } from "./verb.ts";

export const exitCodesText = `Exit codes:
  0    done, nothing wrong (also a run its --max-duration cut short: pairs left are "not reached")
  1    the run finished, but some pair failed, a host never answered, a conflict remains, drift
       was found, or an error (a ledger that cannot be written) stopped it
  2    usage or input error (bad flag, manifest, or ledger): nothing was sent to any registry
  130  interrupted by SIGINT (in-flight work finished and committed first)
  143  interrupted by SIGTERM (likewise)`;

export function mainHelp(verbs: readonly Verb[]): string {
  const width = Math.max(...verbs.map((v) => v.name.length)) + 4;
  const list = verbs.map((v) => `  ${v.name.padEnd(width)}${v.summary}`).join("\n");
  return `sigmirror keeps cosign signatures replicated from a primary OCI registry to its mirrors.

Usage:
  sigmirror <verb> [flags]
  sigmirror <verb> --help
  sigmirror --version

Verbs:
${list}

The periodic job:
  sigmirror replicate --thin-manifest-dir DIR --primary HOST --ledger state.db

${exitCodesText}
`;
}

export function verbHelp(verb: Verb): string {
  return `Usage:
  ${verb.usage}

${verb.description}

Flags:
${formatOptions({ ...verb.options, help: { type: "boolean", short: "h", help: "show this help" } })}

${exitCodesText}
`;
}
