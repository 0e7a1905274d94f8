import { describe, expect, test } from "bun:test";
import { redact, rememberSecret } from "./secrets.ts";

describe("redact", () => {
  test("scrubs remembered secrets wherever they appear", () => {
    rememberSecret("hunter2-secret");
    expect(redact("bad password hunter2-secret for bob")).toBe("bad password *** for bob");
  });
  test("scrubs Authorization values and token fields even when unknown", () => {
    expect(redact("sent Bearer eyJhbGciOi.abc.def then")).toBe("sent Bearer *** then");
    expect(redact("Basic dXNlcjpwYXNz")).toBe("Basic ***");
    expect(redact('{"token":"abcdef","expires_in":60}')).toBe('{"token":"***","expires_in":60}');
    expect(redact("refresh_token=xyz123&x=1")).toBe("refresh_token=***&x=1");
  });
  test("leaves short strings and ordinary text alone", () => {
    rememberSecret("ab");
    expect(redact("about the cab")).toBe("about the cab");
  });
});
