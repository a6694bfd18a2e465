// Typed access to the webview host API, with state persisted across hide/show and reloads.
interface VsCodeApi<State, Out> {
  postMessage(message: Out): void;
  getState(): State | undefined;
  setState(state: State): void;
}
declare function acquireVsCodeApi<State, Out>(): VsCodeApi<State, Out>;

let api: unknown;
export function vscodeApi<State, Out>(): VsCodeApi<State, Out> {
  api ??= acquireVsCodeApi<State, Out>();
  return api as VsCodeApi<State, Out>;
}
