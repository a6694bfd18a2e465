// The only module that knows about @vscode/webview-ui-toolkit (archived upstream). Webviews import
// controls from here, so moving to a maintained successor is a change to this file alone.
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDataGrid,
  vsCodeDataGridCell,
  vsCodeDataGridRow,
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

let registered = false;

/** Registers the toolkit's web components once per webview. */
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDataGrid(),
    vsCodeDataGridCell(),
    vsCodeDataGridRow(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodePanels(),
    vsCodePanelTab(),
    vsCodePanelView(),
    vsCodeProgressRing(),
    vsCodeTag(),
    vsCodeTextField(),
  );
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
  const el = document.createElement(Controls[name]);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}
