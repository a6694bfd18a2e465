// Request/reply over postMessage: each request carries an id the host echoes in its reply.
import type { ToInspector } from "../../src/shared/inspectorProtocol";
import { post } from "./state";

type Reply = Extract<ToInspector, { requestId: number }>;
type ArrayPage = Extract<ToInspector, { type: "arrayPage" }>;

let nextId = 1;
const waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

function send(build: (requestId: number) => Parameters<typeof post>[0]): Promise<Reply> {
  const requestId = nextId++;
  return new Promise<Reply>((resolve, reject) => {
    waiting.set(requestId, { resolve, reject });
    post(build(requestId));
  });
}

/** Routes a reply to its request; returns false for messages that are not replies. */
export function settleReply(message: ToInspector): boolean {
  if (!("requestId" in message)) return false;
  const w = waiting.get(message.requestId);
  if (!w) return true;
  waiting.delete(message.requestId);
  if (message.type === "requestFailed") w.reject(new Error(message.message));
  else w.resolve(message);
  return true;
}

export async function requestArrayPage(key: string, offset: number, count: number, query: string): Promise<ArrayPage> {
  const r = await send((requestId) => ({ type: "requestArrayPage", requestId, key, offset, count, query }));
  if (r.type !== "arrayPage") throw new Error(`unexpected reply ${r.type}`);
  return r;
}
