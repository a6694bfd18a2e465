import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "out/**", "node_modules/**", ".native/**", ".code-server/**", "bin/**", "test/fixtures/**", ".bench/**", ".studio/**"] },
  ...tseslint.configs.recommended,
  {
    files: ["src/core/**/*.ts", "src/cli/**/*.ts", "src/shared/**/*.ts", "webview/**/*.ts"],
    rules: {
      // The domain core, CLI, protocol and webviews must stay free of the vscode API.
      "no-restricted-imports": ["error", { paths: [{ name: "vscode", message: "Only src/host may import vscode." }] }],
    },
  },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
