// Starts code-server (the real VS Code 1.100 server build) with fresh, throw-away state, and stops it
// with its whole process group (extension host, file watcher, pty host) and anything else it started.
// The one place that starts code-server: the test harness and `npm start` (test/harness/start/) both use it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import type { TrustMode } from "./protocol";
import { requireCodeServer } from "./paths";
import { descendants, stillRunning, type ProcessInfo } from "./processTree";

export interface CodeServerOptions {
  /** Temp folder owned by this run: user data, extensions, XDG dirs go inside it. */
  stateDir: string;
  /** Extensions dir; defaults to a fresh one inside stateDir. */
  extensionsDir?: string;
  trust: TrustMode;
  /** Extra environment for the server and so for the extension host (e.g. the driver URL). */
  env: Record<string, string>;
  logFile: string;
  /** User settings laid over the quiet defaults (e.g. the usual trust prompts for `npm start`). */
  settings?: Record<string, unknown>;
  /** Interface to bind (default 127.0.0.1). Anything but loopback gets password auth. */
  host?: string;
  /** Port to bind (default: a free one). */
  port?: number;
}

export interface CodeServer {
  port: number;
  /** Where this machine reaches the server (loopback when bound to all interfaces). */
  origin: string;
  /** The password code-server generated, when it was bound to a non-loopback interface. */
  password?: string;
  /** The code-server process (its process group holds the extension host). */
  pid: number;
  /** Settles when the code-server process ends, for whatever reason. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** User settings that keep the workbench quiet and deterministic for screenshots. */
function userSettings(trust: TrustMode, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "workbench.startupEditor": "none",
    // The installed-VSIX suite runs GGUF Studio in production mode, where it opens its walkthrough once.
    "workbench.welcomePage.walkthroughs.openOnInstall": false,
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoUpdate": false,
    "extensions.autoCheckUpdates": false,
    "extensions.ignoreRecommendations": true,
    "git.enabled": false,
    "git.autoRepositoryDetection": false,
    // Trust stays enabled so restricted mode is real. The startup prompt is refused in test runs
    // anyway; the trusted suite grants trust through the Workspace Trust editor (see index.ts).
    "security.workspace.trust.enabled": true,
    "security.workspace.trust.startupPrompt": "never",
    "security.workspace.trust.banner": trust === "untrusted" ? "always" : "never",
    ...overrides,
  };
}

function quietQuit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function killPids(processes: readonly ProcessInfo[], signal: NodeJS.Signals): void {
  for (const { pid } of stillRunning(processes)) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** code-server writes a random password into its fresh config.yaml when auth is "password". */
function readGeneratedPassword(stateDir: string): string | undefined {
  try {
    const config = fs.readFileSync(path.join(stateDir, "xdg-config", "code-server", "config.yaml"), "utf8");
    return /^password:\s*(\S+)\s*$/m.exec(config)?.[1];
  } catch {
    return undefined;
  }
}

async function waitHealthy(origin: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer ${origin}/healthz within ${timeoutMs} ms`);
}

function serverEnv(stateDir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // Without these code-server writes ~/.config/code-server and ~/.local/share/code-server.
    XDG_CONFIG_HOME: path.join(stateDir, "xdg-config"),
    XDG_DATA_HOME: path.join(stateDir, "xdg-data"),
    XDG_CACHE_HOME: path.join(stateDir, "xdg-cache"),
    EXTENSIONS_GALLERY: '{"serviceUrl":""}',
    ...extra,
  };
}

/** `code-server --install-extension <vsix>` into `extensionsDir` (a separate, short-lived process). */
export function installExtension(vsix: string, extensionsDir: string, stateDir: string): string {
  const entry = requireCodeServer();
  const r = spawnSync(
    process.execPath,
    [entry, "--install-extension", vsix, "--extensions-dir", extensionsDir, "--user-data-dir", path.join(stateDir, "user-data")],
    { env: serverEnv(stateDir, {}), encoding: "utf8", timeout: 120_000 },
  );
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (r.error) throw new Error(`code-server --install-extension could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.status}):\n${output}`);
  return output;
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const entry = requireCodeServer();
  const userDataDir = path.join(options.stateDir, "user-data");
  const extensionsDir = options.extensionsDir ?? path.join(options.stateDir, "extensions");
  fs.mkdirSync(path.join(userDataDir, "User"), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(path.join(userDataDir, "User", "settings.json"), JSON.stringify(userSettings(options.trust, options.settings), null, 2));

  const host = options.host ?? "127.0.0.1";
  const loopback = isLoopback(host);
  const port = options.port ?? (await freePort(loopback ? host : "0.0.0.0"));
  const localHost = loopback ? host : "127.0.0.1";
  const origin = `http://${localHost.includes(":") ? `[${localHost}]` : localHost}:${port}`;
  const args = [
    entry,
    "--bind-addr", `${host.includes(":") ? `[${host}]` : host}:${port}`,
    "--auth", loopback ? "none" : "password",
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-getting-started-override",
    "--user-data-dir", userDataDir,
    "--extensions-dir", extensionsDir,
  ];
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.openSync(options.logFile, "w");
  // detached: its own process group, so stop() can end the extension host and helpers with it.
  const child = spawn(process.execPath, args, {
    env: serverEnv(options.stateDir, options.env),
    stdio: ["ignore", log, log],
    detached: true,
  });
  fs.closeSync(log);
  try {
    await waitHealthy(origin, child, 60_000);
  } catch (e) {
    killGroup(child, "SIGKILL");
    throw new Error(`${(e as Error).message}; see ${options.logFile}`);
  }

  let stopping: Promise<void> | undefined;
  return {
    port,
    origin,
    pid: child.pid as number,
    exited: quietQuit(child),
    ...(loopback ? {} : { password: readGeneratedPassword(options.stateDir) }),
    stop() {
      stopping ??= (async () => {
        // Children that left the group (a terminal's shell gets its own session) are found by parentage.
        const tree = child.pid === undefined ? [] : descendants(child.pid);
        killGroup(child, "SIGTERM");
        killPids(tree, "SIGTERM");
        const exited = await Promise.race([quietQuit(child).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
        // The group may hold processes that outlive the server itself (e.g. an extension host).
        killGroup(child, "SIGKILL");
        killPids(tree, "SIGKILL");
        if (!exited) await quietQuit(child);
      })();
      return stopping;
    },
  };
}
