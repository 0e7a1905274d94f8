// Bun's fetch honours HTTP(S)_PROXY, and NO_PROXY cannot name 127.0.0.0/8: a proxy set in the
// environment would swallow every loopback request of the test process. Importing the harness
// removes them from this process (Bun reads them per request); children get cleanEnv().
for (const key of Object.keys(process.env)) {
  if (/^(https?|all|no)_proxy$/i.test(key)) delete process.env[key];
}
export {};
