// The Get Started walkthrough: opened once, on the first activation after install, and from the
// palette (GGUF Studio: Get Started with GGUF Studio). Steps tick off through their completion
// events in package.json (onCommand:, onView:, onContext:), which the workbench tracks itself.
import * as vscode from "vscode";
import type { Feature } from "../context";
import { shouldOpenOnFirstRun, type FirstRunFacts } from "./firstRun";

export const WALKTHROUGH_ID = "gguf-studio.gguf-studio#ggufStudio.getStarted";
/** globalState key: set once the walkthrough was opened for the user (never again after that). */
const SHOWN_KEY = "ggufStudio.walkthroughShown";

async function openWalkthrough(): Promise<void> {
  await vscode.commands.executeCommand("workbench.action.openWalkthrough", WALKTHROUGH_ID, false);
}

export const walkthroughFeature: Feature = {
  commands: {
    "ggufStudio.openWalkthrough": () => openWalkthrough(),
  },
  activate(ctx) {
    const state = ctx.extension.globalState;
    const workbench = vscode.workspace.getConfiguration("workbench");
    const facts: FirstRunFacts = {
      alreadyShown: state.get<boolean>(SHOWN_KEY) === true,
      // Users who turned walkthroughs or the startup welcome page off do not get ours either.
      openOnInstall: workbench.get<boolean>("welcomePage.walkthroughs.openOnInstall", true) && workbench.get<string>("startupEditor") !== "none",
      testMode: ctx.extension.extensionMode === vscode.ExtensionMode.Test,
    };
    if (!shouldOpenOnFirstRun(facts)) return;
    void state.update(SHOWN_KEY, true).then(() => openWalkthrough()).then(undefined, (e: unknown) => ctx.log.warn(vscode.l10n.t("Could not open the walkthrough: {0}", e instanceof Error ? e.message : String(e))));
  },
};
