// Run-time checks for webview → host messages. A webview is a web page: whatever its own code
// does, a compromised or hostile page can post anything, so the host never trusts a cast. Each
// protocol file declares a MessageSchema for its FromWebview union; the mapped types make the
// compiler insist that the schema covers every message type and exactly its fields.

export type FieldCheck<T> = (value: unknown) => value is T;

type Fields<M> = { readonly [K in Exclude<keyof M, "type">]-?: FieldCheck<M[K]> };

/** One entry per message `type`, each listing a check for every other field. */
export type MessageSchema<M extends { readonly type: string }> = { readonly [T in M["type"]]: Fields<Extract<M, { readonly type: T }>> };

/** Strings up to `maxChars` (the default keeps a hostile page from handing the host gigabytes). */
export const isString = (maxChars = 4096): FieldCheck<string> => (v): v is string => typeof v === "string" && v.length <= maxChars;

/** Safe integers in [min, max]. */
export const isInteger = (min = 0, max = Number.MAX_SAFE_INTEGER): FieldCheck<number> => (v): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;

export const isOneOf = <T extends string>(...values: readonly T[]): FieldCheck<T> => (v): v is T => typeof v === "string" && (values as readonly string[]).includes(v);

export type ParsedMessage<M> = { readonly ok: true; readonly message: M } | { readonly ok: false; readonly reason: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** Accepts `raw` only if it is exactly one of the schema's messages: known type, every field valid, nothing extra. */
export function parseMessage<M extends { readonly type: string }>(schema: MessageSchema<M>, raw: unknown): ParsedMessage<M> {
  if (!isPlainObject(raw)) return { ok: false, reason: "not an object" };
  const type = raw.type;
  if (typeof type !== "string" || !Object.prototype.hasOwnProperty.call(schema, type)) {
    return { ok: false, reason: `unknown message type ${typeof type === "string" ? JSON.stringify(type.slice(0, 60)) : typeof type}` };
  }
  const fields = (schema as Record<string, Record<string, FieldCheck<unknown>>>)[type];
  for (const key of Object.keys(raw)) {
    if (key !== "type" && !Object.prototype.hasOwnProperty.call(fields, key)) return { ok: false, reason: `${type}: unexpected field ${JSON.stringify(key.slice(0, 60))}` };
  }
  for (const [key, check] of Object.entries(fields)) {
    if (!check(raw[key])) return { ok: false, reason: `${type}: invalid ${key}` };
  }
  return { ok: true, message: raw as unknown as M };
}

/**
 * The message if valid; otherwise undefined, after one warning in the log naming the panel and
 * why (never the payload, which can be large or hostile).
 */
export function acceptWebviewMessage<M extends { readonly type: string }>(schema: MessageSchema<M>, raw: unknown, panel: string, warn: (message: string) => void): M | undefined {
  const parsed = parseMessage(schema, raw);
  if (parsed.ok) return parsed.message;
  warn(`${panel}: ignored a webview message that does not match the protocol (${parsed.reason})`);
  return undefined;
}
