// Decides what the webview does with each message of the host's open stream (preview, model,
// tensorChunk; see ToInspector): messages of an older load generation are dropped, a preview never
// replaces the model it precedes, and chunks are taken only after their model, in order.
import type { ToInspector } from "../../src/shared/inspectorProtocol";

export type StreamMessage = Extract<ToInspector, { type: "preview" | "model" | "tensorChunk" }>;
export type StreamAction = "show-preview" | "show-model" | "append" | "drop";

export class StreamGate {
  private generation = -1;
  private modelShown = false;
  /** Rows the current generation has so far (first page + chunks). */
  private rows = 0;

  admit(m: StreamMessage): StreamAction {
    switch (m.type) {
      case "preview":
        if (m.generation < this.generation || (m.generation === this.generation && this.modelShown)) return "drop";
        this.generation = m.generation;
        this.modelShown = false;
        this.rows = 0;
        return "show-preview";
      case "model":
        if (m.generation < this.generation) return "drop";
        this.generation = m.generation;
        this.modelShown = true;
        this.rows = m.firstTensors.names.length;
        return "show-model";
      case "tensorChunk":
        if (m.generation !== this.generation || !this.modelShown || m.offset !== this.rows) return "drop";
        this.rows += m.columns.names.length;
        return "append";
    }
  }

  /** Rows of the current model received so far. */
  get received(): number {
    return this.rows;
  }
}
