// Registry failures as one line: host, method, repository/reference, status, OCI code and message.
import { redact } from "../redact/redact.ts";
import type { HttpRequest, HttpResponse, Method, Subject } from "./types.ts";
import { hostOf } from "./types.ts";

export type RegistryErrorKind = "http" | "network" | "timeout" | "digest" | "auth" | "unavailable";

export interface RegistryErrorInit {
  readonly host: string;
  readonly method: Method | string;
  readonly repository?: string | undefined;
  readonly reference?: string | undefined;
  readonly status?: number | undefined;
  readonly code?: string | undefined;
  readonly kind: RegistryErrorKind;
  /** What went wrong, in words (the server's message for an HTTP error). */
  readonly detail: string;
  /** Whether trying the same request again may succeed (resets, timeouts). */
  readonly retryable?: boolean;
}

const maxLineLength = 400;

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > maxLineLength ? `${flat.slice(0, maxLineLength)}...` : flat;
}

/** `repo:tag` or `repo@sha256:...`; a bare repository or nothing. */
export function formatTarget(repository: string | undefined, reference: string | undefined): string {
  if (repository === undefined) return reference ?? "";
  if (reference === undefined) return repository;
  return reference.includes(":") ? `${repository}@${reference}` : `${repository}:${reference}`;
}

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  readonly host: string;
  readonly method: string;
  readonly repository: string | undefined;
  readonly reference: string | undefined;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly kind: RegistryErrorKind;
  readonly retryable: boolean;

  constructor(init: RegistryErrorInit) {
    const target = formatTarget(init.repository, init.reference);
    const status = init.status === undefined ? "" : `${init.status} `;
    const code = init.code === undefined ? "" : `${init.code}: `;
    const where = target === "" ? "" : ` ${target}`;
    super(oneLine(redact(`${init.host}: ${init.method}${where}: ${status}${code}${init.detail}`)));
    this.host = init.host;
    this.method = init.method;
    this.repository = init.repository;
    this.reference = init.reference;
    this.status = init.status;
    this.code = init.code;
    this.kind = init.kind;
    this.retryable = init.retryable ?? false;
  }
}

/**
 * True when the host itself is failing (unreachable, too slow, overloaded, or answering 5xx)
 * rather than refusing this one request: such failures say something about every request to
 * that host, so callers count them per host (to stop sending to a host that is down).
 */
export function isHostFailure(err: unknown): boolean {
  if (!(err instanceof RegistryError)) return false;
  if (err.kind === "network" || err.kind === "timeout" || err.kind === "unavailable") return true;
  return err.status !== undefined && err.status >= 500;
}

export interface OciError {
  readonly code: string;
  readonly message: string;
}

/** The first entry of an OCI `{"errors": [...]}` body, if the body is one. */
export function parseOciError(body: Uint8Array): OciError | undefined {
  if (body.length === 0 || body.length > 1 << 20) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || !("errors" in parsed)) return undefined;
  const errors = parsed.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const first: unknown = errors[0];
  if (typeof first !== "object" || first === null) return undefined;
  const code = "code" in first && typeof first.code === "string" ? first.code : "UNKNOWN";
  const message = "message" in first && typeof first.message === "string" ? first.message : "";
  return { code, message };
}

function bodySnippet(body: Uint8Array): string {
  const text = new TextDecoder().decode(body.subarray(0, 200));
  return /^[\s\S]*<html/i.test(text) ? "" : text;
}

const statusWords: Readonly<Record<number, string>> = {
  400: "bad request",
  401: "unauthorized",
  403: "forbidden",
  404: "not found",
  405: "method not allowed",
  409: "conflict",
  413: "payload too large",
  416: "range not satisfiable",
  429: "too many requests",
  500: "internal server error",
  502: "bad gateway",
  503: "service unavailable",
  504: "gateway timeout",
};

/** The kind an unexpected status stands for. */
export function kindOfStatus(status: number): RegistryErrorKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 429 || status === 503) return "unavailable";
  return "http";
}

/** An unexpected answer as a RegistryError; `what` adds why it was unexpected. */
export function errorFromResponse(req: HttpRequest, res: HttpResponse, what?: string): RegistryError {
  const oci = parseOciError(res.body);
  const fallback = statusWords[res.status] ?? "unexpected status";
  const snippet = oci === undefined ? bodySnippet(res.body) : "";
  const base = oci?.message || (snippet === "" ? fallback : `${fallback}: ${snippet}`);
  // What a TLS port answers to plain HTTP (a loopback host with no --registry-ca, say).
  const hint =
    res.status === 400 && oci === undefined && res.url.protocol === "http:"
      ? `sent as plain HTTP: if ${hostOf(res.url)} speaks HTTPS, give --registry-ca HOST=FILE or --insecure-registry https://HOST`
      : undefined;
  const why = [what, hint].filter((w): w is string => w !== undefined).join("; ");
  return new RegistryError({
    host: hostOf(res.url),
    method: req.method,
    repository: req.subject?.repository,
    reference: req.subject?.reference,
    status: res.status,
    code: oci?.code,
    kind: kindOfStatus(res.status),
    detail: why === "" ? base : `${base} (${why})`,
  });
}

/** A failure with no HTTP answer (or one whose content is wrong). */
export function requestError(
  req: { readonly method: string; readonly url: URL; readonly subject?: Subject | undefined },
  kind: RegistryErrorKind,
  detail: string,
  extra: { retryable?: boolean; status?: number; code?: string } = {},
): RegistryError {
  return new RegistryError({
    host: hostOf(req.url),
    method: req.method,
    repository: req.subject?.repository,
    reference: req.subject?.reference,
    kind,
    detail,
    ...extra,
  });
}

/** The message of anything thrown, for wrapping. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
