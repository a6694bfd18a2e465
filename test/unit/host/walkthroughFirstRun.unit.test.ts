import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { shouldOpenOnFirstRun } from "../../../src/host/walkthrough/firstRun";

const ROOT = path.resolve(__dirname, "../../../..");

describe("Get Started walkthrough", () => {
  it("opens on the first activation only, and not when walkthroughs are off or under tests", () => {
    assert.equal(shouldOpenOnFirstRun({ alreadyShown: false, openOnInstall: true, testMode: false }), true);
    assert.equal(shouldOpenOnFirstRun({ alreadyShown: true, openOnInstall: true, testMode: false }), false);
    assert.equal(shouldOpenOnFirstRun({ alreadyShown: false, openOnInstall: false, testMode: false }), false);
    assert.equal(shouldOpenOnFirstRun({ alreadyShown: false, openOnInstall: true, testMode: true }), false);
  });

  it("every step has an existing SVG from media/, alt text and completion events on contributed commands or views", () => {
    // Strings live in package.nls.json ("%key%" in package.json), as VS Code resolves them.
    const nls = JSON.parse(fs.readFileSync(path.join(ROOT, "package.nls.json"), "utf8")) as Record<string, string>;
    const text = fs.readFileSync(path.join(ROOT, "package.json"), "utf8").replace(/"%([\w.-]+)%"/g, (_m, key: string) => {
      assert.ok(key in nls, `package.nls.json has ${key}`);
      return JSON.stringify(nls[key]);
    });
    const pkg = JSON.parse(text) as {
      contributes: { commands: { command: string }[]; views: Record<string, { id: string }[]>; walkthroughs: { id: string; steps: { id: string; media: { image: string; altText: string }; completionEvents: string[]; description: string }[] }[] };
    };
    const [walkthrough] = pkg.contributes.walkthroughs;
    assert.equal(walkthrough.id, "ggufStudio.getStarted");
    assert.deepEqual(walkthrough.steps.map((s) => s.id), ["nativeTools", "findModels", "inspect", "quantize", "recipe", "kld", "templateLint"]);
    const commands = new Set(pkg.contributes.commands.map((c) => c.command));
    const views = new Set(Object.values(pkg.contributes.views).flat().map((v) => v.id));
    for (const step of walkthrough.steps) {
      assert.match(step.media.image, /^media\/walkthrough\/[a-z-]+\.svg$/);
      const svg = fs.readFileSync(path.join(ROOT, step.media.image), "utf8");
      assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]* role="img" aria-label="[^"]+">/);
      assert.ok(step.media.altText.length > 10);
      assert.ok(step.completionEvents.length > 0);
      for (const e of step.completionEvents) {
        const [kind, target] = [e.slice(0, e.indexOf(":")), e.slice(e.indexOf(":") + 1)];
        if (kind === "onCommand") assert.ok(commands.has(target), e);
        else if (kind === "onView") assert.ok(views.has(target), e);
        else assert.ok(kind === "onContext" || kind === "onSettingChanged", e);
      }
      for (const [, command] of step.description.matchAll(/\(command:([\w.]+)/g)) {
        assert.ok(commands.has(command) || command.startsWith("workbench.") || command === "ggufStudio.models.focus", command);
      }
    }
  });
});
