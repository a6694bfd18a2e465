// Answers the workbench's QuickPicks and InputBoxes with key presses, as a user would, and checks
// that each answer was taken: a slow CI browser can drop an Enter that comes before the filter
// has applied, which would otherwise leave a command waiting on its QuickPick until the test times out.
import { pressKeys, screenshot, typeText, waitForWorkbench, waitForWorkbenchGone, waitUntil, workbenchText } from "./driver";

export const QUICK_INPUT = ".quick-input-widget";
const TITLE = `${QUICK_INPUT} .quick-input-title`;

/** Waits for the QuickPick/InputBox titled `title` and returns the widget's text. */
export async function waitForStep(title: string, timeoutMs = 30_000): Promise<string> {
  await waitForWorkbench(TITLE, title, timeoutMs).catch(async (e: unknown) => {
    await screenshot(`missing-step-${title.replace(/[^A-Za-z0-9]+/g, "-")}`);
    throw e;
  });
  return waitForWorkbench(QUICK_INPUT, title, 5_000);
}

/** Waits until the QuickPick's filter leaves exactly one visible row containing `label`, and returns its text. */
export async function onlyRow(label: string): Promise<string> {
  // The "N Results" badge is not always rendered, so read the visible rows themselves.
  return waitUntil(async () => {
    const rows = await workbenchText(`${QUICK_INPUT} .monaco-list-row`);
    return rows.length === 1 && rows[0].includes(label) ? rows[0] : undefined;
  }, `the QuickPick filtered to "${label}"`, 10_000);
}

/** Presses Enter until the step titled `title` has gone (once more if the first Enter was dropped). */
async function accept(title: string): Promise<void> {
  await pressKeys("Enter");
  try {
    await waitForWorkbenchGone(TITLE, title, 5_000);
  } catch {
    await pressKeys("Enter");
    await waitForWorkbenchGone(TITLE, title, 20_000);
  }
}

/** Filters the QuickPick titled `title` with `filter`, waits until the active row contains `label`, and accepts it. */
export async function choose(title: string, filter: string, label = filter): Promise<string> {
  await waitForStep(title);
  await typeText(filter);
  const row = await waitUntil(async () => {
    const [active] = await workbenchText(`${QUICK_INPUT} .monaco-list-row.focused`);
    return active?.includes(label) ? active : undefined;
  }, `the QuickPick's active row to read "${label}"`, 10_000);
  await accept(title);
  return row;
}

/** Types `value` into the InputBox titled `title` (replacing what it holds when `replace`) and accepts it. */
export async function enter(title: string, value: string, replace = false): Promise<void> {
  await waitForStep(title);
  if (replace) await pressKeys("Control+A");
  await typeText(value);
  await accept(title);
}
