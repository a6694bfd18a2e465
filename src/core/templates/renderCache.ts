// Outcomes of finished renders, keyed by (engine, template, contexts). A re-lint of unchanged
// text (reopen, settings change, undo) and the lint that follows applying a verified fix (the
// verification already rendered exactly that text) are then answered without a render.
// Only deterministic outcomes are kept: timeouts, memory kills, crashes and cancellations depend
// on load and timing, so they are always rendered again.
import { createHash } from "node:crypto";
import type { EngineId, RenderContext, RenderOutcome } from "./types";

/** Outputs larger than this (characters, whole batch) are not worth holding. */
const MAX_CACHED_BATCH_CHARS = 256 * 1024;

function cacheable(outcomes: readonly RenderOutcome[]): boolean {
  let chars = 0;
  for (const r of outcomes) {
    if (!r.ok && r.stage !== "parse" && r.stage !== "render") return false;
    chars += r.ok ? r.output.length : r.error.length;
  }
  return chars <= MAX_CACHED_BATCH_CHARS;
}

/** A small LRU of render outcomes. */
export class RenderCache {
  private readonly entries = new Map<string, readonly RenderOutcome[]>();
  private hitCount = 0;

  constructor(private readonly capacity: number) {}

  /** Renders answered from the cache so far (benchmarks, tests). */
  get hits(): number {
    return this.hitCount;
  }

  key(engine: EngineId, template: string, contexts: readonly RenderContext[]): string {
    return createHash("sha256").update(engine).update("\0").update(template).update("\0").update(JSON.stringify(contexts)).digest("hex");
  }

  get(key: string): RenderOutcome[] | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key); // re-insert: most recently used last
    this.entries.set(key, hit);
    this.hitCount++;
    return [...hit];
  }

  remember(key: string, outcomes: readonly RenderOutcome[]): void {
    if (this.capacity <= 0 || !cacheable(outcomes)) return;
    this.entries.delete(key);
    this.entries.set(key, [...outcomes]);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
