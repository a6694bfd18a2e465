// Whether to open the Get Started walkthrough on this activation (no vscode import: unit-tested).

export interface FirstRunFacts {
  /** The walkthrough was opened for this user before (globalState). */
  readonly alreadyShown: boolean;
  /** workbench.welcomePage.walkthroughs.openOnInstall, and the startup editor is not turned off. */
  readonly openOnInstall: boolean;
  /** Under a test runner the walkthrough would cover every screenshot. */
  readonly testMode: boolean;
}

/** Once per user, after install; never again, and not when the user turned walkthroughs off. */
export function shouldOpenOnFirstRun(f: FirstRunFacts): boolean {
  return !f.alreadyShown && f.openOnInstall && !f.testMode;
}
