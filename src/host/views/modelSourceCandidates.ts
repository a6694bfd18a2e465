// Where models may be, from the workspace folders and the settings: what the Models view lists and
// what the agent tools may read. One place, so the two never disagree.
import os from "node:os";
import * as vscode from "vscode";
import { candidateSources, type ModelSource } from "../../core/models/modelSources";
import type { StudioContext } from "../context";

export function modelSourceCandidates(ctx: StudioContext): ModelSource[] {
  const c = ctx.config;
  return candidateSources(
    {
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => ({ name: f.name, path: f.uri.fsPath })),
      modelFolders: c.modelFolders,
      scanHuggingFaceCache: c.scanHuggingFaceCache,
      scanLmStudio: c.scanLmStudio,
      scanLlamaCppCache: c.scanLlamaCppCache,
    },
    { home: os.homedir(), env: process.env, platform: process.platform },
  );
}
