// Agents send JSON that only claims to follow the schema: each field is checked here, and a wrong
// one is refused with its name rather than failing somewhere deeper.
import { AgentToolRefusal } from "./agentToolEnv";

export type ToolInput = Readonly<Record<string, unknown>>;

export function asToolInput(value: unknown, allowed: readonly string[]): ToolInput {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new AgentToolRefusal("bad-input", "the input must be a JSON object");
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new AgentToolRefusal("bad-input", `unknown input field(s): ${unknown.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(", ")} (known: ${allowed.join(", ")})`);
  return value as ToolInput;
}

export function optionalString(input: ToolInput, key: string, maxLength = 4096): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new AgentToolRefusal("bad-input", `\`${key}\` must be a string`);
  if (v.length === 0) throw new AgentToolRefusal("bad-input", `\`${key}\` is empty`);
  if (v.length > maxLength) throw new AgentToolRefusal("bad-input", `\`${key}\` is longer than ${maxLength} characters`);
  return v;
}

export function requiredString(input: ToolInput, key: string, maxLength?: number): string {
  const v = optionalString(input, key, maxLength);
  if (v === undefined) throw new AgentToolRefusal("bad-input", `\`${key}\` is required`);
  return v;
}

export function optionalInteger(input: ToolInput, key: string, min: number, max: number, fallback: number): number {
  const v = input[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new AgentToolRefusal("bad-input", `\`${key}\` must be a whole number from ${min} to ${max}`);
  return v;
}

export function optionalBoolean(input: ToolInput, key: string): boolean {
  const v = input[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new AgentToolRefusal("bad-input", `\`${key}\` must be true or false`);
  return v;
}

export function optionalEnum<T extends string>(input: ToolInput, key: string, values: readonly T[], fallback: T): T {
  const v = input[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "string" || !values.includes(v as T)) throw new AgentToolRefusal("bad-input", `\`${key}\` must be one of ${values.join(", ")}`);
  return v as T;
}
