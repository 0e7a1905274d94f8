// Replaced by build.ts through `define`; absent when run from source (bun or deno).
declare const SIGMIRROR_VERSION: string;
declare const SIGMIRROR_COMMIT: string;
declare const SIGMIRROR_BUILD_DATE: string;

export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
  readonly date: string;
}

export const buildInfo: BuildInfo = {
  version: typeof SIGMIRROR_VERSION === "string" ? SIGMIRROR_VERSION : "0.0.0-dev",
  commit: typeof SIGMIRROR_COMMIT === "string" ? SIGMIRROR_COMMIT : "unknown",
  date: typeof SIGMIRROR_BUILD_DATE === "string" ? SIGMIRROR_BUILD_DATE : "unknown",
};

export const userAgent = `sigmirror/${buildInfo.version}`;
