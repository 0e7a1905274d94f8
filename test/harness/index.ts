// The real-registry test harness: everything other tests should import.
export * from "./net.ts";
export * from "./ca.ts";
export * from "./token-server.ts";
export * from "./access-log.ts";
export * from "./registry.ts";
export * from "./http.ts";
export * from "./images.ts";
export * from "./docker-config.ts";
export { onProcessExit } from "./cleanup.ts";
export { sharedTestCA } from "./shared-ca.ts";
export * from "./fault-proxy.ts";
