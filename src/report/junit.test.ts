// The JUnit file is checked by a real XML parser (xmllint, Debian libxml2-utils), not by our own.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { escapeAttribute, escapeText, junitPath, renderJunit, writeJunit } from "./junit.ts";
import type { HostSummary, PairProblem, RunReport } from "./types.ts";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sigmirror-junit-"));
});
afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function save(xml: string): string {
  const file = join(dir, `junit-${n++}.xml`);
  writeFileSync(file, xml);
  return file;
}

/** xmllint refuses a file that is not well-formed XML 1.0; else evaluates the XPath. */
function xpath(file: string, expr: string): string {
  return execFileSync("xmllint", ["--noout", "--nonet", file], { encoding: "utf8" }) === ""
    ? execFileSync("xmllint", ["--nonet", "--xpath", expr, file], { encoding: "utf8" }).replace(/\n$/, "")
    : "";
}

function host(name: string, role: HostSummary["role"], over: Partial<HostSummary> = {}): HostSummary {
  return {
    host: name,
    role,
    requests: 10,
    byMethod: { HEAD: 8, GET: 2 },
    byStatus: { "200": 9, "404": 1 },
    retries: 0,
    status429: 0,
    pausedMs: 0,
    bytes: 2048,
    tokenRequests: 1,
    checked: 5,
    copied: 1,
    replaced: 0,
    alreadyThere: 4,
    failed: 0,
    conflicts: 0,
    notReached: 0,
    referrersChecked: 0,
    referrersCopied: 0,
    referrersThere: 0,
    ...over,
  };
}

function problem(h: string, i: number, reason = "PUT manifest: 500 Internal Server Error"): PairProblem {
  return { host: h, repository: `images/app${i}`, tag: `sha256-${String(i).padStart(64, "0")}.sig`, digest: `sha256:${"a".repeat(64)}`, reason };
}

function report(over: Partial<RunReport> = {}): RunReport {
  return {
    tool: "sigmirror/0.1.0",
    verb: "replicate",
    startedAt: "2026-12-01T10:00:00.000Z",
    finishedAt: "2026-12-01T10:02:03.456Z",
    wallMs: 123_456,
    dryRun: false,
    groups: 100,
    withoutPrimary: 1,
    unsigned: 2,
    pairsChecked: 15,
    copied: 3,
    replaced: 0,
    alreadyThere: 12,
    conflicts: 0,
    failed: 0,
    notReached: 0,
    referrers: { checked: 0, copied: 0, there: 0 },
    repositories: 40,
    repositoriesLeft: 0,
    hosts: [host("us-central1-docker.pkg.dev", "primary"), host("europe-west1-docker.pkg.dev", "mirror"), host("asia-east1-docker.pkg.dev", "mirror")],
    failures: [],
    conflictList: [],
    replacedList: [],
    exitCode: 0,
    ...over,
  };
}

