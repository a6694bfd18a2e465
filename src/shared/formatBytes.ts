// The one byte-size formatter, shared by the host, the core's messages and the webviews.

/** "13.1 MiB"-style size: binary units, 2 significant decimals below 10, 1 below 100; "?" for negative. */
export function formatBytes(n: number): string {
  if (n < 0) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}
