// SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) for `template lint`,
// `template audit` and `inspect`, so CI systems and code-scanning dashboards show the findings:
// one run per command, rule metadata with default levels, and regions in the file that carries
// the text (the .jinja file, or the tokenizer_config.json string). A template inside a GGUF has
// no text region in the binary file: it is named by a logical location (the metadata key) and
// the line:column inside the template is given in the message.
import path from "node:path";
import { pathToFileURL } from "node:url";

export type SarifLevel = "error" | "warning" | "note" | "none";

export interface SarifRegion {
  /** 1-based, as SARIF requires. */
  readonly startLine: number;
  readonly startColumn: number;
  readonly endLine: number;
  readonly endColumn: number;
}

export interface SarifFinding {
  readonly ruleId: string;
  readonly level: SarifLevel;
  readonly message: string;
  /** The file the finding is in. */
  readonly file: string;
  readonly region?: SarifRegion;
  /** E.g. the GGUF metadata key holding the template. */
  readonly logicalLocation?: string;
  /** Extra machine-readable facts (engine, conversation, evidence). */
  readonly properties?: Record<string, string | number | boolean | null>;
}

export interface SarifRule {
  readonly id: string;
  readonly description: string;
  readonly level: SarifLevel;
}

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";

/** Severity of a GGUF Studio finding → SARIF level. */
export function sarifLevel(severity: string): SarifLevel {
  return severity === "error" ? "error" : severity === "warning" ? "warning" : "note";
}

/** A URI reference for a file: relative to `base` (the repository a CI checks out) when inside it, else file://. */
export function artifactUri(file: string, base: string): string {
  const abs = path.resolve(file);
  const rel = path.relative(base, abs);
  if (rel && !rel.startsWith("..") && !path.isAbsolute(rel)) return rel.split(path.sep).map(encodeURIComponent).join("/");
  return pathToFileURL(abs).href;
}

export function toSarif(tool: { name: string; version: string; informationUri?: string }, rules: readonly SarifRule[], findings: readonly SarifFinding[], base = process.cwd()): object {
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const allRules = [...rules];
  for (const f of findings) {
    if (!ruleIndex.has(f.ruleId)) {
      ruleIndex.set(f.ruleId, allRules.length);
      allRules.push({ id: f.ruleId, description: f.ruleId, level: f.level });
    }
  }
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            ...(tool.informationUri ? { informationUri: tool.informationUri } : {}),
            rules: allRules.map((r) => ({ id: r.id, shortDescription: { text: r.description }, defaultConfiguration: { level: r.level } })),
          },
        },
        columnKind: "utf16CodeUnits",
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: ruleIndex.get(f.ruleId),
          level: f.level,
          message: { text: f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: artifactUri(f.file, base) },
                ...(f.region ? { region: f.region } : {}),
              },
              ...(f.logicalLocation ? { logicalLocations: [{ name: f.logicalLocation, kind: "member" }] } : {}),
            },
          ],
          ...(f.properties ? { properties: f.properties } : {}),
        })),
      },
    ],
  };
}