describe("renderJunit", () => {
  test("all well: one passing case per mirror and one for the primary's reads", () => {
    const file = save(renderJunit(report()));
    expect(xpath(file, "count(/testsuites/testsuite[@name='sigmirror']/testcase)")).toBe("3");
    expect(xpath(file, "string(/testsuites/testsuite/@tests)")).toBe("3");
    expect(xpath(file, "string(/testsuites/testsuite/@failures)")).toBe("0");
    expect(xpath(file, "count(//failure)")).toBe("0");
    expect(xpath(file, "string(//testcase[1]/@name)")).toBe("primary reads us-central1-docker.pkg.dev");
    expect(xpath(file, "string(//testcase[2]/@name)")).toBe("asia-east1-docker.pkg.dev");
    expect(xpath(file, "string(//testcase[3]/@name)")).toBe("europe-west1-docker.pkg.dev");
    expect(xpath(file, "string(//testcase[2]/@time)")).toBe("123.456");
    expect(xpath(file, "string(/testsuites/testsuite/@time)")).toBe("123.456");
    expect(xpath(file, "string(/testsuites/testsuite/@timestamp)")).toBe("2026-12-01T10:00:00.000Z");
    expect(xpath(file, "string(//property[@name='tool']/@value)")).toBe("sigmirror/0.1.0");
    expect(xpath(file, "string(//testcase[2]/system-out)")).toContain("copied 1, replaced 0, already there 4");
  });

  test("a mirror behind fails with its pairs listed, capped, and a count of the rest", () => {
    const failures = Array.from({ length: 60 }, (_, i) => problem("europe-west1-docker.pkg.dev", i));
    const conflictList = [problem("europe-west1-docker.pkg.dev", 99, "mirror holds a signature the primary lacks")];
    const xml = renderJunit(
      report({
        failed: 60,
        conflicts: 1,
        exitCode: 1,
        hosts: [
          host("us-central1-docker.pkg.dev", "primary"),
          host("europe-west1-docker.pkg.dev", "mirror", { failed: 60, conflicts: 1 }),
          host("asia-east1-docker.pkg.dev", "mirror"),
        ],
        failures,
        conflictList,
      }),
      { maxListed: 10 },
    );
    const file = save(xml);
    expect(xpath(file, "string(/testsuites/testsuite/@failures)")).toBe("1");
    expect(xpath(file, "count(//testcase[failure])")).toBe("1");
    expect(xpath(file, "string(//testcase[failure]/@name)")).toBe("europe-west1-docker.pkg.dev");
    expect(xpath(file, "string(//failure/@type)")).toBe("pairs-failed");
    expect(xpath(file, "string(//failure/@message)")).toBe("60 pairs failed, 1 conflict");
    const body = xpath(file, "string(//failure)").split("\n");
    expect(body).toHaveLength(11);
    expect(body[0]).toBe(`failed: images/app0:sha256-${"0".repeat(64)}.sig (sha256:${"a".repeat(64)}): PUT manifest: 500 Internal Server Error`);
    expect(body[10]).toBe("and 51 more");
  });

  test("counts from the host summary win when the lists were cut short by the engine", () => {
    const file = save(
      renderJunit(
        report({ hosts: [host("m.example", "mirror", { failed: 500 })], failures: [problem("m.example", 1)] }),
        { maxListed: 50 },
      ),
    );
    expect(xpath(file, "string(//failure/@message)")).toBe("500 pairs failed");
    expect(xpath(file, "string(//failure)")).toEndWith("\nand 499 more");
  });

  test("a given-up host and a failing primary read each fail their own case", () => {
    const file = save(
      renderJunit(
        report({
          hosts: [
            host("us-central1-docker.pkg.dev", "primary", { failed: 1 }),
            host("europe-west1-docker.pkg.dev", "mirror", { givenUp: "connection refused (5 times)" }),
          ],
          failures: [problem("us-central1-docker.pkg.dev", 1, "GET manifest: 503")],
        }),
      ),
    );
    expect(xpath(file, "count(//testcase[failure])")).toBe("2");
    expect(xpath(file, "string(//testcase[@name='primary reads us-central1-docker.pkg.dev']/failure)")).toContain("GET manifest: 503");
    expect(xpath(file, "string(//testcase[@name='europe-west1-docker.pkg.dev']/failure/@type)")).toBe("host-given-up");
    expect(xpath(file, "string(//testcase[@name='europe-west1-docker.pkg.dev']/failure/@message)")).toBe(
      "host given up: connection refused (5 times)",
    );
  });

  test("a problem on a host missing from the summaries still gets a case", () => {
    const file = save(renderJunit(report({ hosts: [], conflictList: [problem("lost.example", 1, "conflict")] })));
    expect(xpath(file, "string(//testcase/@name)")).toBe("lost.example");
    expect(xpath(file, "string(//failure/@type)")).toBe("conflicts");
  });

  test("an interrupted run says so in a case of its own", () => {
    const file = save(renderJunit(report({ interrupted: "SIGTERM", exitCode: 143 })));
    expect(xpath(file, "string(//testcase[@name='run completed']/failure/@message)")).toBe("interrupted by SIGTERM");
    expect(xpath(file, "string(//property[@name='interrupted']/@value)")).toBe("SIGTERM");
  });

  test("weird characters are escaped or dropped, and the file stays valid XML", () => {
    const weird = `<&>"' tab\there\nnewline \u0000nul \u0001\u001b[31m \uD800lone \uFFFE emoji \u{1F600} ]]> end`;
    const file = save(
      renderJunit(
        report({
          hosts: [host(`odd"<host>&'`, "mirror", { failed: 1 })],
          failures: [{ host: `odd"<host>&'`, repository: "r<&>", tag: "t]]>", reason: weird }],
        }),
      ),
    );
    expect(xpath(file, "string(//testcase/@name)")).toBe(`odd"<host>&'`);
    const text = xpath(file, "string(//failure)");
    expect(text).toBe(`failed: r<&>:t]]>: <&>"' tab\there\nnewline nul [31m lone  emoji \u{1F600} ]]> end`);
  });

  test("attribute values keep tabs and newlines", () => {
    const file = save(renderJunit(report({ hosts: [host("m", "mirror", { givenUp: "a\tb\nc" })] })));
    expect(xpath(file, "string(//failure/@message)")).toBe("host given up: a\tb\nc");
  });

  test("no credential reaches the file", () => {
    const secret = "ya29.c2VjcmV0LWFjY2Vzcy10b2tlbg";
    const xml = renderJunit(
      report({
        hosts: [host("m", "mirror", { failed: 1, givenUp: `401 Authorization: Bearer ${secret}` })],
        failures: [{ host: "m", repository: "r", tag: "t", reason: `token endpoint said {"token":"${secret}"} at https://a/t?access_token=${secret}` }],
      }),
    );
    expect(xml).not.toContain(secret);
    expect(xml).not.toContain("c2VjcmV0");
    xpath(save(xml), "count(//testcase)");
  });
});

