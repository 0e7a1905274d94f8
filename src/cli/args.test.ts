import { describe, expect, test } from "bun:test";
import { parse, parseDuration, parseInteger, parsePositive, splitHostValue, durationOption, integerOption, durationExpected } from "./args.ts";
import { UsageError } from "./exit.ts";

describe("parseDuration", () => {
  test("accepts units and compounds", () => {
    expect(parseDuration("0s")).toBe(0);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("2d")).toBe(172_800_000);
  });
  test("rejects bare numbers, signs, junk and empty", () => {
    for (const bad of ["", "10", "-1s", "1x", "s", "1h 30m", "1.s", "1e3s"]) expect(parseDuration(bad)).toBeUndefined();
  });
  // 365d is the longest duration any flag takes: a typo of many digits must not be stored as 5e21 ms.
  const bounds: [string, number | undefined][] = [
    ["365d", 31_536_000_000],
    ["8760h", 31_536_000_000],
    ["364d23h59m59s999ms", 31_535_999_999],
    ["365d1ms", undefined],
    ["366d", undefined],
    ["8761h", undefined],
    ["99999999999999999999h", undefined],
    [`${"9".repeat(400)}s`, undefined],
  ];
  for (const [text, want] of bounds) {
    test(`${text.length > 24 ? `${text.slice(0, 20)}...` : text} is ${want === undefined ? "refused" : `${want} ms`}`, () => {
      expect(parseDuration(text)).toBe(want);
    });
  }
  const expectations: [string, string][] = [
    ["soon", "a duration such as 30m"],
    ["", "a duration such as 30m"],
    ["366d", "a duration of at most 365d"],
    ["99999999999999999999h", "a duration of at most 365d"],
  ];
  for (const [text, want] of expectations) {
    test(`durationExpected(${JSON.stringify(text)}) says ${want}`, () => expect(durationExpected(text, "30m")).toBe(want));
  }
});

describe("numbers and HOST=VALUE", () => {
  test("parseInteger enforces range and form", () => {
    expect(parseInteger("10", 0)).toBe(10);
    expect(parseInteger("0", 1)).toBeUndefined();
    expect(parseInteger("1.5", 0)).toBeUndefined();
    expect(parseInteger("300", 1, 256)).toBeUndefined();
  });
  test("parsePositive refuses zero and junk", () => {
    expect(parsePositive("0.5")).toBe(0.5);
    expect(parsePositive("0")).toBeUndefined();
    expect(parsePositive("fast")).toBeUndefined();
  });
  test("splitHostValue keeps the port and needs both halves", () => {
    expect(splitHostValue("127.0.0.2:5000=20")).toEqual({ host: "127.0.0.2:5000", value: "20" });
    expect(splitHostValue("=20")).toBeUndefined();
    expect(splitHostValue("host=")).toBeUndefined();
    expect(splitHostValue("host")).toBeUndefined();
  });
});

describe("option helpers name the flag", () => {
  const options = { every: { type: "string" as const, value: "D", help: "" }, n: { type: "string" as const, help: "" } };
  test("a bad duration", () => {
    const args = parse("replicate", ["--every", "soon"], options, false);
    expect(() => durationOption(args, "every", "1h")).toThrow(
      new UsageError('replicate: --every: expected a duration such as 30s, 15m, 2h or 1h30m (got "soon")'),
    );
    expect(durationOption(parse("replicate", [], options, false), "every", "1h")).toBe(3_600_000);
  });
  test("a duration over the bound", () => {
    const args = parse("replicate", ["--every", "99999999999999999999h"], options, false);
    expect(() => durationOption(args, "every", "1h")).toThrow(
      new UsageError('replicate: --every: expected a duration of at most 365d (got "99999999999999999999h")'),
    );
  });
  test("a bad number", () => {
    const args = parse("replicate", ["--n=-3"], options, false);
    expect(() => integerOption(args, "n", 1, 0)).toThrow(/--n: expected a whole number >= 0 \(got "-3"\)/);
  });
  test("repeatable flags collect in order", () => {
    const args = parse("x", ["--p", "a", "--p", "b"], { p: { type: "string", multiple: true, help: "" } }, false);
    expect(args.list("p")).toEqual(["a", "b"]);
  });
});
