// Pages and searches metadata arrays for the inspector. A 262k-token vocabulary stays on disk; a
// search reads it page by page and keeps only the matching indexes.
import { GgufArrayPager, GgufError, type GgufMetadataEntry, type GgufValue } from "../gguf";
import type { ArrayEntry } from "../../shared/inspectorProtocol";
import { formatMetadataValue } from "./inspectorData";

export interface ArrayPage {
  readonly offset: number;
  /** Matching entries (the array length when the query is empty). */
  readonly total: number;
  readonly arrayLength: number;
  readonly entries: ArrayEntry[];
}

/** Most entries one page may hold, whatever the webview asks for. */
export const MAX_ARRAY_PAGE = 2000;
/** Elements decoded at once while searching a lazy array. */
const SEARCH_PAGE = 8192;

export class MetadataArrayBrowser {
  private pager: GgufArrayPager | undefined;
  private readonly decoded = new Map<string, string[]>();
  private readonly lastSearch = new Map<string, { query: string; matches: number[] }>();
  /** Most elements of a lazy array decoded at once (searches read page by page; a benchmark and a test watch it). */
  largestRead = 0;

  /** `path` is the file holding `metadata` (the first shard of a split set). */
  constructor(
    private readonly path: string,
    private readonly metadata: ReadonlyMap<string, GgufMetadataEntry>,
  ) {}

  async page(key: string, offset: number, count: number, query: string): Promise<ArrayPage> {
    const entry = this.metadata.get(key);
    const value = entry?.value;
    if (!entry || typeof value !== "object") throw new GgufError("value-out-of-range", `metadata key ${key} is not an array`);
    const arrayLength = value.kind === "array" ? value.values.length : value.count;
    const start = Math.max(0, Math.floor(offset));
    const n = Math.max(0, Math.min(MAX_ARRAY_PAGE, Math.floor(count)));
    const q = query.trim().toLowerCase();
    if (q.length === 0) {
      const end = Math.min(arrayLength, start + n);
      const values = value.kind === "array" ? value.values.slice(start, end) : await this.readLazy(entry, start, end - start);
      return { offset: start, total: arrayLength, arrayLength, entries: values.map((v, i) => ({ index: start + i, value: formatMetadataValue(v) })) };
    }
    const matches = await this.matches(entry, q);
    const slice = matches.slice(start, start + n);
    const entries: ArrayEntry[] = [];
    for (const i of slice) entries.push({ index: i, value: await this.elementText(entry, i) });
    return { offset: start, total: matches.length, arrayLength, entries };
  }

  /** Indexes of the elements containing `q`. A lazy array is searched page by page: a 50M-element array is never decoded whole. */
  private async matches(entry: GgufMetadataEntry, q: string): Promise<number[]> {
    const cached = this.lastSearch.get(entry.key);
    if (cached && cached.query === q) return cached.matches;
    const v = entry.value;
    const matches: number[] = [];
    if (typeof v === "object") {
      const known = this.decoded.get(entry.key);
      if (v.kind === "array" || known) {
        const all = known ?? (v.kind === "array" ? v.values.map(formatMetadataValue) : []);
        for (let i = 0; i < all.length; i++) if (all[i].toLowerCase().includes(q)) matches.push(i);
      } else {
        for (let start = 0; start < v.count; start += SEARCH_PAGE) {
          const page = await this.readLazy(entry, start, Math.min(SEARCH_PAGE, v.count - start));
          this.largestRead = Math.max(this.largestRead, page.length);
          for (let i = 0; i < page.length; i++) if (formatMetadataValue(page[i]).toLowerCase().includes(q)) matches.push(start + i);
        }
      }
    }
    this.lastSearch.set(entry.key, { query: q, matches });
    return matches;
  }

  private async elementText(entry: GgufMetadataEntry, index: number): Promise<string> {
    const known = this.decoded.get(entry.key);
    if (known) return known[index];
    const v = entry.value;
    if (typeof v !== "object") return "";
    const one = v.kind === "array" ? v.values[index] : (await this.readLazy(entry, index, 1))[0];
    return formatMetadataValue(one);
  }

  /** Every element as display text (decodes a lazy array once, then serves it from memory). */
  allValues(key: string): Promise<string[]> {
    const entry = this.metadata.get(key);
    if (!entry) throw new GgufError("value-out-of-range", `no metadata key ${key}`);
    return this.allStrings(entry);
  }

  private async allStrings(entry: GgufMetadataEntry): Promise<string[]> {
    const cached = this.decoded.get(entry.key);
    if (cached) return cached;
    const v = entry.value;
    if (typeof v !== "object") return [];
    const values = v.kind === "array" ? v.values : await this.readLazy(entry, 0, v.count);
    const strings = values.map(formatMetadataValue);
    this.decoded.set(entry.key, strings);
    return strings;
  }

  private async readLazy(entry: GgufMetadataEntry, start: number, count: number): Promise<GgufValue[]> {
    const v = entry.value;
    if (typeof v !== "object" || v.kind !== "lazy-array") return [];
    this.pager ??= await GgufArrayPager.open(this.path);
    return this.pager.page(v, start, count);
  }

  async close(): Promise<void> {
    const p = this.pager;
    this.pager = undefined;
    this.decoded.clear();
    await p?.close();
  }
}