describe("escaping helpers", () => {
  test("text and attribute escaping", () => {
    expect(escapeText("a<b>&c")).toBe("a&lt;b&gt;&amp;c");
    expect(escapeAttribute(`"'\t\n\r`)).toBe("&quot;&apos;&#9;&#10;&#13;");
    expect(escapeText("\u0000\u0008\u000b\u000c\uFFFF")).toBe("");
  });
});

describe("junitPath", () => {
  test("--junit FILE wins, else $ARTIFACTS/junit_sigmirror.xml, else none", () => {
    expect(junitPath({ ARTIFACTS: "/logs/artifacts" }, "out.xml")).toBe("out.xml");
    expect(junitPath({ ARTIFACTS: "/logs/artifacts" })).toBe("/logs/artifacts/junit_sigmirror.xml");
    expect(junitPath({ ARTIFACTS: "" })).toBeUndefined();
    expect(junitPath({})).toBeUndefined();
  });
});

test("writeJunit creates the directory and leaves no temporary file", () => {
  const path = join(dir, "artifacts", "deep", "junit_sigmirror.xml");
  writeJunit(path, report());
  expect(readFileSync(path, "utf8")).toStartWith('<?xml version="1.0" encoding="UTF-8"?>');
  expect(execFileSync("ls", [join(dir, "artifacts", "deep")], { encoding: "utf8" }).trim()).toBe("junit_sigmirror.xml");
});

test("writeJunit that cannot rename (the path is a directory) throws and leaves no temporary file", () => {
  const parent = join(dir, "rename-fails");
  mkdirSync(join(parent, "junit.xml"), { recursive: true });
  expect(() => writeJunit(join(parent, "junit.xml"), report())).toThrow();
  expect(readdirSync(parent)).toEqual(["junit.xml"]);
});
