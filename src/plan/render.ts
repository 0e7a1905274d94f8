import type { Plan } from "./group.ts";

export type PlanFormat = "text" | "json" | "jsonl";
export const planFormats: readonly PlanFormat[] = ["text", "json", "jsonl"];

/** The counts of `--output json`: integers, snake_case, plus per-host figures. */
export function planSummary(plan: Plan): Record<string, unknown> {
  const perHost: Record<string, unknown> = {};
  for (const [host, c] of plan.perHost) {
    perHost[host] = { groups: c.groups, primary: c.primary, mirror: c.mirror, without_primary: c.withoutPrimary };
  }
  return {
    projects: plan.projects,
    images: plan.images,
    repositories: plan.repositories,
    digests: plan.digests,
    groups: plan.groups.length,
    edges: plan.edges,
    mirror_pairs: plan.mirrorPairs,
    without_primary: plan.withoutPrimary,
    hosts: plan.hosts.length,
    warnings: plan.warnings.length,
    primaries: plan.primaries,
    per_host: perHost,
    without_primary_by_hosts: plan.withoutPrimaryByHosts.map((s) => ({ hosts: s.hosts, groups: s.groups })),
  };
}

export function renderJson(plan: Plan): string {
  return `${JSON.stringify(planSummary(plan), null, 2)}\n`;
}

/** One line per group, in plan order, handed out in chunks so 46,000 lines are few writes. */
export function* renderJsonl(plan: Plan, chunkLines = 4096): Generator<string> {
  let lines: string[] = [];
  for (const g of plan.groups) {
    lines.push(
      JSON.stringify({
        repository: g.repository,
        image: g.image,
        digest: g.digest,
        tags: g.tags,
        hosts: g.hosts,
        primary: g.primary ?? null,
        mirrors: g.mirrors,
      }),
    );
    if (lines.length >= chunkLines) {
      yield `${lines.join("\n")}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join("\n")}\n`;
}

export function renderText(plan: Plan): string {
  const rows: [string, string][] = [
    ["projects", String(plan.projects)],
    ["images", String(plan.images)],
    ["repositories", String(plan.repositories)],
    ["digests", String(plan.digests)],
    ["groups", String(plan.groups.length)],
    ["hosts", String(plan.hosts.length)],
    ["edges", `${plan.edges} (group-host pairs)`],
    ["mirror pairs", `${plan.mirrorPairs} (sum over groups of hosts minus one)`],
    [
      "without primary",
      plan.primaries.length === 0 ? `${plan.withoutPrimary} (no --primary given)` : `${plan.withoutPrimary} (primary: ${plan.primaries.join(", ")})`,
    ],
    ["warnings", String(plan.warnings.length)],
  ];
  const out = rows.map(([k, v]) => `${k.padEnd(17)}${v}`);
  if (plan.hosts.length > 0) {
    const width = Math.max(4, ...plan.hosts.map((h) => h.length)) + 2;
    const columns = ["groups", "primary", "mirror", "without primary"];
    const cell = (values: readonly (string | number)[]) => values.map((v, i) => String(v).padStart(i === 3 ? 17 : 9)).join("");
    out.push("", `${"host".padEnd(width)}${cell(columns)}`);
    for (const [host, c] of plan.perHost) out.push(`${host.padEnd(width)}${cell([c.groups, c.primary, c.mirror, c.withoutPrimary])}`);
  }
  if (plan.withoutPrimaryByHosts.length > 0) {
    out.push("", "groups without primary, by host set:");
    for (const s of plan.withoutPrimaryByHosts) out.push(`${String(s.groups).padStart(8)}  ${s.hosts.join(" ")}`);
  }
  return `${out.join("\n")}\n`;
}
