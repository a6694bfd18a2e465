// Template engines run isolated from the folder being linted: nothing in the working folder or
// in PYTHON*/NODE_OPTIONS/relative PATH entries can put code into the jinja2 probe or any engine.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { childProcessEnv, resolveExecutable } from "../../../src/core/native/childEnv";
import { EngineSet } from "../../../src/core/templates/index";
import { studioRoot } from "./helpers";

const CHAT = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
const CONTEXT = { messages: [{ role: "user", content: "hi" }], add_generation_prompt: true };

/** A folder full of traps: modules Python would import from the cwd, a fake python3, a NODE_OPTIONS preload. */
function hostileFolder(): { dir: string; markers: () => string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-hostile-"));
  const markerDir = path.join(dir, "ran");
  fs.mkdirSync(markerDir);
  const mark = (name: string) => path.join(markerDir, name);
  for (const mod of ["json", "sitecustomize", "usercustomize", "traceback", "datetime", "resource"]) {
    fs.writeFileSync(path.join(dir, `${mod}.py`), `open(${JSON.stringify(mark(mod))}, "w").write("ran")\n`);
  }
  fs.writeFileSync(path.join(dir, "python3"), `#!/bin/sh\necho ran > ${JSON.stringify(mark("fake-python3"))}\nexec /usr/bin/env -i false\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "evil.js"), `require("fs").writeFileSync(${JSON.stringify(mark("node-options"))}, "ran");\n`);
  fs.writeFileSync(path.join(dir, "chat.jinja"), CHAT);
  return { dir, markers: () => fs.readdirSync(markerDir) };
}

const jinja2Installed = (): boolean => {
  const python = resolveExecutable("python3");
  return !!python && spawnSync(python, ["-I", "-c", "import jinja2"], { cwd: os.tmpdir(), env: childProcessEnv() }).status === 0;
};

describe("template engine isolation", () => {
  const made: string[] = [];
  after(() => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

  it("`template lint` in a folder with a json.py never executes it (probe or engines), nor a fake python3 on a relative PATH", function () {
    this.timeout(90_000);
    const cli = path.join(studioRoot(), "dist", "cli.js");
    const { dir, markers } = hostileFolder();
    made.push(dir);
    const env = { ...process.env, PATH: `.${path.delimiter}${process.env.PATH ?? ""}`, PYTHONPATH: dir, PYTHONSTARTUP: path.join(dir, "json.py"), PYTHONSAFEPATH: "" };
    const r = spawnSync(process.execPath, [cli, "template", "lint", "chat.jinja", "--target", "jinja2", "--target", "hf-jinja", "--target", "minja", "--target", "llama.cpp"], { cwd: dir, env, encoding: "utf8" });
    assert.deepEqual(markers(), [], `code from the working folder ran: ${markers().join(", ")}\n${r.stderr}`);
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    if (jinja2Installed()) assert.match(r.stdout, /targets: .*jinja2/, "jinja2 still runs (isolated), it is not just skipped");
  });

  it("engines get no NODE_OPTIONS, PYTHON* or relative PATH entries, and do not run in the caller's folder", async function () {
    this.timeout(90_000);
    const { dir, markers } = hostileFolder();
    made.push(dir);
    const saved = { cwd: process.cwd(), env: { NODE_OPTIONS: process.env.NODE_OPTIONS, PYTHONPATH: process.env.PYTHONPATH, PATH: process.env.PATH } };
    const engines = new EngineSet({ root: studioRoot(), cacheEntries: 0 });
    try {
      process.chdir(dir);
      process.env.NODE_OPTIONS = `--require ./evil.js`;
      process.env.PYTHONPATH = dir;
      process.env.PATH = `.${path.delimiter}${saved.env.PATH ?? ""}`;
      for (const engine of ["hf-jinja", "llama.cpp", "minja", "jinja2"] as const) {
        if (!engines.isAvailable(engine)) continue;
        const [outcome] = await engines.render(engine, CHAT, [CONTEXT]);
        assert.ok(outcome.ok, `${engine}: ${outcome.ok ? "" : outcome.error}`);
      }
    } finally {
      engines.dispose();
      process.chdir(saved.cwd);
      for (const [k, v] of Object.entries(saved.env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    assert.deepEqual(markers(), []);
  });

  it("childProcessEnv drops injection variables and relative PATH entries, keeps the rest", () => {
    const env = childProcessEnv({ PATH: `.${path.delimiter}${path.delimiter}/usr/bin${path.delimiter}bin${path.delimiter}/bin`, NODE_OPTIONS: "--require x", PYTHONPATH: "/x", PYTHONHOME: "/y", HOME: "/home/u", LANG: "C" }, { ELECTRON_RUN_AS_NODE: "1" });
    assert.deepEqual(env, { PATH: `/usr/bin${path.delimiter}/bin`, HOME: "/home/u", LANG: "C", ELECTRON_RUN_AS_NODE: "1" });
  });
});
