// Public surface of the chat-template core (no vscode imports).
export * from "./types";
export { buildConversationSuite, DEFAULT_SPECIAL_TOKENS } from "./conversationSuite";
export type { SpecialTokens, SuiteConversation } from "./conversationSuite";
export { EngineSet, findStudioRoot, minjaExecutable, probeJinja2 } from "./engines";
export type { EngineAvailability, EngineSetOptions } from "./engines";
export { lintTemplate, verifyLintFixes } from "./linter";
export { auditTemplate } from "./audit";
export type { AuditOptions, AuditResult } from "./audit";
export type { LintOptions, LintResult } from "./linter";
export { runTemplateRules, TEMPLATE_RULES } from "./rules";
export type { TemplateRule } from "./rules";
export { verifyFix } from "./fixVerifier";
export { applyEdits, nonOverlapping } from "./edits";
export { scanTemplate, lineStarts, positionAt, offsetAt } from "./scanner";
export { locateEngineError } from "./errorLocation";
