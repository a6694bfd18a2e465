// The "## Inspector" section of BENCHMARKS.md from a bench:inspector run (see inspector.mjs).
import os from "node:os";

/** Issue 17's targets, medians in ms. */
export const TARGETS = { open60k: 500, openFixture: 200, vocabSearch: 200 };

const median = (xs) => {
  const v = xs.filter((x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : undefined;
};
const ms = (n) => (n === undefined || Number.isNaN(n) ? "–" : `${n.toFixed(n < 10 ? 1 : 0)}`);

/** Stage durations of one open, from the stage end times (ms after the open began). */
function durations(s) {
  const d = (a, b) => (a === undefined || b === undefined ? undefined : a - b);
  return {
    "webview creation": s.webviewCreated,
    "bundle load (HTML + script fetched)": d(s.scriptLoaded, s.webviewCreated),
    "bundle start: compile": d(s.bundleStart, s.scriptLoaded),
    "bundle start: modules + toolkit + ready": d(s.readyPosted, s.bundleStart) ?? d(s.readyPosted, s.scriptLoaded),
    "host: preview read (metadata + first rows)": s.previewRead,
    "host: header parse": d(s.headerParsed, s.previewRead ?? 0),
    "host: summary": d(s.summarized, s.headerParsed),
    "first message round trip (ready → first message in webview)": d(s.firstMessage, s.readyPosted),
    "first render (message → DOM built)": d(s.firstRendered, s.firstMessage),
    "first frame (DOM built → frame with rows)": d(s.firstFrame, s.firstRendered),
    "**open → first table frame**": s.firstFrame,
    "all rows in the table": s.allRows,
  };
}

export function inspectorSection({ results, variants, runs, bundleBytes, commit, chromium, loadAtStart, loadAtEnd }) {
  const [current, ...anchors] = variants;
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const lines = [
    "## Inspector",
    "",
    `Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; Node ${process.version}; Chromium ${chromium} (headless).`,
    `Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC. Commit: ${commit}. Command: \`npm run bench:inspector\` (${runs} opens per input and code path, in rotating order; medians).`,
    `Load average (1/5/15 min) at the start: ${loadAtStart}; at the end: ${loadAtEnd}; per input below. The machine is shared by other agents: absolute figures scale with the load, the comparison between code paths (same run, same load) much less.`,
    "",
    "How: the built webview bundle runs in plain headless Chromium (not VS Code); a stub `acquireVsCodeApi` forwards its messages to",
    "the bench process, which answers with the host's own code as `GgufDocument` + `InspectorSession` do, in the same event loop that",
    "serves the page's resources (as the extension host is busy while it parses). *Open* starts where `openCustomDocument` starts",
    "the read; *webview creation* is a new browser context and page (VS Code's own webview start-up is not measured).",
    anchors.length ? `Anchors: ${anchors.map((a) => a.sha).join(", ")}: those commits' inspectors (webview bundle and host code), built from \`git archive\` by the bench, same inputs, same run. Their webviews have no stage marks, so some of their stages show as –.` : "",
    `Webview bundle (\`dist/webview/inspector.js\`, development build as \`node esbuild.mjs\` makes it): ${(bundleBytes / 1024).toFixed(0)} KiB.`,
    "",
  ];
  for (const r of results) {
    const per = variants.map((v) => r.runs[v.name].map(durations));
    lines.push(`### ${r.label} (load ${r.loadBefore} → ${r.loadAfter})`, "");
    lines.push(`| Stage (ms, median of ${runs}) | ${variants.map((v) => v.name).join(" | ")} |`, `| --- |${variants.map(() => " ---: |").join("")}`);
    for (const k of Object.keys(per[0][0])) lines.push(`| ${k} | ${per.map((d) => ms(median(d.map((x) => x[k])))).join(" | ")} |`);
    const open = (v) => median(r.runs[v.name].map((s) => s.firstFrame));
    lines.push(
      "",
      `Open → first table frame: ${ms(open(current))} ms (min ${ms(Math.min(...r.runs[current.name].map((s) => s.firstFrame)))})` +
        anchors.map((a) => `; ${a.name}: ${ms(open(a))} ms, so this tree takes ${(open(current) / open(a)).toFixed(2)}× its time`).join("") +
        `. Target < ${r.target} ms: ${open(current) < r.target ? "met" : "NOT met"} at this load.`,
    );
    if (r.search) {
      const s = r.search[current.name];
      lines.push(
        `First vocabulary search (\`tok_12345\` over 250,000 strings, host side, decodes them): ${ms(s.first)} ms` +
          anchors.map((a) => ` (${a.name}: ${ms(r.search[a.name].first)} ms)`).join("") +
          `; second search ${ms(s.second)} ms. Target < ${TARGETS.vocabSearch} ms: ${s.first < TARGETS.vocabSearch ? "met" : "NOT met"} at this load.`,
      );
    }
    lines.push("");
    if (r.filters.length) {
      lines.push("Filter, group and sort on the loaded 60,000-row table (target < 100 ms). *Sync* is the event handler; *to next frame* adds layout and paint.", "");
      lines.push("| Action | Rows shown | Sync | To next frame |", "| --- | ---: | ---: | ---: |");
      for (const f of r.filters) lines.push(`| ${f.label.replace(/\|/g, "\\|")} | ${f.rows.toLocaleString("en-US")} | ${ms(f.sync)} ms | ${ms(f.frame)} ms |`);
      lines.push("");
    }
  }
  return lines.filter((l, i, all) => !(l === "" && all[i - 1] === "")).join("\n");
}
