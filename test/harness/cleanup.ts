// Process-exit safety net: synchronous cleanups that run however the test process ends normally
// (a failing test, a forgotten stop()). Registries are also spawned with a parent-death signal,
// so even a SIGKILLed test runner leaves no registry behind.
const cleanups = new Set<() => void>();
let hooked = false;

export function onProcessExit(fn: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const f of [...cleanups]) {
        try {
          f();
        } catch {
          // best effort: the process is exiting
        }
      }
    });
  }
  cleanups.add(fn);
  return () => void cleanups.delete(fn);
}
