// Template engine processes never outlive their parent: kill `gguf-studio template lint` with
// SIGKILL in the middle of a long render and every engine (the two Node engines, minja, jinja2)
// ends itself; Ctrl-C (SIGINT) ends the command and its engines promptly. Linux: reads /proc.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { studioRoot } from "./helpers";

// 10^9 loop iterations: minutes in every engine, with no output and no memory growth.
const LONG = "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}{{ messages[0].content }}{% if add_generation_prompt %}<|assistant|>{% endif %}";
const CLK_TCK = 100;

function childPids(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/** State letter and CPU seconds of a process, or undefined when it is gone. */
function procStat(pid: number): { state: string; cpuSeconds: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK };
  } catch {
    return undefined;
  }
}

const alive = (pid: number): boolean => { const s = procStat(pid); return s !== undefined && s.state !== "Z" && s.state !== "X"; };

async function poll<T>(probe: () => T | undefined, what: string, limitMs: number): Promise<T> {
  const until = Date.now() + limitMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("template engine lifetime", function () {
  this.timeout(120_000);
  let dir: string;
  const engines: number[] = [];
  const clis: ChildProcess[] = [];
  before(function () {
    if (process.platform !== "linux") this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-engines-"));
    fs.writeFileSync(path.join(dir, "long.jinja"), LONG);
  });
  after(() => {
    // Only processes this test started, by pid.
    for (const pid of engines) if (alive(pid)) process.kill(pid, "SIGKILL");
    for (const c of clis) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a lint of the long template on every engine; resolves when each engine has been rendering for a while. */
  async function startLongLint(): Promise<{ cli: ChildProcess; engines: number[] }> {
    const cli = spawn(process.execPath, [path.join(studioRoot(), "dist", "cli.js"), "template", "lint", "long.jinja", "--timeout", "600",
      "--target", "llama.cpp", "--target", "hf-jinja", "--target", "minja", "--target", "jinja2"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    clis.push(cli);
    let stderr = "";
    cli.stderr?.on("data", (c: Buffer) => { stderr += c.toString(); });
    cli.stdout?.resume();
    const pid = cli.pid;
    assert.ok(pid);
    // The two Node engines always exist after a build; minja and jinja2 when installed (the CLI says which are skipped).
    const skipped = () => ["minja", "jinja2"].filter((e) => new RegExp(`note: ${e}[^\\n]*skipped`).test(stderr)).length;
    const running = await poll(() => {
      const kids = childPids(pid).filter((k) => (procStat(k)?.cpuSeconds ?? 0) >= 1.5);
      return kids.length >= 4 - skipped() && kids.length >= 2 ? kids : undefined;
    }, `the engines to be rendering (stderr: ${stderr})`, 90_000);
    engines.push(...running);
    return { cli, engines: running };
  }

  it("every engine ends itself when the CLI is killed with SIGKILL mid-render", async () => {
    const { cli, engines: pids } = await startLongLint();
    const exited = new Promise((r) => cli.once("exit", r));
    cli.kill("SIGKILL");
    await exited;
    await poll(() => (pids.every((p) => !alive(p)) ? true : undefined), `engines ${pids.filter(alive).join(", ")} to end after their parent died`, 20_000);
  });

  it("Ctrl-C ends the command and its engines promptly instead of waiting for the render", async () => {
    const { cli, engines: pids } = await startLongLint();
    const exited = new Promise<number | null>((r) => cli.once("exit", (code) => r(code)));
    cli.kill("SIGINT");
    // The render limit is 600 s: ending at all within this bound means the renders were cancelled.
    const code = await Promise.race([exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 20_000))]);
    assert.notEqual(code, "hung", "the CLI kept waiting for the render after Ctrl-C");
    assert.notEqual(code, 0);
    await poll(() => (pids.every((p) => !alive(p)) ? true : undefined), `engines ${pids.filter(alive).join(", ")} to end after Ctrl-C`, 20_000);
  });
});
