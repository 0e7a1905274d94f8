import { describe, expect, test } from "bun:test";
import type { MissingHelper } from "../registry/credentials/index.ts";
import { checkCredentialHelpers, runHosts } from "./credential-helpers.ts";
import { UsageError } from "./exit.ts";

describe("runHosts", () => {
  test("primaries and mirrors once each, in order, then the --ledger-ref host", () => {
    const groups = [
      { primary: "p.example", mirrors: ["m1.example", "m2.example"] },
      { primary: "p.example", mirrors: ["m2.example", "m3.example"] },
    ];
    expect(runHosts(groups, undefined)).toEqual(["p.example", "m1.example", "m2.example", "m3.example"]);
    expect(runHosts(groups, { host: "store.example", repository: "ledger", tag: "v1" })).toEqual(["p.example", "m1.example", "m2.example", "m3.example", "store.example"]);
    expect(runHosts([], undefined)).toEqual([]);
  });
});

describe("checkCredentialHelpers", () => {
  const provider = (missing: MissingHelper[]) => ({ missingHelpers: () => missing });
  const cases: [string, MissingHelper[], string | undefined][] = [
    ["none missing", [], undefined],
    [
      "one helper, two hosts",
      [{ program: "docker-credential-nosuch", origin: "credsStore in /c.json", hosts: ["a.example", "b.example"] }],
      "replicate: docker-credential-nosuch not found on PATH (credsStore in /c.json), needed for a.example, b.example",
    ],
    [
      "two helpers: still one line",
      [
        { program: "docker-credential-x", origin: "credHelpers in /c.json", hosts: ["a.example"] },
        { program: "docker-credential-y", origin: "credsStore in /c.json", hosts: ["b.example"] },
      ],
      "replicate: docker-credential-x not found on PATH (credHelpers in /c.json), needed for a.example; docker-credential-y not found on PATH (credsStore in /c.json), needed for b.example",
    ],
  ];
  for (const [name, missing, error] of cases) {
    test(name, () => {
      const check = () => checkCredentialHelpers("replicate", provider(missing), ["a.example"]);
      if (error === undefined) expect(check).not.toThrow();
      else expect(check).toThrow(new UsageError(error));
    });
  }
});
