// A throw-away certificate authority (openssl CLI) for TLS registries on loopback addresses.
// Leaf certificates carry subjectAltName IP:<ip>: Go (the registry) and Bun reject certificates
// that name their host only in the CN.
import { join } from "node:path";
import { runTool } from "./tool.ts";

export interface IssuedCert {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestCA {
  /** PEM of the CA certificate: trust this (fetch `tls.ca`, SSL_CERT_FILE, skopeo --cert-dir). */
  readonly caFile: string;
  readonly dir: string;
  issue(ip: string): Promise<IssuedCert>;
}

const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

export async function createTestCA(dir: string): Promise<TestCA> {
  const caFile = join(dir, "ca.pem");
  const caKey = join(dir, "ca.key");
  await runTool([
    "openssl", "req", "-x509", ...ecKey, "-keyout", caKey, "-out", caFile, "-days", "2",
    "-subj", "/CN=sigmirror test CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  let serial = 0;
  return {
    caFile,
    dir,
    async issue(ip: string): Promise<IssuedCert> {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new Error(`TestCA.issue: not an IPv4 address: ${ip}`);
      const base = join(dir, `leaf-${ip}-${++serial}`);
      const certFile = `${base}.pem`;
      const keyFile = `${base}.key`;
      await runTool([
        "openssl", "req", "-x509", ...ecKey, "-keyout", keyFile, "-out", certFile, "-days", "2",
        "-CA", caFile, "-CAkey", caKey,
        "-subj", `/CN=${ip}`,
        "-addext", `subjectAltName=IP:${ip}`,
        "-addext", "basicConstraints=critical,CA:FALSE",
        "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
        "-addext", "extendedKeyUsage=serverAuth",
      ]);
      return { certFile, keyFile };
    },
  };
}
