// The chat-template preview panel as a feature of its own (the panel owns its engines).
import type { Feature } from "../context";
import { previewTemplate } from "./templatePreviewPanel";

export const templatePreviewFeature: Feature = {
  commands: {
    "ggufStudio.previewTemplate": (ctx, arg) => previewTemplate(ctx, arg),
  },
};
