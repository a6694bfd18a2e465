// Answers the workbench's QuickPicks and InputBoxes with key presses, as a user would, and checks
// that each answer was taken: a slow CI browser can drop an Enter that comes before the filter
// has applied, and a notification closing as the QuickPick opens can leave the keyboard focus
// elsewhere; either would leave a command waiting on its QuickPick until the test times out.
import { pressKeys, screenshot, typeText, waitForWorkbench, waitForWorkbenchGone, waitUntil, workbenchClick, workbenchText } from "./driver";

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

/** Puts the keyboard focus in the QuickPick's input box, so typed text and Enter reach it. */
export async function focusInput(): Promise<void> {
  await workbenchClick(`${QUICK_INPUT} .quick-input-box input`, undefined, 10_000);
}

/** Presses Enter until the step titled `title` has gone (once more if the first Enter was dropped). */
export async function accept(title: string): Promise<void> {
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
  await focusInput();
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
  await focusInput();
  if (replace) await pressKeys("Control+A");
  await typeText(value);
  await accept(title);
}
