// Entry point of the integration tier: for each suite, starts code-server + headless Chromium + the
// driver API, lets the extension host run the mocha suite, and collects its totals.
//
//   node out/test/harness/runIntegration.js [--suite integration|untrusted|vsix]... [--vsix file.vsix]
//        [--results file.json] [--grep pattern] [--keep] [--verbose]
//
// Default suites: "integration" (trusted workspace) and, when any *.untrusted.test.js exists,
// "untrusted" (the same fixtures in a workspace the user declined to trust).
import fs from "node:fs";
import path from "node:path";
import { openWorkbench, type Workbench } from "./browser";
import { installExtension, startCodeServer, type CodeServer } from "./codeServer";
import { startDriverServer, type DriverServer } from "./driverServer";
import { DRIVER_URL_ENV, GREP_ENV, SUITE_ENV, TRUST_MODE_ENV, type SuiteName, type SuiteReport, type TrustMode } from "./protocol";
import { logsDir, repoRoot, screenshotsDir, testsIndex, vsixProbeExtension } from "./paths";
import { makeFixtureWorkspace, makeStateDir, removeDir } from "./workspace";

interface Args {
  suites: SuiteName[];
  vsix?: string;
  results?: string;
  grep?: string;
  keep: boolean;
  verbose: boolean;
}

/** Wall-clock limits: a hung host must end as a failure, never hang CI. */
const SUITE_TIMEOUT_MS: Record<SuiteName, number> = { integration: 25 * 60_000, untrusted: 5 * 60_000, vsix: 5 * 60_000 };

function parseArgs(argv: string[]): Args {
  const args: Args = { suites: [], keep: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--suite") {
      const s = value();
      if (s !== "integration" && s !== "untrusted" && s !== "vsix") throw new Error(`unknown suite "${s}"`);
      args.suites.push(s);
    } else if (a === "--vsix") args.vsix = path.resolve(value());
    else if (a === "--results") args.results = path.resolve(value());
    else if (a === "--grep") args.grep = value();
    else if (a === "--keep") args.keep = true;
    else if (a === "--verbose") args.verbose = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (args.suites.length === 0) {
    args.suites.push("integration");
    if (hasTestFiles(/\.untrusted\.test\.js$/)) args.suites.push("untrusted");
    if (args.vsix) args.suites.push("vsix");
  }
  if (args.suites.includes("vsix") && !args.vsix) throw new Error("--suite vsix needs --vsix <file>");
  return args;
}

function hasTestFiles(pattern: RegExp): boolean {
  const walk = (dir: string): boolean =>
    fs.existsSync(dir) &&
    fs.readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : pattern.test(e.name)));
  return walk(path.join(repoRoot, "out", "test", "integration"));
}

/** Everything a session started, so an interrupt or timeout can end it. */
const live = new Set<() => Promise<void>>();

async function runSuite(suite: SuiteName, args: Args): Promise<SuiteReport> {
  const trust: TrustMode = suite === "untrusted" ? "untrusted" : "trusted";
  const stateDir = makeStateDir(suite);
  const logFile = path.join(logsDir, `${suite}-code-server.log`);
  const hostLog = fs.createWriteStream(path.join(logsDir, `${suite}-host.log`));
  const say = (line: string) => console.log(line);
  const onLog = (line: string) => (line.startsWith("[host") && !args.verbose ? hostLog.write(`${line}\n`) : say(line));
  let driver: DriverServer | undefined;
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;
  const cleanup = async () => {
    await workbench?.close();
    await server?.stop();
    await driver?.close();
  };
  live.add(cleanup);
  const started = Date.now();
  try {
    const workspace = makeFixtureWorkspace(stateDir);
    driver = await startDriverServer(onLog);
    let extensionsDir: string | undefined;
    if (suite === "vsix" && args.vsix) {
      extensionsDir = path.join(stateDir, "extensions");
      installExtension(args.vsix, extensionsDir, stateDir);
      say(`[driver] installed ${path.basename(args.vsix)} into a fresh extensions dir`);
    }
    const env: Record<string, string> = { [DRIVER_URL_ENV]: driver.url, [TRUST_MODE_ENV]: trust, [SUITE_ENV]: suite };
    if (args.grep) env[GREP_ENV] = args.grep;
    server = await startCodeServer({ stateDir, extensionsDir, trust, env, logFile });
    workbench = await openWorkbench({
      origin: server.origin,
      workspace,
      extensionDevelopmentPath: suite === "vsix" ? vsixProbeExtension : repoRoot,
      extensionTestsPath: testsIndex,
      onLog,
    });
    driver.attach(workbench.page);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), SUITE_TIMEOUT_MS[suite])));
    const outcome = await Promise.race([workbench.exitCode, timedOut]);
    clearTimeout(timer);
    const report = driver.reports.find((r) => r.suite === suite);
    if (outcome === "timeout") {
      fs.mkdirSync(screenshotsDir, { recursive: true });
      await workbench.page.screenshot({ path: path.join(screenshotsDir, `timeout-${suite}.png`) }).catch(() => undefined);
      const failures = [...(report?.failures ?? []), `suite "${suite}" did not finish within ${SUITE_TIMEOUT_MS[suite] / 60_000} min`];
      return { suite, passed: report?.passed ?? 0, failed: (report?.failed ?? 0) + 1, pending: report?.pending ?? 0, failures };
    }
    if (!report) {
      return { suite, passed: 0, failed: 1, pending: 0, failures: [`suite "${suite}" ended (exit ${outcome}) without reporting results; see ${logFile}`] };
    }
    if (outcome !== 0 && report.failed === 0) {
      return { ...report, failed: 1, failures: [`the extension host ended the "${suite}" run with exit code ${outcome}`] };
    }
    return report;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { suite, passed: 0, failed: 1, pending: 0, failures: [`suite "${suite}" could not run: ${message}`] };
  } finally {
    await cleanup();
    live.delete(cleanup);
    hostLog.end();
    if (!args.keep) removeDir(stateDir);
    else say(`[driver] kept ${stateDir}`);
    say(`[driver] suite ${suite} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(logsDir, { recursive: true });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void Promise.all([...live].map((c) => c())).finally(() => process.exit(130));
    });
  }
  const reports: SuiteReport[] = [];
  for (const suite of args.suites) {
    console.log(`\n[driver] suite ${suite}`);
    const report = await runSuite(suite, args);
    reports.push(report);
    for (const f of report.failures) console.log(`[driver] FAILED (${suite}): ${f}`);
  }
  const passed = reports.reduce((n, r) => n + r.passed, 0);
  const failed = reports.reduce((n, r) => n + r.failed, 0);
  if (args.results) {
    fs.mkdirSync(path.dirname(args.results), { recursive: true });
    fs.writeFileSync(args.results, JSON.stringify({ passed, failed, suites: reports }, null, 2));
  }
  console.log(`[driver] integration: ${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`runIntegration: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  },
);
