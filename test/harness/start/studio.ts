// `npm start`'s engine (scripts/start.mjs parses the command line, builds, and calls this): the
// code-server that setup installed, with throw-away user data, the freshly built extension as the
// development extension, and the sample workspace (or the user's folder), behind the launch page.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { isLoopback, startCodeServer, type CodeServer } from "../codeServer";
import { repoRoot } from "../paths";
import { makeStateDir, removeDir } from "../workspace";
import { startLaunchPage, type LaunchPage } from "./launchPage";
import { ensureSampleWorkspace, studioDir } from "./sampleWorkspace";

export interface StudioOptions {
  /** The user's folder; the sample workspace when absent. */
  folder?: string;
  host: string;
  port?: number;
  say(line: string): void;
}

export interface Studio {
  /** The link to open (the launch page on code-server's origin). */
  url: string;
  folder: string;
  /** Whether the folder was pre-trusted (the sample workspace only). */
  trusted: boolean;
  /** The password code-server generated (only when bound to a non-loopback interface). */
  password?: string;
  codeServerPid: number;
  /** Settles when code-server ends (after stop(), or on its own: a crash). */
  exited: Promise<void>;
  logFile: string;
  stop(): Promise<void>;
}

/** A bad command line: reported as such, and nothing was started. */
export class StudioUsageError extends Error {}

export function checkFolder(folder: string): string {
  const abs = path.resolve(folder);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new StudioUsageError(`--folder ${folder}: no such folder (${abs})`);
  }
  if (!stat.isDirectory()) throw new StudioUsageError(`--folder ${folder}: not a folder (${abs})`);
  return abs;
}

/** A clear error for a taken --port, instead of code-server's early exit. */
function checkPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new StudioUsageError(`--port ${port}: already in use on ${host}`) : new StudioUsageError(`--port ${port} on ${host}: ${e.message}`)),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** The extension's globalStorage folder in code-server's user data ("publisher.name", lower case). */
function extensionStorage(userDataDir: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { publisher: string; name: string };
  return path.join(userDataDir, "User", "globalStorage", `${manifest.publisher}.${manifest.name}`.toLowerCase());
}

/** What a browser elsewhere should use for a server bound to all interfaces. */
function publicHost(host: string): string {
  if (host !== "0.0.0.0" && host !== "::") return host.includes(":") ? `[${host}]` : host;
  const address = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal);
  return address?.address ?? os.hostname();
}

export async function startStudio(o: StudioOptions): Promise<Studio> {
  const userFolder = o.folder !== undefined ? checkFolder(o.folder) : undefined;
  if (o.port !== undefined) await checkPortFree(o.host, o.port);
  const sample = userFolder ? undefined : await ensureSampleWorkspace(o.say);
  const folder = userFolder ?? (sample as { folder: string }).folder;
  const stateDir = makeStateDir("start");
  const logFile = path.join(studioDir, "code-server.log");
  let page: LaunchPage | undefined;
  let server: CodeServer | undefined;
  const stop = async () => {
    await server?.stop();
    await page?.close();
    removeDir(stateDir);
  };
  try {
    if (sample?.kldResults) {
      // Seed the chart: the extension reads KLD results from <globalStorage>/kld-results.
      fs.cpSync(sample.kldResults, path.join(extensionStorage(path.join(stateDir, "user-data")), "kld-results"), { recursive: true });
    }
    page = await startLaunchPage({ folder, extensionDevelopmentPath: repoRoot, trustFolder: !userFolder });
    server = await startCodeServer({
      stateDir,
      trust: "trusted",
      env: {},
      logFile,
      host: o.host,
      ...(o.port !== undefined ? { port: o.port } : {}),
      // A person is at the keyboard: the usual trust prompt and banner for a folder nobody trusted yet.
      settings: { "security.workspace.trust.startupPrompt": "once", "security.workspace.trust.banner": "untilDismissed" },
    });
    const url = isLoopback(o.host) ? `${server.origin}${page.path}` : `http://${publicHost(o.host)}:${server.port}${page.path}`;
    return {
      url, folder, trusted: !userFolder, codeServerPid: server.pid, exited: server.exited, logFile, stop,
      ...(server.password ? { password: server.password } : {}),
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
