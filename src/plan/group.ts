import type { Problem } from "../manifest/problem.ts";

/**
 * One signed object and every host that must hold its signature.
 *
 * Key: (`repository`, `digest`). `repository` is the destination registry's path after the
 * host plus `/` plus the image name: registry `us-east1-docker.pkg.dev/k8s-artifacts-prod/images/charts`
 * and image `foo` give `k8s-artifacts-prod/images/charts/foo`, which is exactly the `<name>` of
 * `/v2/<name>/manifests/...` on every host of the group. All promotions of one digest into one
 * repository, from any number of manifests and onto any hosts, make one group. The legacy
 * `{us,eu,asia}.gcr.io/k8s-artifacts-prod/<p>` registries have another path, hence other groups.
 */
export interface Group {
  readonly repository: string;
  /** The image name as written in the (first, in input order) manifest that promotes it. */
  readonly image: string;
  readonly digest: string;
  /** Union over the manifests, sorted. */
  readonly tags: readonly string[];
  /** Destination hosts (port included, as written), sorted. */
  readonly hosts: readonly string[];
  /** The first `--primary` host this group contains; undefined: "without primary", never copied. */
  readonly primary: string | undefined;
  /** `hosts` minus `primary`, sorted: the hosts to copy to. Empty when there is no primary. */
  readonly mirrors: readonly string[];
}

export interface HostCounts {
  /** Groups this host must hold (its edges). */
  readonly groups: number;
  /** Groups it is the primary of. */
  readonly primary: number;
  /** Groups with a primary elsewhere: pairs to replicate into this host. */
  readonly mirror: number;
  /** Groups it holds that have no primary. */
  readonly withoutPrimary: number;
}

/** Groups without primary, counted by their host set (e.g. the legacy gcr.io triple). */
export interface HostSetCount {
  readonly hosts: readonly string[];
  readonly groups: number;
}

export interface Plan {
  /** Sorted by repository, then digest (code-unit order). */
  readonly groups: readonly Group[];
  /** From loading the manifests: entries skipped or de-duplicated. */
  readonly warnings: readonly Problem[];
  /** The `--primary` hosts, in order. */
  readonly primaries: readonly string[];
  /** Manifests read (thin projects and plain manifests). */
  readonly projects: number;
  /** Image entries over all manifests, duplicates within a file merged. */
  readonly images: number;
  /** Distinct repositories (paths after the host) over the groups. */
  readonly repositories: number;
  /** Distinct digests over the groups. */
  readonly digests: number;
  /** Every host holding some group, sorted. */
  readonly hosts: readonly string[];
  /** Group-host pairs. */
  readonly edges: number;
  /** Sum over groups of hosts minus one. */
  readonly mirrorPairs: number;
  readonly withoutPrimary: number;
  readonly perHost: ReadonlyMap<string, HostCounts>;
  /** Sorted by host set. */
  readonly withoutPrimaryByHosts: readonly HostSetCount[];
}
