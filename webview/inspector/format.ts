// Number formatting and type colours shared by the inspector's tabs.
import { formatBytes } from "../../src/shared/formatBytes";
export { formatBytes };

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** 1.2 B / 350 M / 12 K style, for parameter counts. */
export function formatShort(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toFixed(2)} T`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

export function formatBpw(bpw: number | undefined | null): string {
  return bpw === undefined || bpw === null || !Number.isFinite(bpw) ? "?" : bpw.toFixed(2);
}

/**
 * A colour per ggml type from its bits per weight: few bits are warm, many bits cool, float types
 * grey, so the quant mix reads at a glance in both light and dark themes.
 */
export function typeColour(typeName: string, bits: number | null | undefined): string {
  if (bits === null || bits === undefined) return "hsl(300 70% 55%)";
  if (/^(F32|F64|I\d+)$/.test(typeName)) return "hsl(210 8% 55%)";
  if (/^(F16|BF16)$/.test(typeName)) return "hsl(210 35% 55%)";
  // 1.5 bpw -> red (0), 8.5 bpw -> blue-green (190)
  const t = Math.max(0, Math.min(1, (bits - 1.5) / 7));
  const hue = Math.round(t * 190);
  return `hsl(${hue} 65% 50%)`;
}
