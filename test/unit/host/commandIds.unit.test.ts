import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { COMMAND_IDS } from "../../../src/host/commandIds";

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../../package.json"), "utf8")) as {
  contributes: { commands: { command: string }[]; menus?: Record<string, { command: string }[]> };
};

describe("command ids", () => {
  it("match package.json contributes.commands exactly", () => {
    const contributed = pkg.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(contributed, [...COMMAND_IDS].sort());
  });
  it("every menu entry refers to a contributed command", () => {
    const ids = new Set<string>(COMMAND_IDS);
    for (const [menu, entries] of Object.entries(pkg.contributes.menus ?? {})) {
      for (const e of entries) assert.ok(ids.has(e.command), `${menu} refers to unknown command ${e.command}`);
    }
  });
});
