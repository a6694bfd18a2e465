// The only module that knows about @vscode/webview-ui-toolkit (archived upstream). Webviews import
// controls from here, so moving to a maintained successor is a change to this file alone.
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeProgressRing,
  vsCodeTag,
  vsCodeTextField,
} from "@vscode/webview-ui-toolkit";

/** Each control's registration; a control is registered the first time one is created. */
const REGISTRATIONS = {
  button: vsCodeButton,
  checkbox: vsCodeCheckbox,
  dropdown: vsCodeDropdown,
  option: vsCodeOption,
  panels: vsCodePanels,
  panelTab: vsCodePanelTab,
  panelView: vsCodePanelView,
  progressRing: vsCodeProgressRing,
  tag: vsCodeTag,
  textField: vsCodeTextField,
  divider: vsCodeDivider,
} as const;

const registered = new Set<string>();

/** Registers every control up front. Optional: createControl registers each control on first use,
 * which is what the inspector relies on (its first frame pays only for the controls it shows). */
export function registerToolkit(): void {
  for (const name of Object.keys(REGISTRATIONS) as ControlName[]) ensureRegistered(name);
}

function ensureRegistered(name: ControlName): void {
  if (registered.has(name)) return;
  registered.add(name);
  provideVSCodeDesignSystem().register(REGISTRATIONS[name]());
}

/** Tag names of the wrapped controls, so webviews never spell the toolkit's prefix themselves. */
export const Controls = {
  button: "vscode-button",
  checkbox: "vscode-checkbox",
  dropdown: "vscode-dropdown",
  option: "vscode-option",
  panels: "vscode-panels",
  panelTab: "vscode-panel-tab",
  panelView: "vscode-panel-view",
  progressRing: "vscode-progress-ring",
  tag: "vscode-tag",
  textField: "vscode-text-field",
  divider: "vscode-divider",
} as const;

export type ControlName = keyof typeof Controls;

export function createControl(name: ControlName, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  ensureRegistered(name);
  const el = document.createElement(Controls[name]);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}
