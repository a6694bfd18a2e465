// Marks along the inspector's open path (performance.mark, read by `npm run bench:inspector`).
// Imported first by main.ts, so "bundle-start" is taken before any other module of the bundle runs.
export const OPEN_MARKS = {
  bundleStart: "inspector:bundle-start",
  readyPosted: "inspector:ready-posted",
  firstMessage: "inspector:first-message",
  firstRendered: "inspector:first-rendered",
} as const;

export function markOnce(name: string): void {
  if (performance.getEntriesByName(name, "mark").length === 0) performance.mark(name);
}

markOnce(OPEN_MARKS.bundleStart);
