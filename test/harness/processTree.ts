// The processes below a pid, found by parentage (not by process group: a terminal's shell or a
// detached helper leaves the group but keeps its parent). Used to stop code-server completely and
// by the `npm start` test to prove that nothing is left behind.
import { spawnSync } from "node:child_process";
import fs from "node:fs";

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Start time (clock ticks since boot on Linux): tells a live process from a reused pid. */
  readonly started: string;
  readonly command: string;
}

function readLinuxProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue; // a zombie is already dead, only not yet reaped
      const command = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " ");
      out.push({ pid: Number(name), ppid: Number(fields[1]), started: fields[19], command });
    } catch {
      // It ended while we looked.
    }
  }
  return out;
}

function readPsProcesses(): ProcessInfo[] {
  const r = spawnSync("ps", ["-A", "-o", "pid=", "-o", "ppid=", "-o", "lstart=", "-o", "command="], { encoding: "utf8" });
  return (r.stdout ?? "").split("\n").flatMap((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(\w{3} \w{3}\s+\d+ [\d:]+ \d{4})\s+(.*)$/.exec(line);
    return m ? [{ pid: Number(m[1]), ppid: Number(m[2]), started: m[3], command: m[4] }] : [];
  });
}

/** Every live process on the machine (this user's view). */
export function listProcesses(): ProcessInfo[] {
  return process.platform === "linux" ? readLinuxProcesses() : readPsProcesses();
}

/** The live processes below `root` (not `root` itself), children before grandchildren. */
export function descendants(root: number, all: readonly ProcessInfo[] = listProcesses()): ProcessInfo[] {
  const byParent = new Map<number, ProcessInfo[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcessInfo[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of byParent.get(queue.shift() as number) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

export function descendantPids(root: number): number[] {
  return descendants(root).map((p) => p.pid);
}

/** Those of `seen` that still run (same pid AND same start time, so a reused pid does not count). */
export function stillRunning(seen: readonly ProcessInfo[], all: readonly ProcessInfo[] = listProcesses()): ProcessInfo[] {
  const live = new Map(all.map((p) => [p.pid, p.started]));
  return seen.filter((p) => live.get(p.pid) === p.started);
}
